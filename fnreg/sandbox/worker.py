"""The program that runs learned code: zygote, session supervisor and executor.

Started by :mod:`fnreg.sandbox.pool` as ``python -I -B worker.py FD`` (inside the bubblewrap
jail, or as a plain subprocess in process mode), with FD a Unix socket to fnreg. Stdlib only: it
runs under whatever interpreter the toolset needs and must never import fnreg, openai or anything
else that could hold a secret. Keep it compatible with older Pythons than fnreg itself needs.

Three kinds of process run this file:

- **zygote** (one per pool): imports everything the workers need once, then forks one
  supervisor per session when fnreg asks (``{"op": "spawn"}`` on its control socket) and hands
  fnreg that session's two descriptors (SCM_RIGHTS). It never runs learned code.
- **supervisor** (one per session, trusted): forks the executor, relays the executor's replies to
  fnreg as opaque payloads in frames it writes itself, and kills the executor and everything it
  started when fnreg ends the session (or when fnreg, or the zygote, dies). In jail mode it first
  creates the session's own user, pid, mount, ipc, uts and (without network) net namespaces.
- **executor** (one per session): the only process that runs learned code. In jail mode it is
  pid 1 of the session's pid namespace, mounts a fresh /proc, a size-capped tmpfs on /tmp and
  /dev/shm and a new devpts, forbids further user namespaces, and drops every capability before
  it reads a request. It holds no descriptor on which fnreg accepts a frame: only the request pipe
  (read end), the pipe to its supervisor and the capture file of its output.

Frames from the supervisor to fnreg: one kind byte, a 4-byte big-endian length, the data.

- ``P``: one line the executor wrote (its hello, or the reply to a request). fnreg parses it
  strictly; anything malformed fails that call only.
- ``X``: the executor has ended (``{"exit": n}`` or ``{"signal": n}``, ``"killed"`` when fnreg
  asked, ``"output"`` the call's captured output). The supervisor then exits.

fnreg sends the supervisor ``K`` (or closes the socket) to end the session, and writes requests
(one JSON object per line, ``{"id", "op": "call" | "run", ...}``) into the executor's request pipe.
"""

from __future__ import annotations

import ast
import builtins
import codecs
import gc
import importlib
import importlib.machinery
import importlib.util
import json
import linecache
import os
import resource
import select
import signal
import socket
import stat
import struct
import sys
import time
import traceback

MAX_FRAMES = 6  # traceback frames of learned code shown in an error
IMPORT_MACHINERY = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
SHARED_DIRECTORIES = ("/tmp", "/var/tmp", "/dev/shm")  # world-writable: learned code may write
PRELOAD = (  # imported once in the zygote, so a session's first call does not pay for them
    "collections",
    "datetime",
    "decimal",
    "fractions",
    "functools",
    "itertools",
    "math",
    "random",
    "re",
    "statistics",
    "string",
    "typing",
    "asyncio",
    "subprocess",
)

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_BIND, MS_REC = 4096, 16384
LINUX_CAPABILITY_VERSION_3 = 0x20080522
FRAME_HEADER = struct.Struct(">cI")
MAX_LINE = 16 * 1024 * 1024  # a reply line longer than this is malformed (replies are truncated)

LIBC = None  # ctypes handle to libc on Linux, loaded once by the zygote


# -- small helpers shared by all three processes (and by fnreg's own process) ----------------------


def read_capture(fd: int, limit: int) -> str:
    """Decode the file open at ``fd`` as UTF-8, keeping ``limit`` characters and a marker."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    size = os.fstat(fd).st_size  # bound the loop even if a stray process is still writing
    kept, total, offset = [], 0, 0
    while True:
        chunk = os.pread(fd, min(1 << 20, size - offset), offset) if offset < size else b""
        text = decoder.decode(chunk, not chunk)
        if total < limit:
            kept.append(text[: limit - total])
        total += len(text)
        offset += len(chunk)
        if not chunk:
            return truncate("".join(kept), limit, total)


def truncate(text: str, limit: int, total: int | None = None) -> str:
    """``text`` cut to ``limit`` characters, with a marker saying how many were dropped."""
    total = len(text) if total is None else total
    if total <= limit:
        return text
    return f"{text[:limit]}\n... [output truncated: {total - limit} more characters]"


def clean_text(text: str) -> str:
    """Text that encodes as UTF-8 (learned code may return lone surrogates)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def remove_tree(name: str, dir_fd: int | None = None) -> bool:
    """Remove ``name`` (relative to ``dir_fd``) and everything under it, never following a link.

    Every step goes through descriptors (``openat`` with ``O_NOFOLLOW``, ``unlinkat``), so a
    symlink planted anywhere in the tree is removed as a link and its target is never touched,
    however the tree changes meanwhile. Directories learned code made read-only are opened up
    through their descriptor (``fchmod``). False if something could not be removed.
    """
    try:
        info = os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        try:
            os.unlink(name, dir_fd=dir_fd)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            return False
    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            return False  # swapped between lstat and open: leave it
        if not empty_directory_fd(fd):
            return False
    finally:
        os.close(fd)
    try:
        os.rmdir(name, dir_fd=dir_fd)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def empty_directory_fd(fd: int, depth: int = 0) -> bool:
    """Remove everything in the directory open at ``fd`` (see :func:`remove_tree`)."""
    if depth > 256:
        return False
    try:
        os.fchmod(fd, 0o700)
    except OSError:
        pass  # not ours: removing what is inside may still work
    clean = True
    try:
        names = os.listdir(fd)
    except OSError:
        return False
    for entry in names:
        try:
            info = os.lstat(entry, dir_fd=fd)
        except FileNotFoundError:
            continue
        except OSError:
            clean = False
            continue
        if stat.S_ISDIR(info.st_mode):
            try:
                child = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                clean = False
                continue
            try:
                clean = empty_directory_fd(child, depth + 1) and clean
            finally:
                os.close(child)
            try:
                os.rmdir(entry, dir_fd=fd)
            except FileNotFoundError:
                pass
            except OSError:
                clean = False
        else:
            try:
                os.unlink(entry, dir_fd=fd)
            except FileNotFoundError:
                pass
            except OSError:
                clean = False
    return clean


def load_libc():
    global LIBC
    if LIBC is None and sys.platform.startswith("linux"):
        try:
            import ctypes

            LIBC = ctypes.CDLL(None, use_errno=True)
        except (ImportError, OSError):
            LIBC = False
    return LIBC or None


def prctl(option: int, value: int = 1, arg3: int = 0) -> bool:
    libc = load_libc()
    return libc is not None and libc.prctl(option, value, arg3, 0, 0) == 0


def libc_call(name: str, *args) -> None:
    """Call ``name`` in libc; raise OSError with errno on failure."""
    import ctypes

    libc = load_libc()
    if libc is None:
        raise OSError(f"{name} needs Linux")
    if getattr(libc, name)(*args) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{name}: {os.strerror(number)}")


def write_file(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def frame(kind: bytes, data: bytes) -> bytes:
    return FRAME_HEADER.pack(kind, len(data)) + data


def send_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# -- the zygote ------------------------------------------------------------------------------------


class Zygote:
    """Forks one supervisor per session; holds the configuration every session shares."""

    def __init__(self, control: socket.socket, config: dict) -> None:
        self.control = control
        self.config = config
        self.jail = config["mode"] == "jail"
        self.supervisors: set = set()
        self.unenforced: list = []
        self.path_fds: dict = {}

    def setup(self) -> None:
        load_libc()
        prctl(PR_SET_DUMPABLE, 0)  # same-uid learned code (process mode) cannot read our memory
        if not self.jail:
            # Dies with fnreg (SIGTERM: the supervisors end their sessions first) and adopts
            # what dead sessions left behind, to end it.
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            prctl(PR_SET_CHILD_SUBREAPER, 1)
            if os.getppid() != self.config.get("parent_pid", os.getppid()):
                os._exit(0)  # fnreg died before the death signal was armed
        signal.signal(signal.SIGTERM, lambda *_: self.shutdown())
        if self.config.get("uid") is not None:  # process mode as root: sessions drop to these ids
            self.path_fds = open_import_path(sys.path)
        for name in PRELOAD + tuple(self.config.get("preload", ())):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a preload is only an optimisation
                pass
        if self.jail and load_libc() is None:
            raise OSError("the jail needs libc (ctypes) to create a session's namespaces")
        gc.freeze()  # sessions are forks: keep the collector from touching (copying) shared pages

    def serve(self) -> None:
        while True:
            try:
                ready = select.select([self.control], [], [], 0.5)[0]
            except InterruptedError:
                ready = []
            if ready:
                try:
                    message, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 4)
                except OSError:
                    message, fds = b"", []
                for fd in fds:
                    os.close(fd)
                if not message:
                    self.shutdown()
                self.handle(json.loads(message))
            self.reap()

    def handle(self, request: dict) -> None:
        if request.get("op") != "spawn":
            return
        try:
            pid, fds = self.spawn(request)
        except OSError as exc:
            reply = {"op": "spawn_failed", "tag": request.get("tag"), "error": f"{type(exc).__name__}: {exc}"}
            try:
                socket.send_fds(self.control, [json.dumps(reply).encode()], [])
            except OSError:
                self.shutdown()
            return
        try:
            reply = {"op": "spawned", "tag": request.get("tag"), "pid": pid}
            socket.send_fds(self.control, [json.dumps(reply).encode()], fds)
            sent = True
        except OSError:
            sent = False
        for fd in fds:
            os.close(fd)  # the session's supervisor sees the end of fnreg's side when fnreg does
        if not sent:
            self.shutdown()  # fnreg is gone

    def spawn(self, request: dict) -> tuple:
        """Fork a supervisor for one session; return its pid and fnreg's two descriptors."""
        fnreg_end, supervisor_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request_read, request_write = os.pipe()
        # SIGTERM stays blocked across the fork until the supervisor has its own handler.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            for fd in (fnreg_end.detach(), supervisor_end.detach(), request_read, request_write):
                os.close(fd)
            raise
        if pid != 0:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        if pid == 0:  # the supervisor
            code = 1
            try:
                fnreg_end.close()
                os.close(request_write)
                self.control.close()
                code = Supervisor(self, supervisor_end.detach(), request_read, request).run()
            except BaseException:  # noqa: BLE001 - nothing may unwind into the zygote's loop
                traceback.print_exc()
            finally:
                os._exit(code)
        self.supervisors.add(pid)
        supervisor_end.close()
        os.close(request_read)
        return pid, [fnreg_end.detach(), request_write]

    def reap(self) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                break
            self.supervisors.discard(pid)
        if not self.jail:
            self.kill_adopted()

    def kill_adopted(self) -> None:
        """End processes of dead sessions that were reparented to this zygote (a subreaper)."""
        for pid in children_of(os.getpid()):
            if pid not in self.supervisors:
                for stray in [*descendants_of(pid), pid]:
                    try:
                        os.kill(stray, signal.SIGKILL)
                    except OSError:
                        pass

    def shutdown(self) -> None:
        """fnreg is gone or closed the pool: end every session, then exit."""
        if self.jail:
            # The jail's pid 1 (bwrap) ends when this process does, and the kernel then kills
            # every process in the jail's pid namespace, sessions' own namespaces included; the
            # sessions keep nothing outside the jail to clean up. Ending them one by one first
            # only made every evaluation wait longer for its pool to close.
            os._exit(0)
        for pid in list(self.supervisors):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        # Wait for each supervisor's end as it happens (fnreg's close waits for this process):
        # blocking waits, bounded by an alarm whose default action ends this process anyway.
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        while self.supervisors:
            try:
                pid, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            self.supervisors.discard(pid)
        if not self.jail:
            self.kill_adopted()  # what dead sessions left behind (in the jail, its end ends them)
        os._exit(0)


# -- the supervisor --------------------------------------------------------------------------------


class Supervisor:
    """One session's trusted half: creates the executor, relays its replies, ends it."""

    def __init__(self, zygote: Zygote, fnreg_fd: int, request_fd: int, request: dict) -> None:
        self.zygote = zygote
        self.config = zygote.config
        self.fnreg_fd = fnreg_fd
        self.request_fd = request_fd
        self.uid = request.get("uid")
        self.sweep = bool(request.get("sweep"))
        self.killed = False
        self.executor = 0
        self.executor_reaped = False

    def run(self) -> int:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, lambda *_: self.end(0))
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # blocked by the zygote's fork
        # The zygote's end: a supervisor ends its session when the zygote (so fnreg) is gone.
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:
            self.end(0)  # the zygote died before the death signal was armed
        capture_read, capture_append = make_capture()
        reply_read, reply_write = os.pipe()
        work = None
        if self.zygote.jail:
            prctl(PR_SET_DUMPABLE, 1)  # a non-dumpable process cannot write its own uid_map
            enter_session_namespaces(self.config)
            prctl(PR_SET_DUMPABLE, 0)
        else:
            prctl(PR_SET_CHILD_SUBREAPER, 1)  # what the session orphans comes back here
            if self.uid is not None and self.sweep:
                self.end_processes_of_uid()  # left by an earlier fnreg killed with SIGKILL
            work = make_work_directory(self.config["work_base"], self.uid)
        self.work = work
        status_read, status_write = os.pipe() if self.zygote.jail else (None, None)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for fd in (self.fnreg_fd, reply_read, status_read):
                    if fd is not None:
                        os.close(fd)
                executor = Executor(
                    self.config, self.request_fd, reply_write, (capture_read, capture_append), work, self.uid
                )
                if self.zygote.jail:
                    code = SessionInit(executor, status_write).run()
                else:
                    code = executor.run()
            except BaseException:  # noqa: BLE001 - reported as the executor's exit status
                traceback.print_exc()
            finally:
                os._exit(code)
        self.executor = pid
        for fd in (self.request_fd, reply_write, capture_append, status_write):
            if fd is not None:
                os.close(fd)
        self.capture_read = capture_read
        self.status_read = status_read
        return self.relay(reply_read)

    def relay(self, reply_read: int) -> int:
        """Forward the executor's lines as ``P`` frames until it ends or fnreg ends the session."""
        poller = select.poll()
        poller.register(self.fnreg_fd, select.POLLIN)
        poller.register(reply_read, select.POLLIN)
        pidfd = open_pidfd(self.executor)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        buffer = bytearray()
        discarding = False
        status = None
        while status is None:
            try:
                events = poller.poll(None if pidfd is not None else 200)
            except InterruptedError:
                continue
            for fd, _ in events:
                if fd == self.fnreg_fd:
                    try:
                        command = os.read(self.fnreg_fd, 64)
                    except OSError:
                        command = b""
                    if not command or b"K" in command:
                        self.killed = True
                        self.kill_session()
                        status = self.wait_executor()
                elif fd == reply_read:
                    chunk = os.read(reply_read, 1 << 16)
                    if not chunk:
                        poller.unregister(reply_read)
                        continue
                    buffer += chunk
                    while True:
                        end = buffer.find(b"\n")
                        if end < 0:
                            break
                        line = bytes(buffer[:end])
                        del buffer[: end + 1]
                        if line and not discarding:
                            self.send(b"P", line)
                        discarding = False
                    if len(buffer) > MAX_LINE:  # a line that never ends: malformed, drop it
                        self.send(b"P", b"")
                        buffer.clear()
                        discarding = True
            if status is None:
                status = self.poll_executor()
        self.drain(reply_read, buffer)
        self.send_exit(status)
        return 0

    def drain(self, reply_read: int, buffer: bytearray) -> None:
        """Forward the complete lines the executor wrote before it ended."""
        os.set_blocking(reply_read, False)
        while len(buffer) <= MAX_LINE:
            try:
                chunk = os.read(reply_read, 1 << 16)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            buffer += chunk
        for line in bytes(buffer).split(b"\n")[:-1]:
            if line:
                self.send(b"P", line[:MAX_LINE])

    def send(self, kind: bytes, data: bytes) -> None:
        try:
            send_all(self.fnreg_fd, frame(kind, data))
        except OSError:  # fnreg is gone: end the session
            self.killed = True
            self.kill_session()
            self.wait_executor()
            self.cleanup()
            os._exit(0)

    def poll_executor(self):
        try:
            pid, status = os.waitpid(self.executor, os.WNOHANG)
        except ChildProcessError:
            return {"exit": -1}
        if pid == 0:
            return None
        self.executor_reaped = True
        self.end_leftovers()
        return self.executor_status(status)

    def wait_executor(self):
        while True:
            try:
                _, status = os.waitpid(self.executor, 0)
                self.executor_reaped = True
                return self.executor_status(status)
            except InterruptedError:
                continue
            except ChildProcessError:
                return {"exit": -1}

    def executor_status(self, status: int) -> dict:
        """The executor's end. In jail mode our child is the session's init, which reports it."""
        if self.status_read is None:
            return decode_status(status)
        try:
            data = os.read(self.status_read, 16)
        except OSError:
            data = b""
        if len(data) == 4:
            return decode_status(struct.unpack(">i", data)[0])
        return {"signal": signal.SIGKILL}  # the init itself was killed (fnreg ended the session)

    def kill_session(self) -> None:
        """Kill the executor and everything it started."""
        if self.zygote.jail:
            # The session's init, pid 1 of its pid namespace: the kernel kills the rest with it.
            try:
                os.kill(self.executor, signal.SIGKILL)
            except OSError:
                pass
            return
        self.end_leftovers(include_executor=True)

    def end_leftovers(self, include_executor: bool = False) -> None:
        """Process mode: kill what the session left (also after the executor died by itself)."""
        if self.zygote.jail:
            return
        if self.uid is not None:
            if include_executor and not self.executor_reaped:
                try:
                    os.kill(self.executor, signal.SIGKILL)
                except OSError:
                    pass
            self.end_processes_of_uid()
            return
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            strays = descendants_of(os.getpid())
            if not include_executor:
                strays = [p for p in strays if p != self.executor]
            if not strays:
                return
            for pid in strays:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            reap_children(keep=() if include_executor else (self.executor,))
            time.sleep(0.002)

    def end_processes_of_uid(self) -> None:
        """Every process of the session's dedicated uid is the session's: ``kill(-1)`` as that uid
        ends them all, also those that left the process group; then remove its shared files."""
        deadline = time.monotonic() + 5.0
        while True:
            as_uid(self.uid, kill_all)
            reap_children(keep=() if self.executor_reaped else (self.executor,))
            if not live_processes_of_uid(self.uid) or time.monotonic() > deadline:
                break
            time.sleep(0.002)
        as_uid(self.uid, lambda: remove_shared_files(self.uid))

    def send_exit(self, status: dict) -> None:
        limit = self.config["limits"]["output_chars"]
        try:
            output = read_capture(self.capture_read, limit)
        except OSError:
            output = ""
        status.update(killed=self.killed, output=output)
        self.cleanup()
        self.send(b"X", json.dumps(status).encode())

    def cleanup(self) -> None:
        if self.work:
            parent, name = os.path.split(self.work)
            try:
                fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            except OSError:
                return
            try:
                remove_tree(name, fd)
            finally:
                os.close(fd)
            self.work = None

    def end(self, code: int) -> None:
        self.killed = True
        if self.executor:
            self.kill_session()
            self.wait_executor()
        self.cleanup()
        os._exit(code)


def make_capture() -> tuple:
    """A file for the executor's output that only descriptors reach: (read fd, append fd)."""
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        read_fd = os.memfd_create("fnreg-output", os.MFD_CLOEXEC)
        append_fd = os.open(f"/proc/self/fd/{read_fd}", os.O_WRONLY | os.O_APPEND)
        return read_fd, append_fd
    import tempfile

    fd, path = tempfile.mkstemp(prefix="fnreg-output-")
    append_fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.unlink(path)
    return fd, append_fd


def enter_session_namespaces(config: dict) -> None:
    """New user, pid, mount, ipc and uts namespaces (and net, unless the task set opted in).

    The executor forked next is pid 1 of the new pid namespace: killing it kills the session.
    """
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    if not config.get("network"):
        flags |= CLONE_NEWNET
    libc_call("unshare", flags)
    write_file("/proc/self/setgroups", "deny")
    write_file("/proc/self/uid_map", f"{uid} {uid} 1")
    write_file("/proc/self/gid_map", f"{gid} {gid} 1")


def make_work_directory(base: str, uid) -> str:
    """Process mode: a fresh directory for the session (cwd, HOME and TMPDIR)."""
    import tempfile

    path = tempfile.mkdtemp(prefix="session-", dir=base)
    if uid is not None:
        os.chown(path, uid, uid)
    return path


# -- the session's init (jail mode) ---------------------------------------------------------------


class SessionInit:
    """Pid 1 of a session's pid namespace (jail mode): sets up its file systems, starts the
    executor, reaps orphans, and reports the executor's end to the supervisor.

    The executor cannot be pid 1 itself: the kernel does not deliver signals without a handler
    to a namespace's init, so SIGXCPU (the CPU limit) would never stop it. Learned code cannot
    signal or trace this process either (a handler-less init, not dumpable).
    """

    def __init__(self, executor: Executor, status_fd: int) -> None:
        self.executor = executor
        self.status_fd = status_fd

    def run(self) -> int:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
            signal.signal(number, signal.SIG_DFL)
        try:
            mount_session_filesystems(self.executor.limits["tmp_bytes"], self.executor.config.get("tmp_keep", ()))
        except OSError as exc:
            self.executor.send({"hello": False, "error": f"{type(exc).__name__}: {exc}"})
            return 1
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(self.status_fd)
                code = self.executor.run()
            except BaseException:  # noqa: BLE001 - reported as the executor's exit status
                traceback.print_exc()
            finally:
                os._exit(code)
        prctl(PR_SET_DUMPABLE, 0)
        executor = self.executor
        for fd in (executor.request_fd, executor.reply_fd, executor.capture_fd, executor.capture_read_fd):
            os.close(fd)
        while True:  # reap whatever ends; when the executor does, report it and end the session
            try:
                ended, status = os.waitpid(-1, 0)
            except InterruptedError:
                continue
            except ChildProcessError:
                return 1
            if ended == pid:
                send_all(self.status_fd, struct.pack(">i", status))
                return 0


def mount_session_filesystems(tmp_bytes: int, keep: list | tuple = ()) -> None:
    """A fresh /proc for the session's pid namespace, size-capped tmpfs /tmp and /dev/shm, a
    private devpts; no further user namespaces (so no nested unshare for learned code).

    ``keep``: directories under /tmp (a Python installed there) shown again, still read-only,
    on top of the fresh /tmp: the bind of a read-only mount is read-only too.
    """
    tmp_options = f"size={tmp_bytes},mode=0700,uid={os.getuid()},gid={os.getgid()}".encode()
    held = [os.open(path, os.O_PATH | os.O_DIRECTORY) for path in keep]
    libc_call("mount", b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    libc_call("mount", b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, tmp_options)
    for path, fd in zip(keep, held):
        os.makedirs(path, mode=0o755, exist_ok=True)
        libc_call("mount", f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None)
        os.close(fd)
    if os.path.isdir("/dev/shm"):
        libc_call("mount", b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, tmp_options)
    if os.path.isdir("/dev/pts"):
        options = b"newinstance,ptmxmode=0666,mode=0620"
        libc_call("mount", b"devpts", b"/dev/pts", b"devpts", MS_NOSUID | MS_NOEXEC, options)
    write_file("/proc/sys/user/max_user_namespaces", "0")


# -- the executor ----------------------------------------------------------------------------------


class FreshSourceLoader(importlib.machinery.SourceFileLoader):
    """Compile learned code from its source every time, never from a ``__pycache__``.

    A ``.pyc`` is trusted when the source's mtime (in whole seconds) and size match, so a
    function rewritten within one second with the same length (``a - b`` → ``a + b``) would run
    stale code. ``SourceLoader.get_code`` skips bytecode when ``path_stats`` raises OSError.
    """

    def path_stats(self, path: str) -> dict:
        raise OSError("bytecode is never used for learned code")


class Executor:
    """The process that runs one session's learned code."""

    def __init__(self, config: dict, request_fd: int, reply_fd: int, capture: tuple, work, uid) -> None:
        self.config = config
        self.limits = config["limits"]
        self.root = config["root"]
        self.request_fd = request_fd
        self.reply_fd = reply_fd
        self.capture_read_fd, self.capture_fd = capture
        self.work = work
        self.uid = uid
        self.jail = config["mode"] == "jail"
        self.pid = os.getpid()
        self.unenforced: list = []
        self.aliases: dict = {}
        self.cells = 0
        self.namespace: dict = {}

    def run(self) -> int:
        self.pid = os.getpid()
        try:
            self.setup()
        except Exception as exc:  # noqa: BLE001 - reported to fnreg, which raises SandboxError
            self.send({"hello": False, "error": f"{type(exc).__name__}: {exc}"})
            return 1
        self.warm_up()
        self.send({"hello": True, "unenforced": self.unenforced})
        reader = os.fdopen(self.request_fd, "rb", buffering=1 << 16)
        first = True
        while True:
            line = reader.readline()
            if not line:
                return 0  # fnreg closed the pipe
            if first:  # the toolset may have changed since this process was prepared
                importlib.invalidate_caches()
                self.recount_processes()
                first = False
            try:
                request = json.loads(line)
                reply = self.handle(request)
                reply["id"] = request.get("id")
            except Exception as exc:  # noqa: BLE001 - a request learned code injected, say
                reply = {"id": None, "ok": False, "output": "", "value": None, "error": f"bad request: {exc}"}
            self.send(reply)

    def send(self, message: dict) -> None:
        # The leading newline ends any partial line learned code wrote to this pipe, so its
        # garbage can never swallow the reply.
        send_all(self.reply_fd, ("\n" + json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))

    def warm_up(self) -> None:
        """Run the request path once on nothing learned, while the session is still a spare.

        A fresh fork shares its pages with the zygote; the first request would otherwise pay for
        copying every page it writes (hundreds of page faults) while a task waits.
        """
        reply = self.run_user_code(lambda: self.run_cell("_ = [1]\n_"))
        json.loads(json.dumps({**reply, "id": 0}, ensure_ascii=False))
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        self.cells = 0
        linecache.cache.pop("<cell 1>", None)
        try:
            importlib.util.find_spec(self.config["package"].split(".")[0])  # finds, never runs, it
        except (ImportError, ValueError):
            pass
        os.ftruncate(self.capture_fd, 0)

    # -- start-up (before any learned code) -----------------------------------------------------

    def setup(self) -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the supervisor is gone: so is the session
        prctl(PR_SET_DUMPABLE, 1)  # an ordinary process: only the zygote and supervisor hide
        if self.jail:
            self.setup_jail()
        else:
            self.setup_process()
        self.redirect_output()
        if not self.jail:
            self.setup_imports()
        else:
            self.point_imports_at_root()
        check_readable(self.root, self.config.get("check"))  # as the user learned code runs as
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write raises, not kills
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        self.apply_limits()
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}

    def setup_jail(self) -> None:
        """Inside the session's namespaces (set up by its init): no capabilities, no new ones."""
        os.chdir("/tmp")
        self.set_environment("/tmp")
        drop_capabilities()
        if not prctl(PR_SET_NO_NEW_PRIVS):
            raise OSError("could not set no_new_privs")

    def setup_process(self) -> None:
        os.setsid()  # its own process group, away from the zygote's
        prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans come back to be killed at the session's end
        if not prctl(PR_SET_NO_NEW_PRIVS) and sys.platform.startswith("linux"):
            self.unenforced.append("no_new_privs")
        if self.uid is not None:
            drop_privileges(self.uid, self.uid)
        os.chdir(self.work)
        self.set_environment(self.work)

    def set_environment(self, home: str) -> None:
        os.environ.clear()
        os.environ.update(self.config["env"])
        for name in ("HOME", "TMPDIR", "TEMP", "TMP"):
            os.environ[name] = home
        if self.uid is not None:  # the borrowed uid has no passwd entry: name it for getpass
            os.environ["USER"] = os.environ["LOGNAME"] = "fnreg-sandbox"

    def redirect_output(self) -> None:
        self.devnull_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(self.devnull_fd, 0)
        os.dup2(self.capture_fd, 1)
        os.dup2(self.capture_fd, 2)
        for stream in (sys.stdout, sys.stderr):
            # Line buffering keeps prints and tracebacks in the order they happened.
            stream.reconfigure(encoding="utf-8", errors="backslashreplace", line_buffering=True)
        self.streams = (sys.stdin, sys.stdout, sys.stderr)
        for fd in (self.request_fd, self.reply_fd, self.capture_fd, self.capture_read_fd, self.devnull_fd):
            os.set_inheritable(fd, False)  # processes learned code starts get none of them

    def point_imports_at_root(self) -> None:
        sys.path[:] = [self.root] + [p for p in sys.path if p != self.root]
        self.install_fresh_loader()

    def setup_imports(self) -> None:
        """Process mode: ``root`` first, learned code fresh, the stdlib reachable after a drop."""
        aliases = {path: reachable(path, fd) for path, fd in self.config_path_fds().items()}
        self.aliases = {alias: path for path, alias in aliases.items() if alias != path}
        sys.path[:] = [self.root] + [aliases.get(p, p) for p in sys.path]
        remap_package_paths({p: a for p, a in aliases.items() if a != p})
        self.install_fresh_loader()

    def config_path_fds(self) -> dict:
        return ZYGOTE.path_fds if ZYGOTE is not None else {}

    def install_fresh_loader(self) -> None:
        root = self.root.rstrip("/")

        def hook(path: str):
            if path == root or path.startswith(root + "/"):
                return importlib.machinery.FileFinder(path, (FreshSourceLoader, importlib.machinery.SOURCE_SUFFIXES))
            raise ImportError("not learned code")

        sys.path_hooks.insert(0, hook)
        sys.path_importer_cache.clear()
        sys.dont_write_bytecode = True

    def apply_limits(self) -> None:
        limits = self.limits
        self.set_limit("RLIMIT_CORE", 0)
        self.set_limit("RLIMIT_FSIZE", limits["file_size_bytes"])
        if self.jail:
            # The session's own user namespace counts only its processes: the supervisor, the
            # session's init, this executor and what learned code starts.
            self.set_limit("RLIMIT_NPROC", limits["max_processes"] + 3)
        else:
            # A dedicated uid (fnreg is root) runs nothing else: the clean-up before this
            # session ended every process of it.
            tasks = 1 if self.uid is not None else tasks_of_uid(os.getuid())
            if tasks is None:
                self.unenforced.append("max_processes")
            else:  # RLIMIT_NPROC counts every task of the real uid, so count what exists already
                self.set_limit("RLIMIT_NPROC", tasks + limits["max_processes"])
        self.set_limit("RLIMIT_AS", limits["memory_bytes"])  # last: the steps above allocate

    def recount_processes(self) -> None:
        """Process mode, the user's own uid: count the uid's tasks again now the session is used.

        The session was prepared while the previous one still ran; its processes, ended since,
        would otherwise leave room for as many more.
        """
        if self.jail or self.uid is not None or "max_processes" in self.unenforced:
            return
        tasks = tasks_of_uid(os.getuid())
        if tasks is not None:
            current = resource.getrlimit(resource.RLIMIT_NPROC)[1]
            self.set_limit("RLIMIT_NPROC", min(current, tasks + self.limits["max_processes"]))

    def set_limit(self, name: str, value: int) -> None:
        which = getattr(resource, name, None)
        try:
            hard = resource.getrlimit(which)[1]
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))  # hard too: learned code cannot raise it
        except (TypeError, ValueError, OSError):
            self.unenforced.append(name)

    # -- requests -------------------------------------------------------------------------------

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "call":
            module, name, arguments = request["module"], request["name"], request["arguments"]
            return self.run_user_code(lambda: self.call(module, name, arguments))
        if op == "run":
            return self.run_user_code(lambda: self.run_cell(request["code"]))
        raise ValueError(f"unknown request {op!r}")

    def run_user_code(self, body) -> dict:
        """Run ``body`` (learned code) with output captured and the per-call CPU limit set."""
        # Re-point fds 0/1/2 in case learned code closed or redirected them in an earlier call.
        os.dup2(self.devnull_fd, 0)
        os.dup2(self.capture_fd, 1)
        os.dup2(self.capture_fd, 2)
        os.ftruncate(1, 0)  # fds 1 and 2 share one append-mode description with any children
        self.limit_cpu()
        value = error = None
        out_of_memory = False
        try:
            value = body()
        except BaseException as exc:  # noqa: BLE001 - SystemExit and all: learned code's fault
            self.exit_if_forked_child()
            error = self.describe(exc)
            out_of_memory = isinstance(exc, MemoryError)
            del exc
        self.exit_if_forked_child()
        if out_of_memory:
            gc.collect()  # give back what the failed allocation's frames held
        output = self.collect_output()
        limit = self.limits["output_chars"]
        return {
            "ok": error is None,
            "output": output,
            "value": None if value is None else truncate(clean_text(value), limit),
            "error": None if error is None else truncate(clean_text(error), limit),
        }

    def exit_if_forked_child(self) -> None:
        # Learned code that forks without exec would otherwise return here twice and both
        # copies would answer and read the next request.
        if os.getpid() != self.pid:
            os._exit(0)

    def limit_cpu(self) -> None:
        # The limit counts from here. Only the soft limit moves (an unprivileged process cannot
        # raise a hard limit again); SIGXCPU kills.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = usage.ru_utime + usage.ru_stime
        soft = max(round(used + self.limits["cpu_seconds"]), int(used) + 1)
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        except (ValueError, OSError):
            pass  # learned code lowered the hard limit; the wall clock still applies

    def collect_output(self) -> str:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed or replaced stream, a full disk
                pass
        if LIBC:
            LIBC.fflush(None)  # C-level printf buffers of learned code
        sys.stdin, sys.stdout, sys.stderr = self.streams  # learned code may have replaced them
        return read_capture(self.capture_read_fd, self.limits["output_chars"])

    def call(self, module_name: str, name: str, arguments: dict):
        module = importlib.import_module(module_name)
        function = getattr(module, name, None)
        if not callable(function):
            raise AttributeError(f"module {module_name} defines no function {name!r}")
        result = function(**arguments)
        if hasattr(result, "__await__"):
            import asyncio

            result = asyncio.run(result)
        return as_text(result)

    def run_cell(self, code: str):
        """Run ``code`` like a notebook cell; the repr of a final expression is the value."""
        self.cells += 1
        filename = f"<cell {self.cells}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        tree = ast.parse(code, filename, "exec")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), self.namespace)
        if last is None:
            return None
        result = eval(compile(ast.Expression(last.value), filename, "eval"), self.namespace)
        return None if result is None else repr(result)

    def describe(self, exc: BaseException) -> str:
        """``Type: message`` and the last traceback lines of learned code."""
        if isinstance(exc, SystemExit):
            return "SystemExit" if exc.code is None else f"SystemExit: {exc.code}"
        only = traceback.format_exception_only(type(exc), exc)
        head = only[-1].strip()
        if isinstance(exc, MemoryError):
            mib = self.limits["memory_bytes"] // (1024 * 1024)
            head = f"MemoryError: out of memory (the sandbox allows {mib} MiB of address space)"
        frames = traceback.extract_tb(exc.__traceback__)
        # From the first frame of learned code on: not this file, not the import machinery.
        first = next((i for i, f in enumerate(frames) if self.is_learned(f.filename)), len(frames))
        frames = [f for f in frames[first:] if f.filename not in IMPORT_MACHINERY][-MAX_FRAMES:]
        parts = [head]
        if frames:
            parts += ["Traceback (most recent call last):", "".join(traceback.format_list(frames)).rstrip()]
        if len(only) > 1:  # SyntaxError: the offending line and a caret
            parts.append("".join(only[:-1]).rstrip())
        text = "\n".join(parts)
        for alias, path in self.aliases.items():  # show real paths, not /proc/self/fd/N
            text = text.replace(f'"{alias}/', f'"{path.rstrip("/")}/')
        return text.replace(f'"{self.root.rstrip("/")}/', '"')

    def is_learned(self, filename: str) -> bool:
        """Whether ``filename`` is learned code: a notebook cell or a file under ``root``."""
        return filename.startswith("<cell ") or filename.startswith(self.root.rstrip("/") + "/")


# -- helpers without state -----------------------------------------------------------------------


def drop_capabilities() -> None:
    """Empty every capability set, the bounding set included (jail executor, before learned code)."""
    import ctypes

    libc = load_libc()
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            last = int(handle.read())
    except (OSError, ValueError):
        last = 40
    for cap in range(last + 1):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:  # EINVAL: unknown cap
            raise OSError(ctypes.get_errno(), "could not drop the capability bounding set")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "could not drop capabilities")


def decode_status(status: int) -> dict:
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1}


def open_pidfd(pid: int):
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def children_of(pid: int) -> list:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found += [int(child) for child in children.read().split()]
        except (OSError, ValueError):
            continue
    return found


def descendants_of(pid: int) -> list:
    """Every descendant of ``pid``, through /proc (Linux; empty elsewhere)."""
    todo, seen = [pid], []
    while todo and len(seen) < 100_000:
        for child in children_of(todo.pop()):
            if child not in seen:
                seen.append(child)
                todo.append(child)
    return seen


def reap_children(keep=()) -> None:
    """Reap every child that has ended (except ``keep``, waited for elsewhere)."""
    for pid in children_of(os.getpid()) if os.path.isdir("/proc/self") else ():
        if pid in keep:
            continue
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def as_uid(uid: int, job) -> None:
    """Run ``job`` in a child process that has become ``uid`` for good; wait for it."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            drop_privileges(uid, uid)
            job()
            code = 0
        finally:
            os._exit(code)
    while True:
        try:
            os.waitpid(pid, 0)
            return
        except InterruptedError:
            continue
        except ChildProcessError:
            return


def kill_all() -> None:
    """SIGKILL every process this uid may signal (all of its own but this one)."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass


def live_processes_of_uid(uid: int) -> bool:
    """Whether ``uid`` runs a process that is not a zombie (Linux; False without /proc)."""
    for name in os.listdir("/proc") if os.path.isdir("/proc/self") else ():
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            if int(fields["Uid"].split()[0]) == uid and not fields.get("State", "").strip().startswith("Z"):
                return True
        except (OSError, KeyError, ValueError):
            continue
    return False


def remove_shared_files(uid: int) -> None:
    """Remove what ``uid`` left in world-writable directories (say /tmp), never following links."""
    for directory in SHARED_DIRECTORIES:
        try:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            for name in os.listdir(fd):
                try:
                    if os.lstat(name, dir_fd=fd).st_uid == uid:
                        remove_tree(name, fd)
                except OSError:
                    continue
        finally:
            os.close(fd)


def as_text(value) -> str | None:
    """A function's return value as the text an LLM sees."""
    if value is None or isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` for good (real, effective and saved ids), with no extra groups."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != gid:
        raise PermissionError(f"could not switch to uid {uid}")


def open_import_path(paths: list) -> dict:
    """Open each existing path while still privileged, so it stays reachable after the drop."""
    fds = {}
    for path in paths:
        if path and path not in fds:
            try:
                fds[path] = os.open(path, os.O_RDONLY)
            except OSError:
                pass
    return fds


def reachable(path: str, fd: int) -> str:
    """``path`` if this process may read it, else an alias through the descriptor opened
    while privileged (e.g. the interpreter's stdlib under a 0700 /root)."""
    mode = os.R_OK | (os.X_OK if stat.S_ISDIR(os.fstat(fd).st_mode) else 0)
    if os.access(path, mode):
        return path
    alias = f"/proc/self/fd/{fd}"
    return alias if os.access(alias, mode) else path


def remap_package_paths(aliases: dict) -> None:
    """Point ``__path__`` of packages imported before the drop at the reachable aliases."""
    if not aliases:
        return
    prefixes = sorted(aliases, key=len, reverse=True)

    def remap(path: str) -> str:
        for prefix in prefixes:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return aliases[prefix] + path[len(prefix) :]
        return path

    for module in list(sys.modules.values()):
        paths = getattr(module, "__path__", None)
        if isinstance(paths, list):
            paths[:] = [remap(p) if isinstance(p, str) else p for p in paths]


def tasks_of_uid(uid: int) -> int | None:
    """Processes and threads of ``uid`` (what RLIMIT_NPROC counts), or None without /proc."""
    if not os.path.isdir("/proc/self"):
        return None
    count = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields.get("Threads", "1"))
        except (OSError, KeyError, ValueError):
            continue  # the process ended meanwhile
    return count


def check_readable(root: str, directory: str | None) -> None:
    """Fail at start-up, not at the first call, when the toolset cannot be read."""
    if not os.access(root, os.R_OK | os.X_OK):
        raise PermissionError(unreadable(root, root))
    if not directory or not os.path.isdir(directory):
        return
    names = [os.path.join(directory, n) for n in sorted(os.listdir(directory)) if n.endswith(".py")]
    for name in [directory, *names]:
        mode = os.R_OK | (os.X_OK if name == directory else 0)
        if not os.access(name, mode):
            raise PermissionError(unreadable(name, root))


def unreadable(path: str, root: str) -> str:
    return (
        f"the sandbox user (uid {os.getuid()}) cannot read {path}: learned code runs as an "
        f"unprivileged user, so the checkout must be readable by others and its parent "
        f"directories searchable (chmod -R o+rX {root}; chmod o+x on each parent)"
    )


ZYGOTE: Zygote | None = None


def main() -> None:
    global ZYGOTE
    control = socket.socket(fileno=int(sys.argv[1]))
    message, fds, _, _ = socket.recv_fds(control, 1 << 20, 4)
    for fd in fds:
        os.close(fd)
    config = json.loads(message)
    ZYGOTE = Zygote(control, config)
    try:
        ZYGOTE.setup()
    except Exception as exc:  # noqa: BLE001 - reported to fnreg, which raises SandboxError
        socket.send_fds(control, [json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}).encode()], [])
        return
    hello = {"ok": True, "pid": os.getpid(), "uid": os.getuid(), "unenforced": ZYGOTE.unenforced}
    socket.send_fds(control, [json.dumps(hello).encode()], [])
    ZYGOTE.serve()


if __name__ == "__main__":
    main()
