"""The SQLite response cache: pays once per identical request, safe for threads and processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

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


# ----------------------------------------------------------------------------- the endpoint is part of the key


def test_two_endpoints_serving_the_same_model_never_share_an_answer(serve, connect, tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    a, b = serve(script=["A's answer"]), serve(script=["B's answer"])
    assert connect(a, cache_path=path).complete(USER).content == "A's answer"
    from_b = connect(b, cache_path=path).complete(USER)
    assert from_b.content == "B's answer" and not from_b.cached
    assert len(a.requests) == len(b.requests) == 1
    again = connect(a, cache_path=path).complete(USER)  # each endpoint keeps its own
    assert again.cached and again.content == "A's answer"


def test_spellings_of_one_base_url_share_answers(serve, connect, tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    server = serve()
    connect(server, cache_path=path).complete(USER)
    for spelling in (server.base_url + "/", server.base_url.replace("http://", "HTTP://"), server.base_url + "//"):
        assert connect(server, cache_path=path, base_url=spelling).complete(USER).cached
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "setting",
    [{"organization": "org-a"}, {"project": "proj-a"}, {"cache_namespace": "team-a"}],
    ids=["organization", "project", "namespace"],
)
def test_organisation_project_and_namespace_keep_answers_apart(serve, connect, tmp_path: Path, setting) -> None:
    path = tmp_path / "cache.sqlite"
    server = serve()
    connect(server, cache_path=path).complete(USER)
    assert not connect(server, cache_path=path, **setting).complete(USER).cached
    assert connect(server, cache_path=path, **setting).complete(USER).cached
    assert len(server.requests) == 2


def test_the_api_version_is_part_of_the_key(serve, connect, tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    server = serve()
    azure = {"base_url": server.base_url.removesuffix("/v1"), "api_key": "k", "model": "deployment"}
    connect(None, cache_path=path, api_version="2024-06-01", **azure).complete(USER)
    assert not connect(None, cache_path=path, api_version="2024-10-21", **azure).complete(USER).cached
    assert connect(None, cache_path=path, api_version="2024-06-01", **azure).complete(USER).cached
    assert len(server.requests) == 2


def test_cassette_keys_stay_the_request_alone() -> None:
    from fnreg.llm import request_key

    request = {"model": "m", "messages": USER, "temperature": 0}
    assert request_key(request) == request_key(dict(request))
    assert request_key(request) != request_key(request, endpoint="https://a.example/v1")
    assert request_key(request, endpoint="x", repeat=1) != request_key(request, endpoint="x", repeat=2)


def test_stats_prune_and_clear(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    for i in range(3):
        cache.put(f"k{i}", "gpt-4o-mini", {"i": i}, endpoint="https://api.openai.com/v1")
    cache.put("local", "qwen", {"i": 9}, endpoint="http://localhost:11434/v1")
    stats = cache.stats()
    assert stats.answers == 4 and stats.size_bytes > 0
    assert list(stats.groups) == [("https://api.openai.com/v1", "gpt-4o-mini"), ("http://localhost:11434/v1", "qwen")]
    assert stats.groups[("https://api.openai.com/v1", "gpt-4o-mini")][0] == 3
    with cache._statement() as conn:  # age two answers by 40 days
        conn.execute("UPDATE answers SET created = created - 40 * 86400 WHERE key IN ('k0', 'k1')")
    assert cache.prune(30 * 86400) == 2
    assert cache.get("k0") is None and cache.get("k2") == {"i": 2} and len(cache) == 2
    assert cache.clear() == 2 and len(cache) == 0
    cache.close()
