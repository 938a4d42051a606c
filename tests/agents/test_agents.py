"""Both agents against the loopback server (real openai client) with a real sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fnreg.agents import AgentLimits, ReactAgent, ToolsAgent, parse_reply
from fnreg.agents.react_agent import arguments_for
from fnreg.llm import LLMClient, LLMSettings
from fnreg.sandbox import Sandbox
from fnreg.testing.server import ChatServer, Message, text, tool_call

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "double",
            "description": "Double a number.",
            "parameters": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]},
        },
    }
]


@pytest.fixture
def checkout(public_tmp: Path) -> Path:
    root = public_tmp / "checkout"
    (root / "registry" / "demo").mkdir(parents=True)
    (root / "registry" / "__init__.py").write_text("")
    (root / "registry" / "demo" / "__init__.py").write_text("from .double import double\n")
    (root / "registry" / "demo" / "double.py").write_text(
        "def double(x: float):\n    '''Double a number.'''\n    if x < 0:\n        raise ValueError('negative input')\n    return 2 * x\n"
    )
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


@pytest.fixture
def sandbox(checkout: Path):
    with Sandbox(checkout, toolset="demo") as box:
        yield box


def client_for(server: ChatServer) -> LLMClient:
    return LLMClient(LLMSettings(base_url=server.base_url, model="scripted", backoff_base=0.001))


def test_tools_agent_calls_learned_function_and_python(sandbox: Sandbox):
    script = [
        Message(tool_calls=[tool_call("double", {"x": 21}), tool_call("python", {"code": "y = 5\ny * 3"})]),
        tool_call("python", {"code": "y + 1"}),  # notebook state kept within the task
        text("The answer is \\boxed{42}."),
    ]
    with ChatServer(script=script) as server, sandbox.session() as session:
        conversation = ToolsAgent(client_for(server)).solve("What is 21 doubled?", TOOLS, session)
        sent_tools = [t["function"]["name"] for t in server.requests[0]["tools"]]
    assert conversation.stop_reason == "answer"
    assert conversation.final_answer == "The answer is \\boxed{42}."
    tool_messages = [m["content"] for m in conversation.messages if m["role"] == "tool"]
    assert tool_messages == ["42", "15", "6"]
    assert sent_tools == ["double", "python"]
    assert conversation.tool_calls == 3 and conversation.tool_errors == 0
    assert conversation.usage.calls == 3


def test_tool_errors_are_shown_to_the_model(sandbox: Sandbox):
    script = [
        tool_call("double", {"x": -1}),
        tool_call("missing_tool", {}),
        tool_call("double", "{not json"),
        text("I give up"),
    ]
    with ChatServer(script=script) as server, sandbox.session() as session:
        conversation = ToolsAgent(client_for(server)).solve("q", TOOLS, session)
        second_request = server.requests[1]["messages"]
    results = [m["content"] for m in conversation.messages if m["role"] == "tool"]
    assert "ValueError: negative input" in results[0]
    assert "no tool named 'missing_tool'" in results[1] and "double" in results[1]
    assert "not valid JSON" in results[2]
    assert conversation.tool_errors == 3
    assert second_request[-1]["role"] == "tool" and "ValueError" in second_request[-1]["content"]


def test_turn_limit_is_a_failed_task_not_a_hang(sandbox: Sandbox):
    with ChatServer(policy=lambda request: tool_call("python", {"code": "1"})) as server, sandbox.session() as session:
        conversation = ToolsAgent(client_for(server), limits=AgentLimits(max_turns=3)).solve("loop", TOOLS, session)
        assert len(server.requests) == 3
    assert conversation.stop_reason == "turn_limit"


def test_token_limit(sandbox: Sandbox):
    big = Message(tool_calls=[tool_call("python", {"code": "1"})], usage=(600, 10))
    with ChatServer(policy=lambda request: big) as server, sandbox.session() as session:
        conversation = ToolsAgent(client_for(server), limits=AgentLimits(max_tokens=1000)).solve("q", TOOLS, session)
    assert conversation.stop_reason == "token_limit"
    assert conversation.usage.calls == 2


def test_conversation_round_trips_through_json(sandbox: Sandbox):
    with ChatServer(script=[tool_call("double", {"x": 2}), text("\\boxed{4}")]) as server, sandbox.session() as session:
        conversation = ToolsAgent(client_for(server)).solve("q", TOOLS, session)
    from fnreg.agents import Conversation

    again = Conversation.from_json(json.loads(json.dumps(conversation.to_json())))
    assert again.messages == conversation.messages and again.usage == conversation.usage


# ------------------------------------------------------------------ ReAct

SLOPPY_REPLIES = {
    "plain": ('Thought: use it\nAction: double\nAction Input: {"x": 2}', ("double", '{"x": 2}', None)),
    "markdown bold": (
        '**Thought:** hm\n**Action:** `double`\n**Action Input:** {"x": 2}',
        ("double", '{"x": 2}', None),
    ),
    "lower case": ('thought: ok\naction: double\naction input: {"x": 2}', ("double", '{"x": 2}', None)),
    "code fence": ("Action: python\nAction Input:\n```python\nprint(1)\n```", ("python", "print(1)", None)),
    "call syntax": ('Action: double({"x": 3})', ("double", '{"x": 3}', None)),
    "invented observation": (
        'Action: double\nAction Input: {"x": 2}\nObservation: 5\nThought: done\nFinal Answer: 5',
        ("double", '{"x": 2}', None),
    ),
    "final answer": ("Thought: I know\nFinal Answer: \\boxed{7}", (None, "", "\\boxed{7}")),
    "final_answer underscore": ("final_answer: 9", (None, "", "9")),
    "nothing": ("Let me think about it.", (None, "", None)),
    # The paper's ReAct template numbers its steps.
    "numbered": (
        'Thought 1: double it\nAction 1: double\nAction 1 Input: {"x": 2}\nObservation 1: 4',
        ("double", '{"x": 2}', None),
    ),
    "numbered, input numbered last": ('Action 2: double\nAction Input 2: {"x": 5}', ("double", '{"x": 5}', None)),
    "numbered final answer": ("Thought 3: done\nFinal Answer: \\boxed{4}", (None, "", "\\boxed{4}")),
}


@pytest.mark.parametrize("reply,expected", SLOPPY_REPLIES.values(), ids=SLOPPY_REPLIES.keys())
def test_react_parsing_forgives_sloppy_output(reply, expected):
    step = parse_reply(reply)
    assert (step.action, step.action_input, step.final_answer) == expected


def test_react_arguments():
    assert arguments_for(TOOLS[0], "double", "4") == {"x": 4}
    assert arguments_for(None, "python", "print(2)") == {"code": "print(2)"}
    assert "must be a JSON object" in arguments_for(
        {"function": {"parameters": {"properties": {"a": {}, "b": {}}}}}, "f", "1 2"
    )


def test_react_agent_end_to_end(sandbox: Sandbox):
    script = [
        'Thought: double it\nAction: double\nAction Input: {"x": 21}\nObservation: (made up)',
        "I am confused",
        "Thought: now python\nAction: python\nAction Input: print(6 * 7)",
        "Thought: I now know the final answer\nFinal Answer: \\boxed{42}",
    ]
    with ChatServer(script=script) as server, sandbox.session() as session:
        conversation = ReactAgent(client_for(server)).solve("What is 21 doubled?", TOOLS, session)
        system = server.requests[0]["messages"][0]["content"]
        assert "tools" not in server.requests[0]  # plain text only, for endpoints without tool calling
    assert "double" in system and "Final Answer" in system
    observations = [m["content"] for m in conversation.messages if m["role"] == "user"][1:]
    assert observations[0] == "Observation: 42"
    assert observations[1].startswith("Observation: Invalid format")
    assert observations[2] == "Observation: 42"
    assert "(made up)" not in conversation.messages[2]["content"]
    assert conversation.final_answer == "\\boxed{42}" and conversation.stop_reason == "answer"


def test_react_agent_follows_the_numbered_template_end_to_end(sandbox: Sandbox):
    script = [
        'Thought 1: double it\nAction 1: double\nAction 1 Input: {"x": 21}',
        "Thought 2: I now know the final answer\nFinal Answer: \\boxed{42}",
    ]
    with ChatServer(script=script) as server, sandbox.session() as session:
        conversation = ReactAgent(client_for(server)).solve("What is 21 doubled?", TOOLS, session)
    assert conversation.messages[3] == {"role": "user", "content": "Observation: 42"}
    assert conversation.tool_calls == 1 and conversation.tool_errors == 0
    assert conversation.final_answer == "\\boxed{42}"


def test_a_task_set_sets_the_system_prompt_and_the_turn_limit(public_tmp: Path, checkout: Path):
    from fnreg.evaluation import TaskSetAdapter, load_task_set

    folder = public_tmp / "tasks" / "doubling"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text(json.dumps({"question": "Double 21.", "answer": 42}) + "\n")
    (folder / "task.toml").write_text(
        'toolset = "demo"\nevaluator = "numeric"\ntrain = "train.jsonl"\nmax_turns = 2\n'
        "system_prompt = 'You are MathChat. Write Python when it helps.'\n"
    )
    task_set = load_task_set(folder, public_tmp)
    looping = [tool_call("python", {"code": "1"})] * 5  # never answers: the task's limit stops it
    with ChatServer(script=looping) as server:
        client = client_for(server)
        adapter = TaskSetAdapter(task_set, client, concurrency=1, agent_limits=AgentLimits(max_turns=10))
        (result,) = list(adapter.evaluate(checkout, task_set.split("train")))
        assert len(server.requests) == 2  # task.toml's max_turns beat the run's 10
        assert server.requests[0]["messages"][0] == {
            "role": "system",
            "content": "You are MathChat. Write Python when it helps.",
        }
    assert result.failure == "turn_limit"
