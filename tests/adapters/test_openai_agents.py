"""The OpenAI Agents SDK adapter with the real `openai-agents` package and a real agent run.

The model is fnreg's loopback chat-completions server (scripted replies), reached through the
real `openai` client; the tools run in fnreg's sandbox.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from fnreg.testing.server import text, tool_call
from tests.serve.conftest import fnreg_cli

agents = pytest.importorskip(
    "agents", reason="the openai-agents extra is not installed: pip install -e '.[openai-agents]'"
)
from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402

from fnreg.adapters.openai_agents import tools  # noqa: E402


@pytest.fixture(autouse=True)
def _no_tracing() -> None:
    set_tracing_disabled(True)  # the SDK would export traces to OpenAI otherwise


def run_agent(server, function_tools, prompt: str):
    model = OpenAIChatCompletionsModel(
        "scripted-model", openai_client=AsyncOpenAI(base_url=server.base_url, api_key="test-key")
    )
    agent = Agent(name="solver", instructions="Use the tools.", tools=function_tools, model=model)
    return Runner.run_sync(agent, prompt)


def test_tools_have_the_schemas_of_fnreg_tools(repo: Path):
    function_tools = tools("demo", ref="v1", repo=repo, workers=1)
    expected = json.loads(fnreg_cli(repo, "tools", "--toolset", "demo", "--ref", "v1").stdout)
    assert [
        {"name": t.name, "description": t.description, "parameters": t.params_json_schema} for t in function_tools
    ] == [tool["function"] for tool in expected]
    assert all(isinstance(t, agents.FunctionTool) and not t.strict_json_schema for t in function_tools)


def test_an_agent_calls_a_trained_tool_in_the_sandbox(repo: Path, serve):
    server = serve(
        script=[
            tool_call("add", {"a": 2, "b": 3}),
            tool_call("add", {"a": "two"}),
            tool_call("divide", {"a": 1, "b": 0}),
            text("The sum is 5."),
        ]
    )
    result = run_agent(server, tools("demo", ref="v1", repo=repo, workers=1), "What is 2 + 3?")
    assert result.final_output == "The sum is 5."
    sent = [m for m in server.requests[-1]["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in sent[:2]] == [
        "5",
        "invalid arguments for add: argument 'a': 'two' is not of type 'integer'",
    ]
    assert sent[2]["content"].startswith("ZeroDivisionError: division by zero\nTraceback")
    assert {t["function"]["name"] for t in server.requests[0]["tools"]} >= {"add", "divide", "stats"}
    assert not any(name.startswith("registry.demo") for name in sys.modules)  # learned code never ran here
