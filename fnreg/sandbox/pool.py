"""The sandbox's public API: a pool of sessions forked from one zygote, and the result of a call."""

from __future__ import annotations

import contextlib
import itertools
import json
import keyword
import logging
import os
import queue
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fnreg.errors import SandboxError
from fnreg.hardening import make_undumpable
from fnreg.sandbox.jail import (
    CODE_ROOT,
    jail_command,
    jail_support,
    launcher_command,
    make_etc,
    python_install,
    resolve_mode,
)
from fnreg.sandbox.limits import Limits
from fnreg.sandbox.process import DEFAULT_ENV_ALLOW, UidLease, drops_privileges, worker_env
from fnreg.sandbox.scratch import remove_scratch, scratch_directory, sweep_stale
from fnreg.sandbox.worker import FRAME_HEADER

logger = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
STARTUP_SECONDS = 30.0  # a cold disk or a loaded CI machine can make start-up slow
END_SECONDS = 10.0  # ending a session: the supervisor kills it and reports
SHUTDOWN_SECONDS = 5.0
MALFORMED = "the sandbox returned a malformed reply"
REPLY_KEYS = {"id", "ok", "output", "value", "error"}

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


# -- starting processes ----------------------------------------------------------------------------


class _Spawner:
    """Starts the pools' processes from one thread that lives as long as fnreg.

    The kernel ties a child's death signal (bwrap's ``--die-with-parent``, the zygote's
    ``PR_SET_PDEATHSIG``) to the *thread* that forked it: a pool created on a worker thread
    would otherwise lose its jail when that thread ends.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, job: Callable[[], Any]) -> Any:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="fnreg-sandbox-spawner", daemon=True)
                self._thread.start()
        future: Future = Future()
        self._jobs.put((job, future))
        return future.result()

    def _serve(self) -> None:
        while True:
            job, future = self._jobs.get()
            try:
                future.set_result(job())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)


_SPAWNER = _Spawner()


class ChildLost(Exception):
    """The session's executor ended during a request (timeout, crash, limit, or asked to)."""

    def __init__(self, reason: str, output: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.output = output


# -- the zygote, seen from fnreg ------------------------------------------------------------------


class _Zygote:
    """The pool's fork server: inside the jail (jail mode) or a plain subprocess (process mode)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._tags = itertools.count(1)
        self._pending: dict[int, Future] = {}
        self._send_lock = threading.Lock()
        self.alive = True
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket = ours
        log_path = sandbox._scratch / "zygote.log"
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in close()
        try:
            argv, extra = sandbox._zygote_command(theirs.fileno())
            self._proc: subprocess.Popen[bytes] = _SPAWNER.run(
                lambda: subprocess.Popen(
                    argv,
                    pass_fds=[theirs.fileno()],
                    stdin=subprocess.DEVNULL,
                    stdout=self._log,
                    stderr=self._log,
                    start_new_session=True,  # one process group, away from our terminal
                    **extra,
                )
            )
        except OSError as exc:
            self._log.close()
            ours.close()
            raise SandboxError(f"cannot start the sandbox ({sandbox.mode} mode): {exc}") from exc
        finally:
            theirs.close()
        try:
            socket.send_fds(ours, [json.dumps(sandbox._zygote_config()).encode()], [])
            self.hello = self._receive_hello(log_path)
        except BaseException:
            self.close()
            raise
        self._reader = threading.Thread(target=self._read, name="fnreg-sandbox-zygote", daemon=True)
        self._reader.start()

    def _receive_hello(self, log_path: Path) -> dict[str, Any]:
        ready = select.select([self._socket], [], [], STARTUP_SECONDS)[0]
        message = socket.recv_fds(self._socket, 1 << 16, 1)[0] if ready else b""
        hello = json.loads(message) if message else None
        if not isinstance(hello, dict) or not hello.get("ok"):
            why = hello.get("error") if isinstance(hello, dict) else "it exited or did not answer"
            log = _tail(log_path)
            raise SandboxError(
                f"the sandbox ({self._sandbox.mode} mode) could not start: {why}" + (f": {log}" if log else "")
            )
        return hello

    def _read(self) -> None:
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(self._socket, 1 << 16, 4)
            except OSError:
                message, fds = b"", []
            if not message:
                break
            reply = json.loads(message)
            future = self._pending.pop(reply.get("tag"), None)
            if future is None:
                for fd in fds:
                    os.close(fd)
            elif reply.get("op") == "spawned" and len(fds) == 2:
                future.set_result(fds)
            else:
                for fd in fds:
                    os.close(fd)
                future.set_exception(SandboxError(f"the sandbox could not start a session: {reply.get('error')}"))
        self.alive = False
        for future in list(self._pending.values()):
            future.set_exception(SandboxError("the sandbox's zygote has ended"))
        self._pending.clear()

    def spawn(self, uid: int | None, sweep: bool) -> Future:
        """Ask for a new session (its two descriptors arrive in the returned future)."""
        future: Future = Future()
        if not self.alive:
            future.set_exception(SandboxError("the sandbox's zygote has ended"))
            return future
        tag = next(self._tags)
        self._pending[tag] = future
        try:
            with self._send_lock:
                socket.send_fds(
                    self._socket, [json.dumps({"op": "spawn", "tag": tag, "uid": uid, "sweep": sweep}).encode()], []
                )
        except OSError:
            self._pending.pop(tag, None)
            self.alive = False
            future.set_exception(SandboxError("the sandbox's zygote has ended"))
        return future

    def close(self) -> None:
        """End the zygote (in jail mode, the whole jail) and wait for it, bounded."""
        self.alive = False
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._socket.close()
        proc = getattr(self, "_proc", None)
        if proc is not None:  # else it never started
            if not _wait_for_exit(proc, SHUTDOWN_SECONDS):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                _wait_for_exit(proc, SHUTDOWN_SECONDS)
        self._log.close()


def _wait_for_exit(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait up to ``timeout`` for ``proc`` to end and reap it; False if it is still running.

    Through a pidfd where there is one (Linux 5.3+), so the wait ends when the process does:
    ``Popen.wait(timeout)`` polls with sleeps of up to 50 ms, and every evaluation closes a pool.
    """
    if proc.poll() is not None:  # ended and reaped: its pid may belong to another process now
        return True
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # no pidfds here
        try:
            proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    if not ready:
        return False
    proc.wait()
    return True


def _tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    return " ".join(text[-1500:].split())


# -- one session's processes, seen from fnreg ------------------------------------------------------


class _Child:
    """A session's supervisor (the socket fnreg trusts) and its executor's request pipe."""

    def __init__(self, fds: list[int], output_chars: int) -> None:
        self._socket = socket.socket(fileno=fds[0])
        self._request_fd = fds[1]
        os.set_blocking(self._request_fd, False)
        self._buffer = bytearray()
        self._output_chars = output_chars
        self.ready = False
        self.alive = True
        self.unenforced: tuple[str, ...] = ()

    def wait_hello(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        kind, data = self._frame(deadline, timeout, starting=True)
        hello = _json_object(data) if kind == b"P" else None
        if not hello or hello.get("hello") is not True:
            why = hello.get("error") if hello else _exit_reason(_json_object(data) or {}, starting=True)
            self.close()
            raise SandboxError(f"a sandbox session could not set up: {why}")
        self.unenforced = tuple(str(name) for name in hello.get("unenforced", ()) if isinstance(name, str))
        self.ready = True

    def request(self, message: dict[str, Any], timeout: float, cpu_seconds: float) -> dict[str, Any] | None:
        """Send ``message``; its reply, or None when the reply was malformed.

        Raises ChildLost when the executor ended (it is then gone for good).
        """
        deadline = time.monotonic() + timeout
        request_id = secrets.randbits(62)
        self._write(
            (json.dumps({**message, "id": request_id}, ensure_ascii=False) + "\n").encode(),
            deadline,
            timeout,
            cpu_seconds,
        )
        while True:
            kind, data = self._frame(deadline, timeout, cpu_seconds=cpu_seconds)
            if kind == b"X":
                status = _json_object(data) or {}
                self.close()
                raise ChildLost(_exit_reason(status, cpu_seconds=cpu_seconds), _text(status.get("output")))
            reply = _json_object(data)
            if reply is None or reply.get("id") != request_id:
                continue  # noise learned code wrote, or the reply to a request given up on
            return reply if _well_formed(reply) else None

    def _write(self, data: bytes, deadline: float, timeout: float, cpu_seconds: float) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._request_fd, view) :]
                continue
            except BlockingIOError:
                pass
            except BrokenPipeError:
                self._lost_while_writing(deadline, timeout, cpu_seconds)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._timeout(timeout)
            ready = select.select([self._socket], [self._request_fd], [], min(remaining, 0.5))
            if ready[0]:  # the supervisor speaks while we could not write: the executor ended
                self._lost_while_writing(deadline, timeout, cpu_seconds)

    def _lost_while_writing(self, deadline: float, timeout: float, cpu_seconds: float) -> None:
        while True:
            kind, data = self._frame(deadline, timeout, cpu_seconds=cpu_seconds)
            if kind == b"X":
                status = _json_object(data) or {}
                self.close()
                raise ChildLost(_exit_reason(status, cpu_seconds=cpu_seconds), _text(status.get("output")))

    def _frame(
        self, deadline: float, timeout: float, *, starting: bool = False, cpu_seconds: float = 0
    ) -> tuple[bytes, bytes]:
        header = FRAME_HEADER.size
        while True:
            if len(self._buffer) >= header:
                kind, length = FRAME_HEADER.unpack_from(self._buffer)
                if len(self._buffer) >= header + length:
                    data = bytes(self._buffer[header : header + length])
                    del self._buffer[: header + length]
                    return kind, data
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if starting:
                    self.close()
                    raise SandboxError(f"a sandbox session did not start within {timeout:g} s")
                self._timeout(timeout)
            try:
                # Another thread may have closed the socket meanwhile (a pool shut down while a
                # call hangs in it): a closed socket reads as a session that ended.
                self._socket.settimeout(remaining)
                chunk = self._socket.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.close()
                if starting:
                    raise SandboxError("a sandbox session ended before it started")
                raise ChildLost("the sandbox's session supervisor was killed")
            self._buffer += chunk

    def _timeout(self, timeout: float) -> None:
        status = self.end()
        raise ChildLost(f"TimeoutError: call exceeded {timeout:g} s wall clock", _text(status.get("output")))

    def end(self, timeout: float = END_SECONDS, *, wait: bool = True) -> dict[str, Any]:
        """Kill the session (executor and all it started); its last exit report, if it came.

        ``wait=False``: only order the kill (the supervisor carries it out and exits).
        """
        if not self.alive:
            return {}
        try:
            self._socket.sendall(b"K")
        except OSError:
            pass
        if not wait:
            self.close()
            return {}
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        try:
            while True:
                kind, data = self._frame(deadline, timeout, starting=True)
                if kind == b"X":
                    status = _json_object(data) or {}
                    break
        except (SandboxError, ChildLost):
            pass
        self.close()
        return status

    def close(self) -> None:
        if not self.alive:
            return
        self.alive = False
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes a thread still reading it
        self._socket.close()
        with contextlib.suppress(OSError):
            os.close(self._request_fd)


def _json_object(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _well_formed(reply: dict[str, Any]) -> bool:
    return (
        set(reply) == REPLY_KEYS
        and isinstance(reply["ok"], bool)
        and isinstance(reply["output"], str)
        and (reply["value"] is None or isinstance(reply["value"], str))
        and (reply["error"] is None or isinstance(reply["error"], str))
        and (reply["ok"] or reply["error"] is not None)
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _exit_reason(status: dict[str, Any], *, starting: bool = False, cpu_seconds: float = 0) -> str:
    """What an executor's end means to the user, from the supervisor's exit report."""
    number = status.get("signal")
    if isinstance(number, int):
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if name == "SIGXCPU":
            return f"TimeoutError: call exceeded {cpu_seconds:g} s of CPU time"
        if name == "SIGKILL":
            return "worker was killed (SIGKILL, often the system running out of memory)"
        return f"worker crashed (signal {name})"
    code = status.get("exit")
    if starting:
        return f"worker exited with status {code}"
    return f"worker exited with status {code} (os._exit or a fatal error in native code)"


# -- the pool --------------------------------------------------------------------------------------


class _Slot:
    """One place in the pool: a session ready (or being started) for the next task."""

    def __init__(self, sandbox: Sandbox, lease: UidLease | None) -> None:
        self._sandbox = sandbox
        self.lease = lease
        self.swept = False  # a borrowed uid is first cleared of what an earlier fnreg left
        self.pending: Future | None = None
        self.child: _Child | None = None

    def prepare(self, *, replacing: bool = False) -> None:
        """Start the next session in the background (the zygote forks it); ``replacing``: also
        while the current one still exists (it is about to be ended)."""
        if self.pending is None and (self.child is None or replacing):
            uid = self.lease.uid if self.lease else None
            self.pending = self._sandbox._spawn(uid, sweep=self.lease is not None and not self.swept)
            self.swept = True

    def ready_child(self) -> _Child:
        """This slot's session processes, started and set up (waited for if need be)."""
        if self.child is None:
            for attempt in range(2):  # a zygote that died meanwhile is replaced once
                self.prepare()
                assert self.pending is not None
                pending, self.pending = self.pending, None
                try:
                    fds = pending.result(timeout=STARTUP_SECONDS)
                    break
                except TimeoutError:
                    raise SandboxError(f"the sandbox did not start a session within {STARTUP_SECONDS:g} s") from None
                except SandboxError:
                    if attempt or self._sandbox._zygote.alive:
                        raise
            self.child = _Child(fds, self._sandbox.limits.output_chars)
        if not self.child.ready:
            try:
                self.child.wait_hello(STARTUP_SECONDS)
            except SandboxError:
                self.child = None
                raise
        return self.child

    def lost(self) -> None:
        if self.child is not None:
            self.child.close()
        self.child = None

    def end_current(self, *, wait: bool = True) -> None:
        """Kill the session in use (the one prepared next stays)."""
        if self.child is not None:
            self.child.end(wait=wait)
            self.child = None

    def end(self) -> None:
        """Kill the slot's session (and drop a spawn in flight)."""
        if self.child is not None:
            self.child.end()
            self.child = None
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.add_done_callback(_close_spawned)

    def release(self) -> None:
        self.end()
        if self.lease is not None:
            self.lease.release()
            self.lease = None


def _close_spawned(future: Future) -> None:
    """A session that was started but never used: end it (closing its descriptors does)."""
    if future.exception() is None:
        fds = future.result()
        socket.socket(fileno=fds[0]).close()
        with contextlib.suppress(OSError):
            os.close(fds[1])


def _shutdown(state: dict[str, Any]) -> None:
    """End every session and the zygote (also run at exit if close was forgotten)."""
    for slot in state["slots"]:
        slot.release()
    zygote = state.get("zygote")
    if zygote is not None:
        zygote.close()
    if state.get("lease") is not None:
        state.pop("lease").release()
    if state.get("scratch") is not None:
        remove_scratch(state["scratch"])


class Sandbox:
    """A pool of sessions for learned code from one checkout of a toolset.

    ``root`` goes first on the workers' import path, so ``import <package>.<toolset>.<name>``
    finds the learned code of that checkout. ``mode`` is ``"jail"``, ``"process"`` or ``None``
    (the jail where it starts, else the process sandbox with a warning); ``network`` lets
    learned code reach the network (jail mode; off by default). ``size`` is how many sessions
    may run at once. ``preload``: modules the zygote imports once (never learned code), so every
    session starts with them imported. ``wait=False`` returns at once and starts the pool in the
    background (a start-up error is then raised by the first ``session()``, or by
    ``wait_started()``). See :mod:`fnreg.sandbox` for what each mode enforces.
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
        mode: str | None = None,
        network: bool = False,
        preload: Sequence[str] = (),
        wait: bool = True,
    ) -> None:
        make_undumpable()  # learned code must not read fnreg's memory or environment via /proc
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
        #: "jail" or "process": the isolation this pool enforces, and why (see ``fnreg doctor``).
        self.mode, self.mode_reason = resolve_mode(mode)
        self.network = bool(network)
        self.preload = tuple(preload)
        self._cond = threading.Condition()
        self._closed = False
        self._busy = 0
        self._zygote_lock = threading.Lock()
        sweep_stale()  # folders of fnreg processes that were killed
        self._scratch = scratch_directory("sandbox")
        self._scratch.chmod(0o711)
        self._state: dict[str, Any] = {"slots": [], "zygote": None, "scratch": self._scratch}
        self._finalizer = weakref.finalize(self, _shutdown, self._state)
        self._idle: deque[_Slot] = deque()
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self.unenforced: tuple[str, ...] = ()
        self.start_seconds = 0.0
        if wait:
            self._start_or_fail(size)
            if self._start_error is not None:
                raise self._start_error
        else:  # the jail starts while the caller does other work (a task's first LLM turn)
            threading.Thread(target=self._start_or_fail, args=(size,), name="fnreg-sandbox-start", daemon=True).start()

    def _start_or_fail(self, size: int) -> None:
        try:
            self._start(size)
        except BaseException as exc:  # noqa: BLE001 - raised by the constructor or the first session
            self._start_error = exc
            self._finalizer()
        finally:
            with self._cond:
                self._idle.extend(self._state["slots"])
                self._cond.notify_all()
            self._started.set()

    def wait_started(self, timeout: float = 2 * STARTUP_SECONDS) -> None:
        """Wait for a pool created with ``wait=False``; raise its start-up error, if any."""
        if not self._started.wait(timeout):
            raise SandboxError(f"the sandbox did not start within {timeout:g} s")
        error = self._start_error
        if isinstance(error, SandboxError):
            raise error
        if error is not None:
            raise SandboxError(f"the sandbox could not start: {type(error).__name__}: {error}") from error

    # -- start-up ------------------------------------------------------------------------------

    def _start(self, size: int) -> None:
        started = time.perf_counter()
        self._lease = UidLease() if drops_privileges() and self.mode == "jail" else None
        self._state["lease"] = self._lease
        self._zygote = self._state["zygote"] = _Zygote(self)
        slots = self._state["slots"]
        for _ in range(size):
            lease = UidLease() if drops_privileges() and self.mode == "process" else None
            slots.append(_Slot(self, lease))
        for slot in slots:
            slot.prepare()
        # The first session is waited for here, so a set-up problem is reported at once; the
        # others start in the background while the tasks wait for their first LLM replies.
        first = slots[0].ready_child()
        #: Seconds from creating the pool to its first session being ready (the jail's one-off cost).
        self.start_seconds = time.perf_counter() - started
        self.unenforced = tuple(self._zygote.hello.get("unenforced", ())) + first.unenforced
        if self.unenforced:
            logger.warning("this system does not enforce these sandbox limits: %s", ", ".join(self.unenforced))

    def _zygote_config(self) -> dict[str, Any]:
        limits = self.limits
        jail = self.mode == "jail"
        root = CODE_ROOT if jail else str(self.root)
        return {
            "mode": self.mode,
            "root": root,
            "package": self.package,
            "check": os.path.join(root, *self.module_prefix.split(".")),
            "limits": {
                "cpu_seconds": limits.cpu_seconds,
                "memory_bytes": limits.memory_bytes,
                "file_size_bytes": limits.file_size_bytes,
                "max_processes": limits.max_processes,
                "output_chars": limits.output_chars,
                "tmp_bytes": limits.tmp_bytes,
            },
            "env": self._env(jail),
            "network": self.network,
            "preload": list(self.preload),
            "work_base": str(self._scratch / "sessions"),
            "tmp_keep": [r for r in python_install(self.python).roots if r.startswith("/tmp/")] if jail else [],
            "uid": None if jail or not drops_privileges() else -1,
            "parent_pid": os.getpid(),
        }

    def _env(self, jail: bool) -> dict[str, str]:
        home = "/tmp" if jail else str(self._scratch / "sessions")
        env = worker_env(self.env_allow, Path(home))
        if jail:
            python_bin = os.path.dirname(python_install(self.python).executable)
            env["PATH"] = f"{python_bin}:/usr/local/bin:/usr/bin:/bin"
        return env

    def _zygote_command(self, fd: int) -> tuple[list[str], dict[str, Any]]:
        """The zygote's command line and extra Popen arguments, for this pool's mode."""
        if self.mode == "process":
            sessions = self._scratch / "sessions"
            sessions.mkdir(mode=0o711, exist_ok=True)
            env = worker_env(self.env_allow, sessions)
            return [self.python, "-I", "-B", str(WORKER_SCRIPT), str(fd)], {"cwd": sessions, "env": env}
        support = jail_support()
        assert support.bwrap is not None
        folder = Path(tempfile.mkdtemp(prefix="jail-", dir=self._scratch))  # a restart gets its own
        folder.chmod(0o755)
        worker = folder / "worker.py"
        worker.write_bytes(WORKER_SCRIPT.read_bytes())
        worker.chmod(0o644)
        uid, gid = (self._lease.uid, self._lease.gid) if self._lease else (os.getuid(), os.getgid())
        make_etc(folder / "etc", uid, gid, self.network)
        plan = jail_command(
            support.bwrap.path,
            python=python_install(self.python),
            code=self._code_binds(),
            worker=worker,
            etc=folder / "etc",
            views=folder / "views",
            control_fd=fd,
            env=self._env(jail=True),
            network=self.network,
            tmp_bytes=self.limits.tmp_bytes,
            drop_to_uid=self._lease is not None,
        )
        if self._lease is not None:
            return launcher_command(plan, uid, gid), {"cwd": "/"}
        return plan.argv, {"cwd": "/"}

    def _code_binds(self) -> list[tuple[str, str]]:
        """What of ``root`` the jail shows: the package's ``__init__`` files and the toolset (or
        the whole package without a toolset), never the rest of a repository."""
        parts = self.package.split(".")
        binds = []
        for depth in range(1, len(parts) + 1):
            init = self.root.joinpath(*parts[:depth], "__init__.py")
            if init.is_file():
                binds.append((str(init), os.path.join(CODE_ROOT, *parts[:depth], "__init__.py")))
        shown = [*parts, self.toolset] if self.toolset else parts
        folder = self.root.joinpath(*shown)
        if folder.is_dir():
            binds.append((str(folder), os.path.join(CODE_ROOT, *shown)))
        return binds

    def _spawn(self, uid: int | None, sweep: bool) -> Future:
        with self._zygote_lock:
            if not self._zygote.alive and not self._closed:
                # Learned code can kill the zygote in process mode (same uid): start another.
                logger.warning("the sandbox's zygote ended; starting a new one")
                self._zygote.close()
                self._zygote = self._state["zygote"] = _Zygote(self)
            return self._zygote.spawn(uid, sweep)

    # -- sessions --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self, timeout: float | None = None) -> Iterator[Session]:
        """A fresh session for one task: a forked process that ends, whole, with the session.

        Blocks while ``size`` sessions are running, at most ``timeout`` seconds if given (then
        raises SandboxError).
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
        self.wait_started()
        with self._cond:
            if not self._cond.wait_for(lambda: self._closed or self._idle, timeout):
                raise SandboxError(
                    f"all {len(self._state['slots'])} sandbox sessions stayed busy for {timeout:g} s; "
                    "end other sessions first or create the Sandbox with a larger size"
                )
            if self._closed:
                raise SandboxError("this sandbox is closed; create a new Sandbox")
            self._busy += 1
            return self._idle.popleft()

    def _checkin(self, slot: _Slot) -> None:
        with self._cond:
            self._busy -= 1
            if not self._closed:
                self._idle.append(slot)
                self._cond.notify()
                return
            last = self._busy == 0
        slot.end()
        if last:
            self._finalizer()

    def close(self) -> None:
        """End idle sessions now, running ones when they end, then the zygote (and jail)."""
        self._started.wait(2 * STARTUP_SECONDS)
        with self._cond:
            if self._closed:
                return
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            self._cond.notify_all()
            last = self._busy == 0
        for slot in idle:
            slot.end()
        if last:
            self._finalizer()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Session:
    """One task's sessions processes: fresh at the first call, killed whole at the end."""

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
            child = self._slot.ready_child()
            self._used = True
            limits = self._sandbox.limits
            started = time.monotonic()
            try:
                reply = child.request(request, limits.wall_seconds, limits.cpu_seconds)
            except ChildLost as lost:
                self._slot.lost()
                note = "; the worker was restarted"
                if notebook:
                    note += " and variables from earlier cells of this session are gone"
                return ExecResult(False, lost.output, None, lost.reason + note, time.monotonic() - started)
            duration = time.monotonic() - started
            if reply is None:
                return ExecResult(False, "", None, MALFORMED, duration)
            return ExecResult(reply["ok"], reply["output"], reply["value"], reply["error"], duration)

    def _end(self) -> None:
        """Kill the session's processes; the slot starts the next task's in the background."""
        with self._lock:
            self._ended = True
            if not self._used:
                return  # its processes never ran learned code: the next task gets them
            # The next task's processes start while these are killed, in the jail. Not in process
            # mode: a borrowed uid's clean-up ends every process of that uid, and without one the
            # next session's process limit counts the user's processes when it starts.
            overlap = self._sandbox.mode == "jail"
            if overlap and not self._sandbox._closed:
                self._slot.prepare(replacing=True)
            # In the jail the kill is ordered, not waited for: the session's namespaces already
            # keep what is left of it from the next task, and the task is done sooner.
            self._slot.end_current(wait=not overlap)
            if not overlap and not self._sandbox._closed:
                self._slot.prepare()


def _refused(error: str) -> ExecResult:
    """A call refused before reaching a worker (the LLM named no valid function)."""
    return ExecResult(ok=False, output="", value=None, error=error, duration=0.0)
