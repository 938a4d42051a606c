"""CallThreads: blocking calls off the event loop, in daemon threads that a cancelled wait abandons."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from fnreg.serve.threads import CallThreads


def test_calls_run_side_by_side_off_the_event_loop():
    threads = CallThreads()
    loop_thread = threading.get_ident()

    def work(seconds: float) -> tuple[int, bool]:
        time.sleep(seconds)
        return threading.get_ident(), threading.current_thread().daemon

    async def main():
        results = []

        async def one() -> None:
            results.append(await threads.run(work, 0.5))

        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(one)
        return results, time.monotonic() - started

    results, elapsed = anyio.run(main)
    assert len({ident for ident, _ in results}) == 4 and loop_thread not in {ident for ident, _ in results}
    assert all(daemon for _, daemon in results)
    assert elapsed < 1.9  # four half-second calls at once, not one after another


def test_errors_reach_the_caller_and_threads_are_reused():
    threads = CallThreads()

    def fail() -> None:
        raise ValueError("no")

    async def main():
        with pytest.raises(ValueError, match="no"):
            await threads.run(fail)
        return {await threads.run(threading.get_ident) for _ in range(5)}

    assert len(anyio.run(main)) == 1  # one thread served the calls one after another


def test_a_cancelled_wait_abandons_the_call_without_blocking_the_loop():
    threads = CallThreads()
    release = threading.Event()

    async def main():
        with anyio.move_on_after(0.2):
            await threads.run(release.wait, 30)
        answer = await threads.run(lambda: 42)  # another thread: the first is still blocked
        release.set()
        return answer

    started = time.monotonic()
    assert anyio.run(main) == 42
    assert time.monotonic() - started < 5


def test_idle_threads_end():
    threads = CallThreads(idle_seconds=0.2)

    async def main():
        return await threads.run(threading.current_thread)

    worker = anyio.run(main)
    worker.join(timeout=10)
    assert not worker.is_alive()
