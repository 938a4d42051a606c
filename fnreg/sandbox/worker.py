"""The program that runs learned code inside a sandbox worker process.

Started by :mod:`fnreg.sandbox.pool` as ``python -I -B worker.py`` with stdin and stdout as pipes
to the parent. Stdlib only: it runs under whatever interpreter the toolset needs and must never
import fnreg, openai or anything else that could hold a secret. Keep it compatible with older
Pythons than fnreg itself needs.

Protocol, one JSON object per line:

- parent → worker: a config object, then requests ``{"id": n, "op": "call" | "run" | "reset"}``;
- worker → parent: ``{"ok": ...}`` for the config (the hello), then one reply per request,
  carrying the request's ``id``.

Before any learned code runs the pipes move to private descriptors and fds 0/1/2 become
/dev/null and a capture file, so whatever learned code, a C library or a child process prints
lands in the capture file and can never be mistaken for a reply. When the config names a uid
(the parent runs as root), the worker drops to that otherwise unused uid before reading any
request; see the docstring of :mod:`fnreg.sandbox` for what that buys.
"""

from __future__ import annotations

import ast
import builtins
import codecs
import gc
import importlib
import importlib.machinery
import json
import linecache
import os
import resource
import shutil
import signal
import stat
import sys
import time
import traceback

PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
MAX_FRAMES = 6  # traceback frames of learned code shown in an error
IMPORT_MACHINERY = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
RLIMITS = ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NPROC", "RLIMIT_CORE")
SHARED_DIRECTORIES = ("/tmp", "/var/tmp", "/dev/shm")  # world-writable: learned code may write


def read_capture(fd: int, limit: int) -> str:
    """Decode the file open at ``fd`` as UTF-8, keeping ``limit`` characters and a marker.

    Shared with the parent, which reads the capture file of a worker that died mid-call.
    """
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


class FreshSourceLoader(importlib.machinery.SourceFileLoader):
    """Compile learned code from its source every time, never from a ``__pycache__``.

    A ``.pyc`` is trusted when the source's mtime (in whole seconds) and size match, so a
    function rewritten within one second with the same length (``a - b`` → ``a + b``) would run
    stale code. ``SourceLoader.get_code`` skips bytecode when ``path_stats`` raises OSError.
    """

    def path_stats(self, path: str) -> dict:
        raise OSError("bytecode is never used for learned code")


class Unreadable(Exception):
    """The learned code itself cannot be read: the sandbox's problem, not the code's."""


class Worker:
    """State of this worker process: its config, private pipes and the session's namespace."""

    def __init__(self, config: dict, reader, reply_fd: int) -> None:
        self.config = config
        self.reader = reader
        self.reply_fd = reply_fd
        self.pid = os.getpid()
        self.dedicated_uid = config.get("uid") is not None
        self.root = config["root"]
        self.libc = None
        self.namespace: dict = {}
        self.cells = 0
        self.unenforced: list = []
        self.aliases: dict = {}

    # -- start-up ------------------------------------------------------------------------

    def setup(self) -> None:
        """Drop privileges, redirect output, set limits and the import path; raise on failure."""
        config = self.config
        if config.get("sweep_only"):  # only end what an earlier worker with this uid left
            drop_privileges(config["uid"], config["gid"])
            self.kill_strays()
            self.remove_shared_files()
            return
        self.work_fd = os.open(config["work"], os.O_RDONLY | os.O_DIRECTORY)
        self.capture_fd = os.open(config["capture"], os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        self.capture_read_fd = os.open(config["capture"], os.O_RDONLY | os.O_NOFOLLOW)
        path_fds = open_import_path(sys.path)
        self.load_libc()  # imports ctypes: before the drop, the stdlib may be out of reach after
        self.prctl(PR_SET_NO_NEW_PRIVS, "no_new_privs")  # setuid binaries cannot regain root
        self.prctl(PR_SET_CHILD_SUBREAPER, "child_subreaper")  # orphans come back to be reaped
        if self.dedicated_uid:
            drop_privileges(config["uid"], config["gid"])
            self.kill_strays()  # leftovers of an earlier worker with this uid
            self.remove_shared_files()
        os.fchdir(self.work_fd)
        self.redirect_output()
        self.setup_imports(path_fds)
        self.check_readable(config.get("check"))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write raises, not kills
        self.apply_limits()
        self.environ = dict(os.environ)
        self.sys_path = list(sys.path)
        self.baseline = self.guarded_state()
        self.new_namespace()

    def load_libc(self) -> None:
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                self.libc = ctypes.CDLL(None, use_errno=True)
            except (ImportError, OSError):
                self.unenforced += ["no_new_privs", "child_subreaper"]

    def prctl(self, option: int, name: str) -> None:
        if self.libc is not None and self.libc.prctl(option, 1, 0, 0, 0) != 0:
            self.unenforced.append(name)

    def redirect_output(self) -> None:
        self.devnull_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(self.devnull_fd, 0)
        os.dup2(self.capture_fd, 1)
        os.dup2(self.capture_fd, 2)
        for stream in (sys.stdout, sys.stderr):
            # Line buffering keeps prints and tracebacks in the order they happened.
            stream.reconfigure(encoding="utf-8", errors="backslashreplace", line_buffering=True)
        self.streams = (sys.stdin, sys.stdout, sys.stderr)

    def setup_imports(self, path_fds: dict) -> None:
        """Put ``root`` first on the import path, learned code fresh, the stdlib reachable."""
        aliases = {path: reachable(path, fd) for path, fd in path_fds.items()}
        self.aliases = {alias: path for path, alias in aliases.items() if alias != path}
        sys.path[:] = [self.root] + [aliases.get(p, p) for p in sys.path]
        remap_package_paths({p: a for p, a in aliases.items() if a != p})
        root = self.root.rstrip("/")

        def hook(path: str):
            if path == root or path.startswith(root + "/"):
                return importlib.machinery.FileFinder(path, (FreshSourceLoader, importlib.machinery.SOURCE_SUFFIXES))
            raise ImportError("not learned code")

        sys.path_hooks.insert(0, hook)
        sys.path_importer_cache.clear()
        sys.dont_write_bytecode = True

    def check_readable(self, directory: str | None) -> None:
        """Fail at start-up, not at the first call, when the toolset cannot be read."""
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise PermissionError(self.unreadable(self.root))
        if not directory or not os.path.isdir(directory):
            return
        names = [os.path.join(directory, n) for n in sorted(os.listdir(directory)) if n.endswith(".py")]
        for name in [directory, *names]:
            mode = os.R_OK | (os.X_OK if name == directory else 0)
            if not os.access(name, mode):
                raise PermissionError(self.unreadable(name))

    def unreadable(self, path: str) -> str:
        # The checkout is never opened while privileged: a descriptor to it would also expose
        # its parent directories (say a repository in /root holding a .env) to learned code.
        return (
            f"the sandbox user (uid {os.getuid()}) cannot read {path}: learned code runs as an "
            f"unprivileged user, so the checkout must be readable by others and its parent "
            f"directories searchable (chmod -R o+rX {self.root}; chmod o+x on each parent)"
        )

    def apply_limits(self) -> None:
        config = self.config
        self.set_limit("RLIMIT_CORE", 0)
        self.set_limit("RLIMIT_FSIZE", config["file_size_bytes"])
        tasks = tasks_of_uid(os.getuid())
        if tasks is None and self.dedicated_uid:
            tasks = 1
        if tasks is None:
            self.unenforced.append("max_processes")
        else:  # RLIMIT_NPROC counts every task of the real uid, so count what exists already
            self.set_limit("RLIMIT_NPROC", tasks + config["max_processes"])
        self.set_limit("RLIMIT_AS", config["memory_bytes"])  # last: the steps above allocate

    def set_limit(self, name: str, value: int) -> None:
        which = getattr(resource, name, None)
        try:
            hard = resource.getrlimit(which)[1]
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))  # hard too: learned code cannot raise it
        except (TypeError, ValueError, OSError):
            self.unenforced.append(name)

    # -- requests ------------------------------------------------------------------------

    def serve(self) -> None:
        while True:
            line = self.reader.readline()
            if not line:
                return  # the parent closed the pipe: shut down
            request = json.loads(line)
            try:
                reply = self.handle(request)
            except Exception as exc:  # noqa: BLE001 - learned code broke the worker itself
                reply = {"ok": False, "output": "", "value": None, "retire": True}
                reply["error"] = f"the sandbox worker broke ({type(exc).__name__}: {exc})"
            reply["id"] = request.get("id")
            self.send(reply)
            if reply.get("retire"):
                return

    def send(self, message: dict) -> None:
        data = memoryview((json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))
        while data:
            data = data[os.write(self.reply_fd, data) :]

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "call":
            module, name, arguments = request["module"], request["name"], request["arguments"]
            return self.run_user_code(lambda: self.call(module, name, arguments))
        if op == "run":
            return self.run_user_code(lambda: self.run_cell(request["code"]))
        if op == "reset":
            return self.reset()
        return {
            "ok": False,
            "error": None,
            "sandbox_error": f"unknown request {op!r} to the worker",
        }

    def run_user_code(self, body) -> dict:
        """Run ``body`` (learned code) with output captured and the per-call CPU limit set."""
        # Re-point fds 0/1/2 in case learned code closed or redirected them in an earlier call.
        os.dup2(self.devnull_fd, 0)
        os.dup2(self.capture_fd, 1)
        os.dup2(self.capture_fd, 2)
        os.ftruncate(1, 0)  # fds 1 and 2 share one append-mode description with any children
        self.limit_cpu()
        value = error = sandbox_error = None
        out_of_memory = False
        try:
            value = body()
        except BaseException as exc:  # noqa: BLE001 - SystemExit and all: learned code's fault
            self.exit_if_forked_child()
            error = self.describe(exc)
            sandbox_error = str(exc) if isinstance(exc, Unreadable) else None
            out_of_memory = isinstance(exc, MemoryError)
            del exc
        self.exit_if_forked_child()
        if out_of_memory:
            gc.collect()  # give back what the failed allocation's frames held
        output = self.collect_output()
        limit = self.config["output_chars"]
        reply = {
            "ok": error is None,
            "output": output,
            "value": None if value is None else truncate(clean_text(value), limit),
            "error": None if error is None else truncate(clean_text(error), limit),
        }
        if sandbox_error:
            reply["sandbox_error"] = sandbox_error
        return reply

    def exit_if_forked_child(self) -> None:
        # Learned code that forks without exec would otherwise return here twice and both
        # copies would answer the parent and read its next request.
        if os.getpid() != self.pid:
            os._exit(0)

    def limit_cpu(self) -> None:
        # A warm worker has already used CPU: the limit counts from here. Only the soft limit
        # moves (an unprivileged process cannot raise a hard limit again); SIGXCPU kills.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = usage.ru_utime + usage.ru_stime
        # Whole seconds only: round, but stay above what is used already.
        soft = max(round(used + self.config["cpu_seconds"]), int(used) + 1)
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
        if self.libc is not None:
            self.libc.fflush(None)  # C-level printf buffers of learned code
        sys.stdin, sys.stdout, sys.stderr = self.streams  # learned code may have replaced them
        return read_capture(self.capture_read_fd, self.config["output_chars"])

    def call(self, module_name: str, name: str, arguments: dict):
        try:
            module = importlib.import_module(module_name)
        except PermissionError as exc:
            raise Unreadable(self.unreadable(str(exc.filename))) from exc
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

    # -- errors --------------------------------------------------------------------------

    def describe(self, exc: BaseException) -> str:
        """``Type: message`` and the last traceback lines of learned code."""
        if isinstance(exc, SystemExit):
            return "SystemExit" if exc.code is None else f"SystemExit: {exc.code}"
        only = traceback.format_exception_only(type(exc), exc)
        head = only[-1].strip()
        if isinstance(exc, MemoryError):
            mib = self.config["memory_bytes"] // (1024 * 1024)
            head = f"MemoryError: out of memory (the sandbox allows {mib} MiB of address space)"
        frames = traceback.extract_tb(exc.__traceback__)
        # From the first frame of learned code on: not this file, not the import machinery.
        first = next((i for i, f in enumerate(frames) if self.is_learned(f.filename)), len(frames))
        frames = [f for f in frames[first:] if f.filename not in IMPORT_MACHINERY][-MAX_FRAMES:]
        parts = [head]
        if frames:
            parts += [
                "Traceback (most recent call last):",
                "".join(traceback.format_list(frames)).rstrip(),
            ]
        if len(only) > 1:  # SyntaxError: the offending line and a caret
            parts.append("".join(only[:-1]).rstrip())
        text = "\n".join(parts)
        for alias, path in self.aliases.items():  # show real paths, not /proc/self/fd/N
            text = text.replace(f'"{alias}/', f'"{path.rstrip("/")}/')
        return text.replace(f'"{self.root.rstrip("/")}/', '"')

    def is_learned(self, filename: str) -> bool:
        """Whether ``filename`` is learned code: a notebook cell or a file under ``root``."""
        return filename.startswith("<cell ") or filename.startswith(self.root.rstrip("/") + "/")

    # -- between sessions ----------------------------------------------------------------

    def reset(self) -> dict:
        """Forget the session: namespace, learned modules, files, processes, environment."""
        problems = []
        self.new_namespace()
        package = self.config["package"]
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]  # the next session imports learned code afresh
        importlib.invalidate_caches()
        os.fchdir(self.work_fd)
        os.environ.clear()
        os.environ.update(self.environ)
        sys.path[:] = self.sys_path
        if not self.end_processes():
            problems.append("child processes still running")
        if not empty_directory("."):
            problems.append("could not empty the working directory")
        if not self.remove_shared_files():
            problems.append("could not remove files left in shared temporary directories")
        if sys.modules.get("threading") and sys.modules["threading"].active_count() > 1:
            problems.append("threads still running")
        if self.guarded_state() != self.baseline:
            problems.append("limits, signal handlers, import hooks or standard streams changed")
        return {"ok": True, "clean": not problems, "why": "; ".join(problems)}

    def guarded_state(self) -> tuple:
        """What learned code could change to weaken the sandbox for later sessions."""
        handlers = []
        for number in sorted(signal.valid_signals()):
            try:
                handlers.append(signal.getsignal(number))
            except (ValueError, OSError):
                pass
        hooks = [id(hook) for hook in (*sys.meta_path, *sys.path_hooks)]
        return current_rlimits(), handlers, hooks, [stream.closed for stream in self.streams]

    def new_namespace(self) -> None:
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        for filename in [f for f in linecache.cache if f.startswith("<cell ")]:
            del linecache.cache[filename]
        self.cells = 0

    def end_processes(self) -> bool:
        """Kill what the session started and reap it; False if some processes remain."""
        if self.dedicated_uid:
            kill = self.kill_strays
        elif os.path.isdir("/proc/self/task"):
            kill = kill_descendants
        else:
            return reap_children()  # nothing to kill with: the parent replaces this worker
        deadline = time.monotonic() + 2.0
        while True:  # repeat: a process may fork while it is being killed
            kill()
            if reap_children():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)

    def remove_shared_files(self) -> bool:
        """Remove what this dedicated uid left in world-writable directories (say /tmp), so
        the next task on this worker cannot find it. Without a dedicated uid, files there may
        be the user's own: they are left alone."""
        if not self.dedicated_uid or os.getuid() != self.config["uid"]:
            return True
        clean = True
        for directory in SHARED_DIRECTORIES:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        force_remove(entry.path)
                    else:
                        os.unlink(entry.path)
                except FileNotFoundError:
                    pass
                except Exception:  # noqa: BLE001 - OSError, RecursionError
                    clean = False
        return clean

    def kill_strays(self) -> None:
        # Every other process of this dedicated uid belongs to this worker: kill(-1) reaches
        # them all at once, including those that escaped the process group with setsid.
        if self.dedicated_uid and os.getuid() == self.config["uid"] != 0:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass


# -- helpers without state -----------------------------------------------------------------


def reap_children() -> bool:
    """Reap every child that has ended; True when no child is left."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            return False


def kill_descendants() -> None:
    """SIGKILL this process's descendants, found through /proc (Linux)."""
    todo, seen = [os.getpid()], set()
    while todo and len(seen) < 100_000:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    found = [int(child) for child in children.read().split()]
            except (OSError, ValueError):
                continue
            todo += [child for child in found if child not in seen]
            seen.update(found)
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


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
        os.close(fd)
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


def current_rlimits() -> list:
    return [resource.getrlimit(getattr(resource, n)) for n in RLIMITS if hasattr(resource, n)]


def empty_directory(path: str) -> bool:
    """Remove everything in ``path`` (never following symlinks); False if something stays."""
    try:
        for entry in os.scandir(path):
            if entry.is_dir(follow_symlinks=False):
                force_remove(entry.path)
            else:
                os.unlink(entry.path)
        return not os.listdir(path)
    except Exception:  # noqa: BLE001 - OSError, or RecursionError on an absurdly deep tree
        return False


def force_remove(path: str) -> None:
    """``shutil.rmtree`` that also removes directories learned code made read-only."""
    try:
        shutil.rmtree(path)
    except OSError:
        os.chmod(path, 0o700)
        for entry in os.scandir(path):
            if entry.is_dir(follow_symlinks=False):
                force_remove(entry.path)
            else:
                os.unlink(entry.path)
        os.rmdir(path)


def main() -> None:
    # Claim the pipes before anything else can print into them.
    reader = os.fdopen(os.dup(0), "rb")
    reply_fd = os.dup(1)
    config = json.loads(reader.readline())
    worker = Worker(config, reader, reply_fd)
    try:
        worker.setup()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises SandboxError
        worker.send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    if config.get("sweep_only"):
        return
    worker.send({"ok": True, "pid": os.getpid(), "uid": os.getuid(), "unenforced": worker.unenforced})
    try:
        worker.serve()
    finally:
        worker.kill_strays()
        worker.remove_shared_files()
        # Skip interpreter shutdown: threads and atexit handlers of learned code could hang it.
        os._exit(0)


if __name__ == "__main__":
    main()
