"""The sandbox runs learned code in real worker subprocesses and contains what it does wrong.

Every hazard test checks what a user would notice: the call reports it, nothing escaped, and
the next call works (on a replaced worker where the old one had to die).
"""

from __future__ import annotations

import json
import os
import py_compile
import shutil
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fnreg.errors import SandboxError
from fnreg.sandbox import DEFAULT_ENV_ALLOW, ExecResult, Limits, Sandbox
from fnreg.sandbox.jail import jail_support
from tests.processes import descendants, process_gone

AS_ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not AS_ROOT, reason="file permissions only protect when fnreg runs as root")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
QUICK = Limits(wall_seconds=20, cpu_seconds=20, memory_bytes=1024 * 1024 * 1024)


@pytest.fixture(params=["jail", "process"])
def mode(request: pytest.FixtureRequest) -> str:
    """Both isolation modes (the jail only where it can start here)."""
    if request.param == "jail" and not jail_support().available:
        pytest.skip(f"no jail on this machine: {jail_support().reason}")
    return request.param


def marker() -> str:
    """A unique ``sleep`` argument: a process started with it can be found on the host."""
    return f"{time.time_ns() % 10**6}.{os.getpid()}{threading.get_ident() % 1000}"


def survivors(tag: str) -> list[int]:
    """Host processes (zombies excluded) whose command line holds ``tag``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            command = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if tag in command and state != "Z":
            found.append(int(name))
    return found


def gone(tag: str, seconds: float = 10.0) -> bool:
    """True once no host process carries ``tag`` (a killed process may take a moment to vanish)."""
    deadline = time.monotonic() + seconds
    while survivors(tag):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def root() -> Iterator[Path]:
    """A checkout with a ``registry.demo`` toolset.

    Not under tmp_path: pytest keeps that under a 0700 directory, which the unprivileged
    sandbox user cannot search (that case has its own test).
    """
    path = Path(tempfile.mkdtemp(prefix="fnreg-sandbox-test-"))
    path.chmod(0o755)
    write(path, "registry/__init__.py", "")
    write(path, "registry/demo/__init__.py", "")
    write_function(
        path,
        "add",
        "def add(a: int, b: int) -> int:\n    print('adding', a, b)\n    return a + b\n",
    )
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o755)
    path.write_text(text)
    path.chmod(0o644)
    return path


def write_function(root: Path, name: str, source: str) -> Path:
    return write(root, f"registry/demo/{name}.py", textwrap.dedent(source))


def call(sandbox: Sandbox, name: str, **arguments: object) -> ExecResult:
    with sandbox.session() as session:
        return session.call_function(name, arguments)


# -- ordinary calls ----------------------------------------------------------------------------


def test_call_returns_value_and_output(root: Path) -> None:
    write_function(root, "info", "def info():\n    return {'n': 1, 'pi': 3.5}\n")
    write_function(root, "obj", "def obj():\n    return object.__new__(type('Thing', (), {}))\n")
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        added = session.call_function("add", {"a": 1, "b": 2})
        assert (added.ok, added.value, added.output, added.error) == (
            True,
            "3",
            "adding 1 2\n",
            None,
        )
        assert added.as_tool_output() == "adding 1 2\n3"
        assert session.call_function("info", {}).value == '{"n": 1, "pi": 3.5}'
        assert session.call_function("obj", {}).value.startswith("<")


def test_exception_is_reported_with_type_message_and_line(root: Path) -> None:
    write_function(root, "div", "def div(a, b):\n    return a / b\n")
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        result = session.call_function("div", {"a": 1, "b": 0})
        assert not result.ok
        assert result.error.startswith("ZeroDivisionError: division by zero")
        assert 'registry/demo/div.py", line 2, in div' in result.error
        assert "return a / b" in result.error
        assert "worker.py" not in result.error  # only learned code's frames
        assert result.as_tool_output().startswith("ZeroDivisionError")
        assert session.call_function("div", {"a": 6, "b": 3}).value == "2.0"


def test_bad_calls_are_reported_to_the_agent(root: Path) -> None:
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        missing = session.call_function("nope", {})
        assert missing.error == "ModuleNotFoundError: No module named 'registry.demo.nope'"
        wrong = session.call_function("add", {"a": 1, "c": 2})
        assert wrong.error.startswith("TypeError: add() got an unexpected keyword argument 'c'")
        assert session.call_function("../etc/passwd", {}).error.startswith("ValueError")
        with pytest.raises(SandboxError, match="JSON"):
            session.call_function("add", {"a": object(), "b": 1})


def test_sys_exit_is_an_error_and_the_worker_survives(root: Path) -> None:
    write_function(root, "quit", "import sys\n\ndef quit():\n    sys.exit(3)\n")
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        assert session.call_function("quit", {}).error == "SystemExit: 3"
        session.run_python("x = 1")
        assert session.run_python("import sys; sys.exit(3)").error == "SystemExit: 3"
        assert session.run_python("x").value == "1"  # same worker: notebook state kept


def test_preloaded_modules_are_imported_once_in_the_zygote(root: Path) -> None:
    code = "import sys; 'email.mime.text' in sys.modules"
    with Sandbox(root, toolset="demo", limits=QUICK, preload=["email.mime.text"]) as sandbox:
        with sandbox.session() as session:
            assert session.run_python(code).value == "True"
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        assert session.run_python(code).value == "False"


def test_learned_code_imports_stdlib_and_installed_packages(root: Path) -> None:
    code = "import fractions, email.mime.text, importlib.metadata\n"
    code += "importlib.metadata.version('pytest')"
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        result = session.run_python(code)
        assert result.ok, result.error
        assert result.value == repr(pytest.__version__)


# -- notebook semantics and sessions ---------------------------------------------------------------


def test_notebook_state_persists_within_a_session_and_not_beyond(root: Path) -> None:
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox:
        with sandbox.session() as session:
            assert session.run_python("x = 41\nprint('set')").as_tool_output() == "set"
            assert session.run_python("x + 1").value == "42"
            assert session.run_python("open('notes.txt', 'w').write('hi')").value == "2"
            assert session.run_python("for i in range(2): print(i)").value is None
        with sandbox.session() as session:
            assert session.run_python("'x' in globals()").value == "False"
            # (a Python installed under /tmp appears there too, read-only: see test_jail.py)
            assert session.run_python("import os; 'notes.txt' in os.listdir('.')").value == "False"
            assert session.run_python("pass").as_tool_output() == "(no output)"


def test_syntax_error_in_a_cell(root: Path) -> None:
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        result = session.run_python("print('hi')\nx = = 1")
        assert result.error.startswith("SyntaxError: invalid syntax")
        assert "x = = 1" in result.error and "ast.py" not in result.error


def test_concurrent_sessions_from_threads(root: Path) -> None:
    results: dict[int, list[str | None]] = {}

    def task(i: int) -> None:
        with sandbox.session() as session:
            session.run_python(f"mine = {i}")
            values = [session.call_function("add", {"a": i, "b": k}).value for k in range(5)]
            results[i] = [*values, session.run_python("mine").value]

    with Sandbox(root, toolset="demo", limits=QUICK, size=2) as sandbox:
        threads = [threading.Thread(target=task, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert results == {i: [*(str(i + k) for k in range(5)), str(i)] for i in range(6)}


def test_session_waits_for_a_free_worker_at_most_its_timeout(root: Path) -> None:
    with Sandbox(root, toolset="demo", limits=QUICK, size=1) as sandbox, sandbox.session():
        with pytest.raises(SandboxError, match="busy"), sandbox.session(timeout=0.2):
            pass


@linux_only
def test_worker_that_died_while_idle_is_replaced_unnoticed(root: Path) -> None:
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox:
        with sandbox.session() as session:
            pid = int(session.run_python("import os; os.getpid()").value)
        os.kill(pid, 9)
        for _ in range(500):  # until it has died (the parent has not reaped it yet)
            if process_gone(pid):
                break
            time.sleep(0.01)
        assert call(sandbox, "add", a=1, b=2).value == "3"


def test_a_task_cannot_weaken_limits_for_the_next(root: Path) -> None:
    limits = Limits(cpu_seconds=1, wall_seconds=30)
    with Sandbox(root, toolset="demo", limits=limits) as sandbox:
        with sandbox.session() as session:
            session.run_python("import signal; signal.signal(signal.SIGXCPU, signal.SIG_IGN)")
            session.run_python("import os; os.close(1); os.close(2)")
            assert session.run_python("print('still captured')").output == "still captured\n"
        with sandbox.session() as session:
            assert "of CPU time" in session.run_python("while True: pass").error


def test_closed_sandbox_refuses_sessions(root: Path) -> None:
    sandbox = Sandbox(root, toolset="demo", limits=QUICK)
    sandbox.close()
    with pytest.raises(SandboxError, match="closed"), sandbox.session():
        pass


# -- hazards -------------------------------------------------------------------------------------


def test_wall_clock_timeout_replaces_the_worker(root: Path) -> None:
    write_function(
        root,
        "hang",
        "import time\n\ndef hang():\n    print('started', flush=True)\n    time.sleep(600)\n",
    )
    with (
        Sandbox(root, toolset="demo", limits=Limits(wall_seconds=1)) as sandbox,
        sandbox.session() as session,
    ):
        result = session.call_function("hang", {})
        assert result.error == "TimeoutError: call exceeded 1 s wall clock; the worker was restarted"
        assert result.output == "started\n"  # what it printed before it was stopped
        assert result.duration < 10
        assert session.call_function("add", {"a": 1, "b": 1}).value == "2"


@linux_only
def test_processes_escaping_a_timed_out_worker_end_with_the_sandbox(root: Path, mode: str) -> None:
    tag = marker()
    code = (
        "import subprocess, time\n"
        f"subprocess.Popen(['sleep', '{tag}'], start_new_session=True)\n"
        "print('started', flush=True)\n"
        "time.sleep(60)"
    )
    with Sandbox(root, toolset="demo", limits=Limits(wall_seconds=2), mode=mode) as sandbox:
        with sandbox.session() as session:
            result = session.run_python(code)
            assert result.error.startswith("TimeoutError")
            assert result.output == "started\n"
            assert gone(tag)  # killed with the timed-out worker, not only at the session's end


@linux_only
def test_closing_a_pool_ends_its_prepared_sessions_before_it_returns(root: Path, mode: str) -> None:
    before = descendants(os.getpid())
    sandbox = Sandbox(root, toolset="demo", size=4, mode=mode)
    with sandbox.session() as session:
        assert session.call_function("add", {"a": 1, "b": 2}).value == "3"
    time.sleep(0.5)  # the next sessions are prepared meanwhile: their processes exist
    pool = descendants(os.getpid()) - before
    assert len(pool) >= 4  # the zygote (in the jail, bwrap too) and prepared sessions
    sandbox.close()
    assert [pid for pid in pool if not process_gone(pid)] == []  # ended, not merely reparented away from us


def test_cpu_limit_counts_per_call_and_stops_busy_loops(root: Path) -> None:
    write_function(
        root,
        "burn",
        """
        import time

        def burn(seconds: float) -> str:
            end = time.process_time() + seconds
            while seconds < 0 or time.process_time() < end:
                pass
            return "done"
        """,
    )
    limits = Limits(cpu_seconds=1, wall_seconds=30)
    with Sandbox(root, toolset="demo", limits=limits) as sandbox, sandbox.session() as session:
        # A warm worker accumulates CPU time; each call still gets its own second.
        burned = [session.call_function("burn", {"seconds": 0.6}).value for _ in range(2)]
        assert burned == ["done", "done"]
        result = session.call_function("burn", {"seconds": -1})
        assert result.error == "TimeoutError: call exceeded 1 s of CPU time; the worker was restarted"
        assert result.duration < 10
        assert session.call_function("burn", {"seconds": 0}).value == "done"


def test_memory_bomb_raises_memory_error(root: Path) -> None:
    write_function(root, "huge", "def huge():\n    return len(bytearray(64 * 1024**3))\n")
    write_function(
        root,
        "grow",
        """
        def grow():
            hoard = []
            while True:
                hoard.append(bytearray(32 * 1024**2))
        """,
    )
    limits = Limits(memory_bytes=512 * 1024 * 1024, wall_seconds=30)
    with Sandbox(root, toolset="demo", limits=limits) as sandbox, sandbox.session() as session:
        for name in ("huge", "grow"):
            result = session.call_function(name, {})
            assert result.error.startswith("MemoryError: out of memory (the sandbox allows 512 MiB")
            assert session.call_function("add", {"a": 2, "b": 2}).value == "4"


@linux_only
def test_fork_bomb_is_contained_and_cleaned_up(root: Path, mode: str) -> None:
    tag = marker()
    write_function(
        root,
        "bomb",
        f"""
        import os

        def bomb():
            forks = 0
            for _ in range(200):  # bounded, in case containment fails
                try:
                    pid = os.fork()
                except OSError as exc:
                    return {{"forks": forks, "error": str(exc)}}
                if pid == 0:
                    os.execvp("sleep", ["sleep", "{tag}"])
                forks += 1
            return {{"forks": forks, "error": None}}
        """,
    )
    limits = Limits(max_processes=8, wall_seconds=30)
    with Sandbox(root, toolset="demo", limits=limits, mode=mode) as sandbox:
        with sandbox.session() as session:
            result = session.call_function("bomb", {})
            report = json.loads(result.value)
            assert report["forks"] <= 8
            assert "Resource temporarily unavailable" in report["error"]
            deadline = time.monotonic() + 10
            while not survivors(tag):
                assert time.monotonic() < deadline, "the bomb's processes never started"
                time.sleep(0.05)
        assert gone(tag)  # killed when the session ended
        assert call(sandbox, "add", a=1, b=2).value == "3"


@linux_only
def test_processes_started_by_a_task_end_with_its_session(root: Path, mode: str) -> None:
    plain, escaped, orphan = marker(), marker() + "1", marker() + "2"
    code = (
        "import os, subprocess\n"
        f"subprocess.Popen(['sleep', '{plain}'])\n"
        f"subprocess.Popen(['sleep', '{escaped}'], start_new_session=True)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    subprocess.Popen(['nohup', 'sleep', '{orphan}'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "import time; time.sleep(0.2)"
    )
    with Sandbox(root, toolset="demo", limits=QUICK, mode=mode) as sandbox:
        with sandbox.session() as session:
            assert session.run_python(code).ok
            deadline = time.monotonic() + 10  # a loaded machine may take a moment to exec them
            while not (survivors(plain) and survivors(escaped) and survivors(orphan)):
                assert time.monotonic() < deadline, "the task's processes never started"
                time.sleep(0.05)
        # even those that left the worker's process group, or were orphaned by a double fork
        assert gone(plain) and gone(escaped) and gone(orphan)


def test_crashes_replace_the_worker(root: Path) -> None:
    write_function(root, "leave", "import os\n\ndef leave():\n    print('bye', flush=True)\n    os._exit(0)\n")
    write_function(root, "segfault", "import ctypes\n\ndef segfault():\n    ctypes.string_at(0)\n")
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        left = session.call_function("leave", {})
        assert left.error.startswith("worker exited with status 0")
        assert left.error.endswith("the worker was restarted")
        assert left.output == "bye\n"
        crashed = session.call_function("segfault", {})
        assert crashed.error.startswith("worker crashed (signal SIGSEGV)")
        assert session.call_function("add", {"a": 1, "b": 2}).value == "3"
        session.run_python("x = 1")
        lost = session.run_python("import os; os._exit(1)")
        assert "variables from earlier cells of this session are gone" in lost.error
        assert session.run_python("'x' in globals()").value == "False"
        assert "restarted" in session.run_python("import os; os.closerange(3, 4096)").error
        assert session.call_function("add", {"a": 1, "b": 2}).value == "3"


def test_huge_output_is_truncated_with_a_marker(root: Path) -> None:
    write_function(
        root,
        "loud",
        """
        import os
        import subprocess

        def loud():
            print("x" * 1_000_000)
            os.write(2, b"from C level\\n")
            subprocess.run(["echo", "from a child"])
            return "y" * 5000
        """,
    )
    with Sandbox(root, toolset="demo", limits=Limits(output_chars=1000)) as sandbox:
        with sandbox.session() as session:
            result = session.call_function("loud", {})
    total = 1_000_001 + len("from C level\n") + len("from a child\n")
    assert result.output == "x" * 1000 + f"\n... [output truncated: {total - 1000} more characters]"
    assert result.value == "y" * 1000 + "\n... [output truncated: 4000 more characters]"


def test_output_of_children_and_c_code_is_captured_in_order(root: Path) -> None:
    code = "import os, subprocess\nprint('a')\nos.write(1, b'b\\n')\n"
    code += "subprocess.run(['echo', 'c'])\nprint('d')"
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        assert session.run_python(code).output == "a\nb\nc\nd\n"
        if sys.platform.startswith("linux"):  # C stdio buffers too
            printf = session.run_python("import ctypes; ctypes.CDLL(None).printf(b'from printf\\n')")
            assert printf.output == "from printf\n"


def test_printing_cannot_forge_a_reply(root: Path) -> None:
    forged = '{"id": 2, "ok": true, "output": "", "value": "forged", "error": null}'
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        first = session.run_python(f"import os\nprint({forged!r})\nos.write(1, b'\\n' + {forged!r}.encode())")
        assert first.ok and "forged" in first.output
        assert session.run_python("1 + 1").value == "2"


def test_secrets_never_reach_learned_code(root: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    secrets = {
        "OPENAI_API_KEY": "sk-test",
        "GITHUB_TOKEN": "ghp_x",
        "AWS_SECRET_ACCESS_KEY": "a",
        "DB_PASSWORD": "p",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    write_function(
        root,
        "peek",
        """
        import os

        def peek(names: list) -> dict:
            seen = {name: os.environ.get(name) for name in names}
            return seen | {"home": os.environ["HOME"], "cwd": os.getcwd()}
        """,
    )
    widened = (*DEFAULT_ENV_ALLOW, *secrets)  # an allowlist widened by mistake
    with Sandbox(root, toolset="demo", limits=QUICK, env_allow=widened, mode=mode) as sandbox:
        with sandbox.session() as session:
            seen = json.loads(session.call_function("peek", {"names": list(secrets)}).value)
            parent_env = session.run_python(f"open('/proc/{os.getpid()}/environ', 'rb').read()")
    assert {name: seen[name] for name in secrets} == dict.fromkeys(secrets)
    assert seen["home"] == seen["cwd"]  # HOME is the worker's own temporary directory
    # nor can it read them from fnreg's process: not visible (jail), not dumpable (process)
    assert not parent_env.ok and "sk-test" not in (parent_env.value or "")


def test_writes_land_in_the_working_directory(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox, sandbox.session() as session:
        assert session.run_python("open('relative.txt', 'w').write('x')").ok
    assert not (tmp_path / "relative.txt").exists()


def test_writes_outside_the_working_directory_are_denied(root: Path, tmp_path: Path, mode: str) -> None:
    if mode == "process" and not AS_ROOT:
        pytest.skip("process mode: file permissions only protect when fnreg runs as root (documented)")
    targets = [
        tmp_path / "escape.txt",
        root / "registry" / "demo" / "evil.py",
        Path("/etc/fnreg-escape"),
    ]
    with Sandbox(root, toolset="demo", limits=QUICK, mode=mode) as sandbox, sandbox.session() as session:
        for target in targets:
            result = session.run_python(f"open({str(target)!r}, 'w').write('pwned')")
            assert not result.ok and result.error.split(":")[0] in {
                "PermissionError",
                "FileNotFoundError",
                "OSError",
            }, result.error
        assert not session.run_python("open('/etc/hostname', 'a')").ok
    assert not any(target.exists() for target in targets)


def test_files_left_in_shared_temporary_directories_do_not_reach_the_next_task(root: Path, mode: str) -> None:
    if mode == "process" and not AS_ROOT:
        pytest.skip("process mode: only a dedicated uid (fnreg as root) knows which files are the task's")
    shared = [d for d in ("/tmp", "/var/tmp", "/dev/shm") if os.path.isdir(d)]
    leaks = [f"{directory}/fnreg-leak-{os.getpid()}" for directory in shared]
    write_code = f"import os\nfor p in {leaks!r}:\n    try: open(p, 'w').write('answer')\n    except OSError: pass\n"
    with Sandbox(root, toolset="demo", limits=QUICK, mode=mode) as sandbox:
        with sandbox.session() as session:
            assert session.run_python(write_code + "[os.path.exists(p) for p in " + repr(leaks) + "]").value != repr(
                [False] * len(leaks)
            )
        with sandbox.session() as session:
            found = session.run_python(f"import os; [os.path.exists(p) for p in {leaks!r}]")
    assert found.value == repr([False] * len(leaks))
    assert not any(os.path.exists(leak) for leak in leaks)  # nor on the host


@root_only
def test_checkout_under_a_private_folder(tmp_path: Path, mode: str) -> None:
    write(tmp_path, "registry/demo/__init__.py", "")  # tmp_path itself is 0700, owned by root
    write(tmp_path, "registry/demo/one.py", "def one():\n    return 1\n")
    if mode == "process":  # the borrowed uid must reach the checkout through its parents
        with pytest.raises(SandboxError, match="cannot read .*chmod"):
            Sandbox(tmp_path, toolset="demo", limits=QUICK, mode=mode)
        return
    # The jail shows the toolset itself (fnreg mounts it for the borrowed uid), nothing around it.
    with Sandbox(tmp_path, toolset="demo", limits=QUICK, mode=mode) as sandbox:
        assert call(sandbox, "one").value == "1"


@root_only
def test_unreadable_function_is_a_sandbox_error(root: Path, mode: str) -> None:
    secret = write_function(root, "private", "def private():\n    return 1\n")
    secret.chmod(0o600)
    with pytest.raises(SandboxError, match="private.py"):
        Sandbox(root, toolset="demo", limits=QUICK, mode=mode)


def test_rewritten_function_is_never_served_from_stale_bytecode(root: Path) -> None:
    path = write_function(root, "sub", "def sub(a, b):\n    return a - b\n")
    stamp = path.stat().st_mtime_ns
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox:
        assert call(sandbox, "sub", a=1, b=2).value == "-1"
        # Same length, same second: exactly what fools a __pycache__ check.
        path.write_text("def sub(a, b):\n    return a + b\n")
        os.utime(path, ns=(stamp, stamp))
        assert call(sandbox, "sub", a=1, b=2).value == "3"  # the next session sees it
    assert not list(root.rglob("__pycache__"))


def test_stale_pycache_left_by_another_process_is_ignored(root: Path) -> None:
    path = write_function(root, "sub", "def sub(a, b):\n    return a - b\n")
    py_compile.compile(str(path), cfile=None, doraise=True)  # e.g. the user ran their tests
    stamp = path.stat().st_mtime_ns
    path.write_text("def sub(a, b):\n    return a + b\n")
    os.utime(path, ns=(stamp, stamp))
    with Sandbox(root, toolset="demo", limits=QUICK) as sandbox:
        assert call(sandbox, "sub", a=1, b=2).value == "3"


def test_folders_of_killed_processes_are_swept() -> None:
    """A run killed with SIGKILL leaves its temporary folders; the next sandbox removes them."""
    import subprocess

    from fnreg.sandbox import scratch

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = scratch.scratch_directory("stage")
    renamed = stale.with_name(f"fnreg-stage-{dead.pid}-test")
    stale.rename(renamed)
    (renamed / "registry").mkdir()
    (renamed / "registry" / "readonly").mkdir(mode=0o500)  # learned code may make folders read-only
    mine = scratch.scratch_directory("stage")
    try:
        scratch.sweep_stale.cache_clear()
        assert scratch.sweep_stale() >= 1
        assert not renamed.exists() and mine.exists()
    finally:
        scratch.remove_scratch(mine)


def test_the_sweep_never_follows_links_nor_touches_unmarked_folders(tmp_path: Path) -> None:
    """The critical bug of issue 10: a planted ``/tmp/fnreg-stage-<dead pid>-x -> /some/dir``
    made the next run empty ``/some/dir``. Only real, marked folders of this uid are removed."""
    import subprocess

    from fnreg.sandbox import scratch

    victim = tmp_path / "victim"
    (victim / "keep").mkdir(parents=True)
    (victim / "file.txt").write_text("precious")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    temp = Path(tempfile.gettempdir())
    link = temp / f"fnreg-stage-{dead.pid}-link"
    unmarked = temp / f"fnreg-stage-{dead.pid}-unmarked"
    inner = scratch.scratch_directory("stage")
    planted = inner.with_name(f"fnreg-sandbox-{dead.pid}-inner")
    inner.rename(planted)
    try:
        link.symlink_to(victim)
        unmarked.mkdir()
        (unmarked / "data").write_text("not fnreg's")
        (planted / "escape").symlink_to(victim)  # a link inside a folder fnreg does remove
        (planted / "hard").hardlink_to(victim / "file.txt")
        scratch.sweep_stale.cache_clear()
        scratch.sweep_stale()
        assert (victim / "file.txt").read_text() == "precious" and (victim / "keep").is_dir()
        assert link.is_symlink() and (unmarked / "data").exists()  # not fnreg's: left alone
        assert not planted.exists()
    finally:
        link.unlink(missing_ok=True)
        shutil.rmtree(unmarked, ignore_errors=True)
