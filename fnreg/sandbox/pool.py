"""The sandbox's public API: a pool of warm workers, sessions, and the result of one call."""

from __future__ import annotations

import contextlib
import json
import keyword
import logging
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fnreg.errors import SandboxError
from fnreg.sandbox.limits import Limits
from fnreg.sandbox.scratch import sweep_stale
from fnreg.sandbox.process import (
    DEFAULT_ENV_ALLOW,
    UidLease,
    WorkerLost,
    WorkerProcess,
    drops_privileges,
    sweep,
)

logger = logging.getLogger(__name__)

RESET_SECONDS = 10.0  # ending a session: kill its processes, empty the working directory
SHUTDOWN_SECONDS = 3.0

__all__ = ["DEFAULT_ENV_ALLOW", "ExecResult", "Sandbox", "Session"]


@dataclass
class ExecResult:
    """The outcome of one call of learned code."""

    ok: bool
    """False when the code raised, timed out, crashed or hit a limit."""
    output: str
    """Captured stdout and stderr (also of C code and child processes), truncated with a marker."""
    value: str | None
    """call_function: the return value as text (a str as is, else JSON if possible, else repr);
    run_python: the repr of a final expression, as in a notebook, or None."""
    error: str | None
    """Short and readable, e.g. ``ZeroDivisionError: division by zero`` and the last traceback
    lines of the learned code, or ``TimeoutError: call exceeded 30 s wall clock; ...``."""
    duration: float
    """Seconds, as seen by the caller."""

    def as_tool_output(self) -> str:
        """The text an LLM agent sees as the tool result: output, then the value or the error."""
        parts = [self.output.rstrip("\n")] if self.output.strip() else []
        tail = self.value if self.ok else self.error
        if tail is not None:
            parts.append(tail)
        text = "\n".join(parts)
        return text if text else "(no output)"


class _Slot:
    """One place in the pool: its uid lease (when fnreg runs as root) and current worker."""

    def __init__(self, sandbox: Sandbox, lease: UidLease | None) -> None:
        self._python = sandbox.python
        self._config = sandbox._worker_config
        self._allow = sandbox.env_allow
        self.lease = lease
        self.worker: WorkerProcess | None = None
        self.closed = False
        self.lock = threading.Lock()  # the background start and a first use must not both start one

    def start(self) -> WorkerProcess:
        """Start a worker without waiting for it (pools start theirs side by side)."""
        self.worker = WorkerProcess(self._python, self._config, self._allow, self.lease)
        if self.lease is not None:
            self.lease.dirty = False  # a new worker first ends what its predecessors left
        return self.worker

    def start_if_needed(self) -> None:
        """Start a worker unless the slot has one (the pool's background start, or first use)."""
        with self.lock:
            if self.worker is None and not self.closed:
                self.start()

    def ready_worker(self) -> WorkerProcess:
        """The running worker, started first if the last one died (even while idle)."""
        with self.lock:
            if self.worker is not None and self.worker.proc.poll() is not None:
                self.discard()
            if self.worker is None or not self.worker.alive:
                self.start()
        assert self.worker is not None
        if not self.worker.ready:  # started by the pool without waiting, or just now
            try:
                self.worker.wait_ready()
            except SandboxError:
                self.worker = None
                raise
        return self.worker

    def discard(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def shutdown(self, deadline: float) -> None:
        """End the worker (waiting for it until ``deadline``) and give back the uid."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
        if self.worker is not None:
            self.worker.close_input()
            self.worker.finish(deadline)
            self.worker = None
        if self.lease is not None:
            if self.lease.dirty:
                sweep(self._python, self.lease)
            self.lease.release()


def _shutdown(slots: list[_Slot]) -> None:
    """Close all workers at once, then wait for them (also run at exit if close was forgotten)."""
    for slot in slots:
        if slot.worker is not None and not slot.closed:
            slot.worker.close_input()
    deadline = time.monotonic() + SHUTDOWN_SECONDS
    for slot in slots:
        slot.shutdown(deadline)


class Sandbox:
    """Pool of warm worker subprocesses for one checkout of a toolset.

    ``root`` goes first on the workers' import path, so ``import <package>.<toolset>.<name>``
    finds the learned code of that checkout. See :mod:`fnreg.sandbox` for what is enforced.
    """

    def __init__(
        self,
        root: Path,
        *,
        package: str = "registry",
        toolset: str | None = None,
        limits: Limits = Limits(),
        size: int = 1,
        python: str = sys.executable,
        env_allow: Sequence[str] = DEFAULT_ENV_ALLOW,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise SandboxError(f"sandbox root {self.root} is not a directory")
        for part in [*package.split("."), *([toolset] if toolset else [])]:
            if not part.isidentifier() or keyword.iskeyword(part):
                raise SandboxError(f"{part!r} is not a valid Python package name")
        if size < 1:
            raise ValueError(f"a sandbox needs at least one worker, got size={size}")
        self.package, self.toolset, self.limits = package, toolset, limits
        self.python, self.env_allow = python, tuple(env_allow)
        self.module_prefix = f"{package}.{toolset}" if toolset else package
        self._worker_config = self._make_worker_config()
        self._slots: list[_Slot] = []
        self._cond = threading.Condition()
        self._closed = False
        self._finalizer = weakref.finalize(self, _shutdown, self._slots)
        sweep_stale()  # folders of fnreg processes that were killed
        try:
            self._start_slots(size)
        except BaseException:
            self._finalizer()
            raise
        self._idle: deque[_Slot] = deque(self._slots)

    def _make_worker_config(self) -> dict[str, Any]:
        limits = self.limits
        return {
            "root": str(self.root),
            "package": self.package,
            "check": str(self.root.joinpath(*self.module_prefix.split("."))),
            "cpu_seconds": limits.cpu_seconds,
            "memory_bytes": limits.memory_bytes,
            "file_size_bytes": limits.file_size_bytes,
            "max_processes": limits.max_processes,
            "output_chars": limits.output_chars,
        }

    def _start_slots(self, size: int) -> None:
        for _ in range(size):
            self._slots.append(_Slot(self, UidLease() if drops_privileges() else None))
        # The first worker is started and waited for here, so a set-up problem is reported at
        # once; the others then boot side by side in the background and are waited for on first
        # use, while the tasks wait for their first LLM replies.
        hello = self._slots[0].start().wait_ready()
        if len(self._slots) > 1:  # spawning takes ~15 ms a worker: not on the caller's clock
            threading.Thread(target=self._start_rest, name="fnreg-sandbox-start", daemon=True).start()
        self.unenforced: tuple[str, ...] = tuple(hello.get("unenforced", ()))
        if self.unenforced:
            logger.warning("this system does not enforce these sandbox limits: %s", ", ".join(self.unenforced))

    def _start_rest(self) -> None:
        for slot in self._slots[1:]:
            if self._closed:
                return
            slot.start_if_needed()

    @contextlib.contextmanager
    def session(self, timeout: float | None = None) -> Iterator[Session]:
        """Check out one warm worker for one task.

        Blocks while all workers are busy, at most ``timeout`` seconds if given (then raises
        SandboxError).
        """
        slot = self._checkout(timeout)
        session = Session(self, slot)
        try:
            yield session
        finally:
            try:
                session._end()
            finally:
                self._checkin(slot)  # always: a lost slot would shrink the pool for good

    def _checkout(self, timeout: float | None) -> _Slot:
        with self._cond:
            if not self._cond.wait_for(lambda: self._closed or self._idle, timeout):
                raise SandboxError(
                    f"all {len(self._slots)} sandbox workers stayed busy for {timeout:g} s; "
                    "end other sessions first or create the Sandbox with a larger size"
                )
            if self._closed:
                raise SandboxError("this sandbox is closed; create a new Sandbox")
            return self._idle.popleft()

    def _checkin(self, slot: _Slot) -> None:
        with self._cond:
            if not self._closed:
                self._idle.append(slot)
                self._cond.notify()
                return
        slot.shutdown(time.monotonic() + SHUTDOWN_SECONDS)

    def close(self) -> None:
        """Stop idle workers now and busy ones when their session ends."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            self._cond.notify_all()
        _shutdown(idle)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Session:
    """One task's exclusive use of a warm worker; the next session starts from a clean slate."""

    def __init__(self, sandbox: Sandbox, slot: _Slot) -> None:
        self._sandbox = sandbox
        self._slot = slot
        self._lock = threading.Lock()  # one call at a time, even if threads share the session
        self._used = False
        self._ended = False

    def call_function(self, name: str, arguments: dict[str, Any]) -> ExecResult:
        """Import ``<package>.<toolset>.<name>`` and return ``<name>(**arguments)``."""
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            return _refused(f"ValueError: {name!r} is not a valid function name")
        if not isinstance(arguments, dict):
            return _refused(f"TypeError: arguments of {name} must be a JSON object, not {arguments!r}")
        try:
            json.dumps(arguments)
        except (TypeError, ValueError) as exc:
            raise SandboxError(f"arguments of {name} must be JSON-serialisable: {exc}") from exc
        module = f"{self._sandbox.module_prefix}.{name}"
        return self._execute({"op": "call", "module": module, "name": name, "arguments": arguments})

    def run_python(self, code: str) -> ExecResult:
        """Run ``code`` like a notebook cell: globals persist until the session ends."""
        if not isinstance(code, str):
            raise TypeError(f"code must be a str, not {type(code).__name__}")
        return self._execute({"op": "run", "code": code}, notebook=True)

    def _execute(self, request: dict[str, Any], *, notebook: bool = False) -> ExecResult:
        with self._lock:
            if self._ended:
                raise SandboxError("this session has ended; open a new one with Sandbox.session()")
            worker = self._slot.ready_worker()
            self._used = True
            started = time.monotonic()
            try:
                reply = worker.request(request, self._sandbox.limits.wall_seconds)
            except WorkerLost as lost:
                self._slot.worker = None
                note = "; the worker was restarted"
                if notebook:
                    note += " and variables from earlier cells of this session are gone"
                error = lost.reason + note
                return ExecResult(False, lost.output, None, error, time.monotonic() - started)
            return self._result(reply, time.monotonic() - started)

    def _result(self, reply: dict[str, Any], duration: float) -> ExecResult:
        if reply.get("sandbox_error"):
            raise SandboxError(reply["sandbox_error"])
        error = reply.get("error")
        if reply.get("retire"):  # learned code broke the worker's own machinery
            self._slot.discard()
            error = f"{error}; the worker was restarted"
        output = reply.get("output") or ""
        return ExecResult(bool(reply.get("ok")), output, reply.get("value"), error, duration)

    def _end(self) -> None:
        """Reset the worker for the next session, or replace it if it cannot be made clean."""
        with self._lock:
            self._ended = True
            worker = self._slot.worker
            if not self._used or worker is None or not worker.alive:
                return
            try:
                reply = worker.request({"op": "reset"}, RESET_SECONDS)
            except WorkerLost:
                self._slot.worker = None
                return
            except BaseException:  # interrupted: the worker's state is unknown
                self._slot.discard()
                raise
            if not reply.get("clean"):
                self._slot.discard()


def _refused(error: str) -> ExecResult:
    """A call refused before reaching a worker (the LLM named no valid function)."""
    return ExecResult(ok=False, output="", value=None, error=error, duration=0.0)
