"""Daemon threads that make blocking sandbox calls for an asyncio event loop."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class CallThreads:
    """Daemon threads that make blocking sandbox calls while the event loop serves other requests.

    Daemons, and abandoned when a wait is cancelled: a call stuck until its wall-clock limit
    neither delays a stopping server nor its exit (the sandbox ends that worker as the process
    exits). Kept between calls, because starting a thread per call costs as much as a good part
    of the MCP layer; a thread idle for ``idle_seconds`` ends.
    """

    def __init__(self, idle_seconds: float = 60.0) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a job that no submitted job has claimed yet
        self._idle_seconds = idle_seconds

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in one of the threads; the caller's task waits without blocking the loop."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        with self._lock:
            claimed = self._idle > 0
            if claimed:
                self._idle -= 1
        if not claimed:
            threading.Thread(target=self._work, name="fnreg-serve-call", daemon=True).start()
        self._jobs.put((function, args, future))
        return await future

    def _work(self) -> None:
        while True:
            try:
                function, args, future = self._jobs.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # nobody claimed this thread: it may go
                        self._idle -= 1
                        return
                continue  # a job was submitted for it just now
            try:
                value, error = function(*args), None
            except BaseException as exc:  # handed to the waiting task
                value, error = None, exc
            with self._lock:  # idle before the caller resumes, so that its next call reuses this thread
                self._idle += 1
            try:
                future.get_loop().call_soon_threadsafe(_settle, future, value, error)
            except RuntimeError:
                pass  # the event loop has ended (the server stopped): nobody waits any more


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the waiting task was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
