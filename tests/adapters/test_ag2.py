"""The AG2 adapter with the real `ag2` package: a real two-agent chat whose tool calls run in the sandbox.

The model is fnreg's loopback chat-completions server (scripted replies), reached through
AG2's own OpenAI client.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from fnreg.testing.server import text, tool_call
from tests.serve.conftest import fnreg_cli

autogen = pytest.importorskip("autogen", reason="the ag2 extra is not installed: pip install -e '.[ag2]'")

from fnreg.adapters.ag2 import register  # noqa: E402


def agents_for(server):
    llm_config = {
        "config_list": [{"model": "scripted-model", "base_url": server.base_url, "api_key": "test-key"}],
        "cache_seed": None,
    }
    assistant = autogen.AssistantAgent("assistant", llm_config=llm_config)
    user = autogen.UserProxyAgent(
        "user",
        human_input_mode="NEVER",
        code_execution_config=False,
        is_termination_msg=lambda message: "TERMINATE" in (message.get("content") or ""),
        max_consecutive_auto_reply=5,
    )
    return assistant, user


def test_register_offers_the_schemas_of_fnreg_tools(repo: Path, serve):
    assistant, user = agents_for(serve())
    with register("demo", caller=assistant, executor=user, ref="v1", repo=repo, workers=1) as served:
        expected = json.loads(fnreg_cli(repo, "tools", "--toolset", "demo", "--ref", "v1").stdout)
        assert assistant.llm_config["tools"] == expected
        assert set(user.function_map) == set(served.toolset.names)


def test_a_chat_runs_trained_tools_in_the_sandbox(repo: Path, serve):
    server = serve(
        script=[
            tool_call("add", {"a": 2, "b": 3}),
            tool_call("stats", {"values": "not a list"}),
            tool_call("crash", {}),
            text("5 TERMINATE"),
        ]
    )
    assistant, user = agents_for(server)
    with register("demo", caller=assistant, executor=user, ref="v1", repo=repo, workers=1):
        user.initiate_chat(assistant, message="What is 2 + 3?", max_turns=4)
    results = [m["content"] for m in server.requests[-1]["messages"] if m["role"] == "tool"]
    assert results[0] == "5"
    assert results[1] == "invalid arguments for stats: argument 'values': 'not a list' is not of type 'array'"
    assert "SIGKILL" in results[2]  # the worker died; the chat went on
    assert len(server.requests) == 4
    assert not any(name.startswith("registry.demo") for name in sys.modules)  # learned code never ran here
