"""Cassettes: record exchanges, replay them without any server, fail clearly on a miss."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fnreg.errors import ConfigError
from fnreg.llm import LLMClient, ReplayMiss, request_key
from fnreg.testing.server import tool_call

from .conftest import USER, fast_settings


def _ask(i: int) -> list[dict]:
    return [{"role": "user", "content": f"task {i}: what is {i} + {i}?"}]


def _shape(completion) -> tuple:
    return (completion.content, [(c.id, c.name, c.arguments) for c in completion.tool_calls], completion.finish_reason)


def test_record_then_replay_with_the_server_stopped(serve, connect, tmp_path: Path) -> None:
    cassette = tmp_path / "run.jsonl"
    server = serve(
        lambda request: (
            tool_call("add", {"q": request["messages"][-1]["content"]})
            if "7" in request["messages"][-1]["content"]
            else "no tool"
        )
    )
    recording = connect(server, record_path=cassette, concurrency=8)
    first = recording.complete(USER)
    with ThreadPoolExecutor(8) as pool:  # concurrent tasks, recorded in whatever order they finish
        recorded = list(pool.map(lambda i: _shape(recording.complete(_ask(i))), range(16)))
    recording.close()
    server.stop()

    lines = [json.loads(line) for line in cassette.read_text().splitlines()]
    assert len(lines) == 17 and set(lines[0]) == {"key", "request", "response"}
    assert lines[0]["key"] == request_key(lines[0]["request"])

    replaying = connect(None, replay_path=cassette, concurrency=8)  # no base_url, no key, no server
    with ThreadPoolExecutor(8) as pool:
        replayed = list(pool.map(lambda i: _shape(replaying.complete(_ask(15 - i))), range(16)))
    assert replayed[::-1] == recorded  # matched by request, not by order
    again = replaying.complete(USER)
    assert _shape(again) == _shape(first) and again.cached
    assert again.usage.prompt_tokens == first.usage.prompt_tokens and again.usage.cost_usd == 0.0


def test_repeated_requests_replay_in_recorded_order(serve, connect, tmp_path: Path) -> None:
    cassette = tmp_path / "run.jsonl"
    server = serve(script=["first", "second"])
    recording = connect(server, record_path=cassette)
    assert [recording.complete(USER, temperature=1).content for _ in range(2)] == ["first", "second"]
    recording.close()
    replaying = connect(None, replay_path=cassette)
    assert [replaying.complete(USER, temperature=1).content for _ in range(3)] == ["first", "second", "second"]


def test_cached_answers_are_recorded_too(serve, connect, tmp_path: Path) -> None:
    cassette = tmp_path / "run.jsonl"
    server = serve()
    client = connect(server, record_path=cassette, cache_path=tmp_path / "cache.sqlite")
    client.complete(USER)
    client.complete(USER)
    client.close()
    assert len(cassette.read_text().splitlines()) == 2  # a replay must not depend on the cache


def test_replay_miss_names_the_request_and_the_cassette(serve, connect, tmp_path: Path) -> None:
    cassette = tmp_path / "run.jsonl"
    server = serve()
    recording = connect(server, record_path=cassette)
    recording.complete(USER)
    recording.close()
    replaying = connect(None, replay_path=cassette)
    question = "Solve the problem. " + "x" * 200
    with pytest.raises(ReplayMiss) as error:
        replaying.complete([{"role": "user", "content": question}])
    message = str(error.value)
    assert str(cassette) in message and "'scripted-model'" in message
    assert "Solve the problem. xxx" in message and "x" * 100 not in message
    key = request_key(
        {"model": "scripted-model", "messages": [{"role": "user", "content": question}], "temperature": 0.0}
    )
    assert key[:12] in message


def test_torn_last_line_is_skipped(serve, connect, tmp_path: Path) -> None:
    cassette = tmp_path / "run.jsonl"
    server = serve()
    recording = connect(server, record_path=cassette)
    recording.complete(USER)
    recording.close()
    with cassette.open("a") as f:
        f.write('{"key": "abc", "request": {"mod')  # a process killed mid-line
    assert connect(None, replay_path=cassette).complete(USER).content == "echo: What is 2 + 2?"


def test_missing_cassette_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="replay cassette not found"):
        LLMClient(fast_settings(replay_path=tmp_path / "nope.jsonl"))
