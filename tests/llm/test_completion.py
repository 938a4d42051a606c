"""Completions and tool calls as the agents see them."""

from __future__ import annotations

import json

import pytest

from fnreg.llm import Completion, MalformedCompletion, ToolCall
from fnreg.testing.server import FunctionCall, Message, tool_call

from .conftest import USER

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two numbers.",
            "parameters": {"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"]},
        },
    }
]


def test_several_tool_calls_in_one_message(serve, connect) -> None:
    reply = Message(
        content="Let me compute.", tool_calls=[tool_call("add", {"a": 1, "b": 2}), tool_call("neg", {"x": 3})]
    )
    server = serve(script=[reply])
    completion = connect(server).complete(USER, tools=TOOLS, tool_choice="auto")
    assert completion.finish_reason == "tool_calls"
    assert completion.content == "Let me compute."
    assert [(c.name, c.parsed_arguments()) for c in completion.tool_calls] == [
        ("add", {"a": 1, "b": 2}),
        ("neg", {"x": 3}),
    ]
    assert len({c.id for c in completion.tool_calls}) == 2
    sent = server.requests[0]
    assert sent["tools"] == TOOLS and sent["tool_choice"] == "auto" and sent["temperature"] == 0


def test_message_round_trips_into_the_next_request(serve, connect) -> None:
    server = serve(script=[tool_call("add", {"a": 1}, id="call_1"), "The answer is 1."])
    client = connect(server)
    first = client.complete(USER, tools=TOOLS)
    conversation = [*USER, first.message(), {"role": "tool", "tool_call_id": "call_1", "content": "1"}]
    assert first.message() == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}],
    }
    second = client.complete(conversation, tools=TOOLS)
    assert second.content == "The answer is 1." and second.tool_calls == []
    assert second.message() == {"role": "assistant", "content": "The answer is 1."}
    assert server.requests[1]["messages"][1]["tool_calls"][0]["id"] == "call_1"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ('{"a": 1', "not valid JSON"),
        ("[1, 2]", "must be a JSON object, got list"),
        ('"x"', "got str"),
        ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "nested more than 100 levels deep"),
        ('{"a": ' + "1" * 5000 + "}", "not usable JSON"),
    ],
    ids=["truncated", "array", "string", "nested-5000-deep", "huge-number"],
)
def test_invalid_arguments_raise_on_parse(serve, connect, raw: str, why: str) -> None:
    server = serve(script=[Message(tool_calls=[FunctionCall("add", raw)])])
    completion = connect(server).complete(USER, tools=TOOLS)
    assert completion.tool_calls[0].arguments == raw  # kept verbatim for the conversation
    with pytest.raises(MalformedCompletion, match=why) as error:
        completion.tool_calls[0].parsed_arguments()
    assert "'add'" in str(error.value) and "\n" not in str(error.value)


def test_empty_arguments_mean_no_arguments() -> None:
    assert ToolCall(id="c", name="now", arguments="").parsed_arguments() == {}


def test_content_free_message_is_still_valid() -> None:
    assert Completion(content=None).message() == {"role": "assistant", "content": ""}


def test_local_server_quirks_are_normalised(serve, connect) -> None:
    # Ollama-style: arguments as an object, no call id; old servers: function_call.
    body = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"function": {"name": "add", "arguments": {"a": 2}}}],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    legacy = {"choices": [{"message": {"role": "assistant", "function_call": {"name": "neg", "arguments": "{}"}}}]}
    from fnreg.testing.server import Fault

    server = serve(script=[Fault(body=json.dumps(body)), Fault(body=json.dumps(legacy))])
    client = connect(server)
    call = client.complete(USER).tool_calls[0]
    assert call.parsed_arguments() == {"a": 2} and call.id.startswith("call_")
    assert client.complete(USER).tool_calls[0].name == "neg"
    assert client.usage.total.prompt_tokens > 0  # no usage block: estimated


def test_optimizer_role_uses_the_optimizer_model(serve, connect) -> None:
    server = serve()
    client = connect(server, optimizer_model="big-model")
    client.complete(USER, role="optimizer")
    client.complete(USER)
    client.complete(USER, model="explicit", max_tokens=5)
    assert [r["model"] for r in server.requests] == ["big-model", "scripted-model", "explicit"]
    assert server.requests[2]["max_tokens"] == 5 and "max_tokens" not in server.requests[0]
