"""The SQLite response cache: pays once per identical request, safe for threads and processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from fnreg.llm import ResponseCache
from fnreg.testing.server import tool_call

from .conftest import USER


def test_identical_request_costs_one_http_request(serve, connect, tmp_path: Path) -> None:
    server = serve()
    client = connect(server, cache_path=tmp_path / "cache.sqlite", prices={"scripted-model": (1.0, 2.0)})
    first, second = client.complete(USER), client.complete(USER)
    assert len(server.requests) == 1
    assert not first.cached
    assert second.cached and second.content == first.content and second.usage.cost_usd == 0.0
    total = client.usage.total
    assert (total.calls, total.cached_calls) == (2, 1)
    assert total.cost_usd == first.usage.cost_usd
    assert total.billed_tokens == first.usage.total_tokens


def test_any_change_in_the_request_misses(serve, connect, tmp_path: Path) -> None:
    server = serve()
    client = connect(server, cache_path=tmp_path / "cache.sqlite")
    client.complete(USER)
    client.complete(USER, tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])
    client.complete(USER, model="other")
    client.complete(USER, max_tokens=9)
    client.complete([{"role": "user", "content": "What is 2 + 3?"}])
    assert len(server.requests) == 5


def test_temperature_above_zero_is_never_cached(serve, connect, tmp_path: Path) -> None:
    server = serve()
    client = connect(server, cache_path=tmp_path / "cache.sqlite")
    assert not client.complete(USER, temperature=0.7).cached
    assert not client.complete(USER, temperature=0.7).cached
    assert len(server.requests) == 2


def test_cache_survives_the_client_and_keeps_tool_calls(serve, connect, tmp_path: Path) -> None:
    server = serve(script=[tool_call("add", {"a": 1})])
    path = tmp_path / "cache.sqlite"
    first = connect(server, cache_path=path).complete(USER)
    again = connect(server, cache_path=path).complete(USER)  # a new client, e.g. a resumed run
    assert again.cached and again.tool_calls == first.tool_calls
    assert len(server.requests) == 1


def test_sixteen_threads_share_the_cache(serve, connect, tmp_path: Path) -> None:
    server = serve()
    client = connect(server, cache_path=tmp_path / "cache.sqlite", concurrency=16)
    errors: list[BaseException] = []
    questions = [[{"role": "user", "content": f"q{i % 8}"}] for i in range(64)]

    def work(chunk: list) -> None:
        try:
            for messages in chunk:
                assert client.complete(messages).content == "echo: " + messages[0]["content"]
        except BaseException as exc:  # reported below, with the thread's traceback lost otherwise
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(questions[i::16],)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert 8 <= len(server.requests) <= 64  # concurrent identical misses may both ask
    assert client.usage.total.calls == 64
    # A second pass is answered entirely from the cache.
    before = len(server.requests)
    for messages in questions[:8]:
        assert client.complete(messages).cached
    assert len(server.requests) == before


_WRITER = """
import sys
from fnreg.llm import ResponseCache
cache = ResponseCache(sys.argv[1])
for i in range(200):
    cache.put(f"{sys.argv[2]}-{i}", "m", {"i": i})
    assert cache.get(f"{sys.argv[2]}-{i}") == {"i": i}
"""


def test_two_processes_share_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), name]) for name in ("a", "b")]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    cache = ResponseCache(path)
    assert len(cache) == 400 and cache.get("b-199") == {"i": 199}
    cache.close()
