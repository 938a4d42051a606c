"""The math-verify worker processes: answer checking bounded in time and memory.

math-verify's own timeouts use SIGALRM, which only works in the main thread, and sympy can
hang or eat gigabytes on inputs such as ``9^{9^{9}}``. So checks run in a few persistent
worker processes (math-verify with its timeouts off); a worker that overruns is killed and
replaced rather than interrupted by a signal: a pathological answer costs about ``timeout``
seconds and is rejected.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from typing import IO

from fnreg.errors import FnregError

__all__ = ["DEFAULT_TIMEOUT", "EvaluatorError", "verify"]

DEFAULT_TIMEOUT = 5.0
# A worker imports sympy and math-verify (about a second); allow slow, busy CI machines.
WORKER_STARTUP_TIMEOUT = 60.0
# Address-space cap per worker process.
WORKER_MEMORY_LIMIT = 2 * 1024**3


class EvaluatorError(FnregError):
    """The answer checker itself failed (not a wrong answer)."""


# Runs in a fresh interpreter, so it depends on math-verify only (not on fnreg being importable
# or on what fnreg's package __init__ files import). Protocol: one JSON object per line.
# Besides the parent's wall-clock kill, the kernel bounds each request: RLIMIT_CPU is raised to
# "used so far + budget" before each one (SIGXCPU ends a runaway even if the parent died), and
# RLIMIT_AS caps memory (sympy expanding (1+x)^1000000 grows by gigabytes in seconds).
_WORKER_SOURCE = r"""
import json, logging, math, os, signal, sys
try:
    import resource
except ImportError:  # not POSIX: the parent's timeout is the only bound
    resource = None

def limit(kind, value):
    try:
        resource.setrlimit(kind, (value, resource.getrlimit(kind)[1]))
    except Exception:
        pass

if resource:
    limit(resource.RLIMIT_AS, int(sys.argv[1]))
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
out = os.fdopen(os.dup(1), "w")  # the protocol channel: nothing but replies
os.dup2(2, 1)  # stray prints, from Python or C, go to stderr
sys.stdout = sys.stderr
logging.disable(logging.CRITICAL)
from math_verify import parse, verify

def parsed(items):
    return any(not isinstance(item, str) for item in items)

out.write("ready\n"); out.flush()
for line in sys.stdin:
    request = json.loads(line)
    if resource:
        used = resource.getrusage(resource.RUSAGE_SELF)
        limit(resource.RLIMIT_CPU, math.ceil(used.ru_utime + used.ru_stime + request["budget"]))
    try:
        gold = parse(request["gold"], parsing_timeout=None)
        pred = parse(request["pred"], parsing_timeout=None)
        reply = {"ok": bool(verify(gold, pred, timeout_seconds=None)),
                 "parsed": parsed(gold) and parsed(pred)}
    except Exception:  # MemoryError, RecursionError: a wrong answer, not a dead worker
        reply = {"ok": False, "parsed": True}
    out.write(json.dumps(reply) + "\n"); out.flush()
"""


class _WorkerDied(Exception):
    pass


_EOF = "\x00eof"  # what the reader thread queues when the worker's output ends


class _Worker:
    """One math-verify process; used by one thread at a time."""

    def __init__(self) -> None:
        self._stderr: IO[bytes] = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-c", _WORKER_SOURCE, str(WORKER_MEMORY_LIMIT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        self._lines: queue.Queue[str] = queue.Queue()
        # A reader thread turns the blocking pipe into a queue with a timeout (no signals, portable).
        threading.Thread(target=self._read, name="math-verify-reader", daemon=True).start()
        if self._next_line(WORKER_STARTUP_TIMEOUT) != "ready":
            detail = self._stderr_tail()
            self.kill()
            raise EvaluatorError(
                "math evaluator: the math-verify worker did not start"
                + (f" ({detail})" if detail else "")
                + f"; check that math-verify is installed for {sys.executable}"
            )

    def _read(self) -> None:
        assert self._proc.stdout is not None
        try:
            for line in self._proc.stdout:
                self._lines.put(line.rstrip("\n"))
        except (OSError, ValueError):  # the pipe was closed by kill()
            pass
        self._lines.put(_EOF)

    def _next_line(self, timeout: float) -> str | None:
        """The next reply line, _EOF if the process ended, None on timeout."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def ask(self, gold: str, prediction: str, timeout: float) -> tuple[bool, bool] | None:
        """(accepted, both parsed), or None on timeout. Raises _WorkerDied if the process died."""
        assert self._proc.stdin is not None
        request = {"gold": gold, "pred": prediction, "budget": timeout + 1}
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
        except OSError as exc:
            raise _WorkerDied() from exc
        line = self._next_line(timeout)
        if line == _EOF:
            raise _WorkerDied()
        if line is None:
            return None
        reply = json.loads(line)
        return bool(reply["ok"]), bool(reply["parsed"])

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""

    def kill(self) -> None:
        self._proc.kill()
        self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self._stderr.close()


class _Pool:
    """Up to ``size`` warm workers shared by all threads; an overrunning worker is replaced."""

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()  # busy ones too, so that close() can end them
        self._lock = threading.Lock()

    def verify(self, gold: str, prediction: str, timeout: float) -> tuple[bool, bool] | None:
        """(accepted, both parsed), or None if the check overran ``timeout`` seconds."""
        with self._slots:
            for _ in range(2):  # a crashed worker (e.g. OOM-killed) gets one fresh retry
                worker = self._acquire()
                try:
                    reply = worker.ask(gold, prediction, timeout)
                except _WorkerDied:
                    self._discard(worker)
                    continue
                if reply is None:  # overran: the process may be stuck for good
                    self._discard(worker)
                    return None
                with self._lock:
                    self._idle.append(worker)
                return reply
            return False, True

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        worker = _Worker()  # outside the lock: starting takes about a second
        with self._lock:
            self._all.add(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()

    def close(self) -> None:
        with self._lock:
            workers, self._all, self._idle = list(self._all), set(), []
        for worker in workers:
            worker.kill()


_pool_lock = threading.Lock()
_the_pool: _Pool | None = None


def _pool() -> _Pool:
    global _the_pool
    with _pool_lock:
        if _the_pool is None:
            _the_pool = _Pool(size=max(1, min(4, os.cpu_count() or 1)))
            atexit.register(_the_pool.close)
        return _the_pool


def verify(gold: str, prediction: str, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, bool] | None:
    """(accepted, both parsed) by math-verify, or None if the check overran ``timeout`` seconds."""
    return _pool().verify(gold, prediction, timeout)
