"""The concurrency limit holds across threads sharing one client."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import USER


@pytest.mark.parametrize("limit", [1, 4, 16])
def test_in_flight_never_exceeds_the_limit(serve, connect, limit: int) -> None:
    # Long enough that all `limit` requests overlap even on a busy two-core machine.
    latency = 0.03 + 0.01 * limit
    server = serve(latency=latency)
    client = connect(server, concurrency=limit)
    started = time.monotonic()
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda i: client.complete([{"role": "user", "content": str(i)}]).content, range(32)))
    elapsed = time.monotonic() - started
    assert answers == [f"echo: {i}" for i in range(32)]
    assert server.max_in_flight == limit  # reached, never exceeded
    assert elapsed >= latency * 32 / limit * 0.9  # ...so the wall time follows the limit


def test_backing_off_requests_release_their_slot(serve, connect) -> None:
    from fnreg.testing.server import Fault

    def policy(request: dict):
        first = len(server.requests) == 1
        return Fault(status=429, retry_after=2.0) if first else "echo: " + request["messages"][-1]["content"]

    server = serve(policy)
    client = connect(server, concurrency=1)
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(client.complete, USER)  # gets the 429, then waits 2 s
        time.sleep(0.2)
        started = time.monotonic()
        fast = pool.submit(client.complete, [{"role": "user", "content": "other"}])
        assert fast.result(timeout=5).content == "echo: other"
        assert time.monotonic() - started < 1.5  # did not wait for the backing-off request
        assert slow.result(timeout=5).content == "echo: What is 2 + 2?"
