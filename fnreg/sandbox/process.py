"""Parent side of one worker subprocess: its uid, directory, environment, pipes and death."""

from __future__ import annotations

import fcntl
import grp
import json
import os
import pwd
import random
import re
import selectors
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fnreg.errors import SandboxError
from fnreg.sandbox.scratch import scratch_directory
from fnreg.sandbox.worker import empty_directory, read_capture

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
STARTUP_SECONDS = 30.0  # a cold disk or a loaded CI machine can make start-up slow
MAX_REPLY_BYTES = 256 * 1024 * 1024  # replies are truncated by the worker; this is a safeguard
POLL_SECONDS = 0.05  # how often a silent worker is checked for having died

DEFAULT_ENV_ALLOW: tuple[str, ...] = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
# Never handed to learned code, even if someone widens the allowlist by mistake.
SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE"
    r"|^(AWS|AZURE|GCP|GOOGLE|OPENAI|ANTHROPIC|HF|HUGGING|GITHUB|GH|GITLAB|NPM|PYPI|TWINE"
    r"|DOCKER|SSH|GPG|KUBE|VAULT)",
    re.IGNORECASE,
)

UID_RANGE = range(40_000, 60_000)  # inside the 65536 ids a rootless container usually maps
UID_LOCK_DIR = Path("/tmp/fnreg-sandbox-uids")


class WorkerLost(Exception):
    """The worker timed out or died during a request (``request`` then kills it).

    ``reason`` is the user-facing first line, ``output`` what the call printed before.
    """

    def __init__(self, reason: str, output: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.output = output


def drops_privileges() -> bool:
    """Whether workers run as a dedicated unprivileged uid (fnreg runs as root)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def worker_env(allow: Sequence[str], work: Path) -> dict[str, str]:
    """The environment of a worker: allowlisted, secrets removed, home and temp in ``work``."""
    env = {name: os.environ[name] for name in allow if name in os.environ and not SECRET_NAME.search(name)}
    env.setdefault("PATH", os.defpath)
    for name in ("HOME", "TMPDIR", "TEMP", "TMP"):
        env[name] = str(work)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # for Python processes learned code starts
    # One thread per numeric library: workers run side by side, and each thread counts
    # towards max_processes and (through its stack and malloc arena) memory_bytes.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    env["MALLOC_ARENA_MAX"] = "2"
    return env


class UidLease:
    """Exclusive use of an otherwise unused uid (and gid) for the workers of one pool slot.

    A dedicated uid makes RLIMIT_NPROC count only this worker's processes, lets ``kill(-1)``
    end everything the worker started, and keeps workers from signalling each other.
    The lease is a lock file held with flock, so concurrent fnreg processes never share a uid.
    """

    def __init__(self) -> None:
        UID_LOCK_DIR.mkdir(mode=0o755, exist_ok=True)
        info = os.lstat(UID_LOCK_DIR)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0:
            raise SandboxError(f"{UID_LOCK_DIR} is not a directory owned by root; remove it")
        rng = random.SystemRandom()
        for _ in range(200):
            uid = rng.choice(UID_RANGE)
            if not known_id(uid) and self._lock(uid):
                self.uid = self.gid = uid
                self.dirty = False  # a worker was killed and may have left processes behind
                return
        raise SandboxError(f"no free uid for the sandbox in {UID_RANGE.start}-{UID_RANGE.stop - 1}")

    def _lock(self, uid: int) -> bool:
        fd = os.open(UID_LOCK_DIR / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        os.close(self._fd)


def known_id(uid: int) -> bool:
    """Whether ``uid`` is a user or group the system knows (such an id is never borrowed)."""
    for lookup in (pwd.getpwuid, grp.getgrgid):
        try:
            lookup(uid)
            return True
        except KeyError:
            pass
    return False


def sweep(python: str, lease: UidLease) -> None:
    """End every process and remove the shared temporary files left with the lease's uid."""
    config = {"sweep_only": True, "uid": lease.uid, "gid": lease.gid, "root": "/"}
    try:
        subprocess.run(
            [python, "-I", "-B", str(WORKER_SCRIPT)],
            input=(json.dumps(config) + "\n").encode(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            timeout=STARTUP_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        pass  # best effort: the next worker with this uid sweeps at start-up as well
    lease.dirty = False


class WorkerProcess:
    """One running ``worker.py``, spoken to through its stdin/stdout pipes."""

    def __init__(self, python: str, config: dict[str, Any], allow: Sequence[str], lease: UidLease | None) -> None:
        self.lease = lease
        self.config = config
        self.directory, work, self.capture = make_directory(lease)
        self.proc = self._spawn(python, work, allow)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in, self._out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)
        self._readable = selectors.DefaultSelector()
        self._readable.register(self._out, selectors.EVENT_READ)
        self._writable = selectors.DefaultSelector()
        self._writable.register(self._in, selectors.EVENT_WRITE)
        self._buffer = bytearray()
        self._last_id = 0
        self.alive = True
        self.ready = False  # True once the worker said hello
        worker_config = {
            **config,
            "work": str(work),
            "capture": str(self.capture),
            "uid": lease.uid if lease else None,
            "gid": lease.gid if lease else None,
        }
        try:
            self._write(worker_config, time.monotonic() + STARTUP_SECONDS, STARTUP_SECONDS)
        except WorkerLost:
            pass  # wait_ready reports why

    def _spawn(self, python: str, work: Path, allow: Sequence[str]) -> subprocess.Popen[bytes]:
        env = worker_env(allow, work)
        if self.lease is not None:  # the borrowed uid has no passwd entry: name it for getpass
            env["USER"] = env["LOGNAME"] = "fnreg-sandbox"
        with open(self.directory / "startup.log", "wb") as log:
            try:
                return subprocess.Popen(
                    [python, "-I", "-B", str(WORKER_SCRIPT)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    cwd=work,
                    env=env,
                    start_new_session=True,  # one process group to kill, away from our terminal
                    umask=0o077,
                )
            except OSError as exc:
                shutil.rmtree(self.directory, ignore_errors=True)
                raise SandboxError(f"cannot start the sandbox worker with {python}: {exc}") from exc

    # -- talking -------------------------------------------------------------------------

    def wait_ready(self) -> dict[str, Any]:
        """Wait for the worker's hello; raise SandboxError when it could not start."""
        try:
            hello = self._receive(None, time.monotonic() + STARTUP_SECONDS, STARTUP_SECONDS)
        except WorkerLost as lost:
            log = self._startup_log()
            self.kill()
            raise SandboxError(f"the sandbox worker did not start ({lost.reason}): {log}") from None
        if not hello.get("ok"):
            self.kill()
            raise SandboxError(f"the sandbox worker could not set up: {hello.get('error')}")
        self.ready = True
        return hello

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send ``message`` and return the reply; on timeout or death, kill and raise WorkerLost."""
        if not self.alive:
            raise WorkerLost("worker is not running")
        self._last_id += 1
        deadline = time.monotonic() + timeout
        try:
            self._write({**message, "id": self._last_id}, deadline, timeout)
            return self._receive(self._last_id, deadline, timeout)
        except WorkerLost as lost:
            lost.output = self._captured_output()
            self.kill()
            raise
        except BaseException:  # e.g. KeyboardInterrupt mid-call: the worker's state is unknown
            self.kill()
            raise

    def _write(self, message: dict[str, Any], deadline: float, timeout: float) -> None:
        data = memoryview((json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))
        while data:
            try:
                data = data[os.write(self._in, data) :]
            except BlockingIOError:  # the worker is not reading (busy or hung): wait, bounded
                self._wait(self._writable, deadline, timeout)
            except BrokenPipeError:
                raise WorkerLost(self._death_reason()) from None

    def _receive(self, request_id: int | None, deadline: float, timeout: float) -> dict[str, Any]:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                reply = self._decode(line)
                if reply.get("id") == request_id:
                    return reply
                continue  # the answer to an earlier request that was given up on
            self._wait(self._readable, deadline, timeout)
            try:
                chunk = os.read(self._out, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                raise WorkerLost(self._death_reason())
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_BYTES:
                raise WorkerLost("worker sent a reply larger than the sandbox accepts")

    def _wait(self, selector: selectors.BaseSelector, deadline: float, timeout: float) -> None:
        """Wait until ``selector`` is ready; raise WorkerLost at the deadline or on death."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not self.ready:
                raise WorkerLost(f"TimeoutError: start-up took longer than {timeout:g} s")
            if remaining <= 0:
                raise WorkerLost(f"TimeoutError: call exceeded {timeout:g} s wall clock")
            if selector.select(min(remaining, POLL_SECONDS)):
                return
            # A forked child of learned code may hold the pipes open after the worker died.
            if self.proc.poll() is not None:
                raise WorkerLost(self._death_reason())

    @staticmethod
    def _decode(line: bytes) -> dict[str, Any]:
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            raise WorkerLost("worker sent an unreadable reply")
        return reply

    def _death_reason(self) -> str:
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "worker closed its pipe to the sandbox"
        if code >= 0 and not self.ready:
            return f"worker exited with status {code}"
        if code >= 0:
            return f"worker exited with status {code} (os._exit or a fatal error in native code)"
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGXCPU":
            return f"TimeoutError: call exceeded {self.config['cpu_seconds']:g} s of CPU time"
        if name == "SIGKILL":
            return "worker was killed (SIGKILL, often the system running out of memory)"
        return f"worker crashed (signal {name})"

    # -- output and clean-up -------------------------------------------------------------

    def _captured_output(self) -> str:
        """What the lost call printed. The worker owns the file: never follow a link it made."""
        try:
            fd = os.open(self.capture, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return ""
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return ""
            return read_capture(fd, self.config["output_chars"])
        finally:
            os.close(fd)

    def _startup_log(self) -> str:
        try:
            text = (self.directory / "startup.log").read_text(errors="replace").strip()
        except OSError:
            text = ""
        return text[-2000:] or "no error output"

    def kill(self) -> None:
        """Kill the worker and everything in its process group; remove its directory."""
        if not self.alive:
            return
        self.alive = False
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            pass  # stuck in the kernel; the process group is dead to us anyway
        if self.lease is not None:
            self.lease.dirty = True
        self._release()

    def close_input(self) -> None:
        """Ask the worker to end (it stops at end of input, killing what it started)."""
        if self.alive:
            try:
                self.proc.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass

    def finish(self, deadline: float) -> None:
        """Wait for a worker told to end by :meth:`close_input` until ``deadline``, else kill it."""
        if not self.alive:
            return
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.kill()
            return
        self.alive = False
        self._release()

    def _release(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        self._readable.close()
        self._writable.close()
        remove_directory(self.directory)


def make_directory(lease: UidLease | None) -> tuple[Path, Path, Path]:
    """A fresh directory for one worker: ``work/`` (its cwd, HOME, TMPDIR) and ``output``.

    The directory itself stays the parent's, so the worker cannot swap the capture file for a
    link the parent would then read.
    """
    directory = scratch_directory("sandbox")
    work = directory / "work"
    work.mkdir(mode=0o700)
    capture = directory / "output"
    capture.touch(mode=0o600)
    if lease is not None:
        directory.chmod(0o711)
        for path in (work, capture):
            os.chown(path, lease.uid, lease.gid)
    return directory, work, capture


def remove_directory(directory: Path) -> None:
    """Remove a worker's directory even if learned code made parts of it read-only."""
    empty_directory(str(directory))
    shutil.rmtree(directory, ignore_errors=True)
