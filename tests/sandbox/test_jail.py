"""Choosing the isolation mode: the jail where it starts, a clear error where it was asked for and
cannot start, the process sandbox with one warning otherwise; network only when a task set opts in;
``fnreg doctor`` says which applies and why."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fnreg.errors import SandboxError, TaskSetError
from fnreg.evaluation.tasks import load_task_set
from fnreg.sandbox import Limits, Sandbox
from fnreg.sandbox.jail import jail_support
from tests.sandbox.test_sandbox import QUICK, call, root  # noqa: F401 - the fixture

REPO = Path(__file__).resolve().parents[2]
needs_jail = pytest.mark.skipif(not jail_support().available, reason=f"no jail here: {jail_support().reason}")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux namespaces")

# Runs the rest of its command line in a new user namespace whose user.max_user_namespaces is 0,
# as an ordinary uid: exactly a machine where unprivileged user namespaces are disabled.
WITHOUT_USERNS = textwrap.dedent("""
    import ctypes, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(0x10000000) != 0:
        sys.exit("unshare failed: " + os.strerror(ctypes.get_errno()))
    for path, text in (("setgroups", "deny"), ("uid_map", f"1000 {uid} 1"), ("gid_map", f"1000 {gid} 1")):
        with open(f"/proc/self/{path}", "w") as handle:
            handle.write(text)
    with open("/proc/sys/user/max_user_namespaces", "w") as handle:
        handle.write("0")
    os.execv(sys.argv[1], sys.argv[1:])
    """)


def without_userns(*argv: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_USERNS, sys.executable, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@linux_only
def test_jail_asked_for_where_it_cannot_start_is_an_error_naming_the_sysctl(root: Path) -> None:
    code = (
        "from fnreg.sandbox import Sandbox\n"
        "from fnreg.errors import SandboxError\n"
        "try:\n"
        f"    Sandbox({str(root)!r}, toolset='demo', mode='jail')\n"
        "except SandboxError as exc:\n"
        "    print(exc)\n"
    )
    proc = without_userns("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert "the jail cannot start" in proc.stdout
    assert "user.max_user_namespaces = 0" in proc.stdout
    assert "--sandbox process" in proc.stdout  # what to do instead


@linux_only
def test_without_a_jail_auto_falls_back_to_the_process_sandbox_with_one_warning(root: Path) -> None:
    code = (
        "import logging\n"
        "logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(message)s')\n"
        "from fnreg.sandbox import Sandbox\n"
        "for _ in range(2):\n"
        f"    with Sandbox({str(root)!r}, toolset='demo') as sandbox, sandbox.session() as session:\n"
        "        print(sandbox.mode, session.call_function('add', {'a': 2, 'b': 3}).value)\n"
    )
    proc = without_userns("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["process 5", "process 5"]
    warnings = [line for line in proc.stderr.splitlines() if "without the jail" in line]
    assert len(warnings) == 1 and "user.max_user_namespaces = 0" in warnings[0]


@linux_only
def test_doctor_says_why_there_is_no_jail(tmp_path: Path) -> None:
    proc = without_userns("-m", "fnreg", "doctor", "--json", "--no-start", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["mode"] == "process" and report["jail"] is False
    assert "user.max_user_namespaces = 0" in report["reason"]


@needs_jail
def test_doctor_reports_the_jail_and_starts_one(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fnreg", "doctor", "--json"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    rows = dict(report["rows"])
    assert report["mode"] == "jail"
    assert rows["check"].startswith("ok: a jail-mode sandbox started and ran a call")
    assert "RLIMIT_AS" in rows["memory bound"] and "RLIMIT_NPROC" in rows["memory bound"]
    assert rows["fnreg's process"].startswith("not dumpable")


def test_an_unknown_mode_is_an_error(root: Path) -> None:
    with pytest.raises(SandboxError, match="unknown sandbox mode 'docker'"):
        Sandbox(root, toolset="demo", mode="docker")


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on the host's loopback that records what reaches it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(2)
                received.append(connection.recv(100))
                connection.sendall(b"pong")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join(timeout=5)
    server.close()


@needs_jail
def test_no_network_unless_the_task_set_opts_in(root: Path, listener: tuple[int, list[bytes]]) -> None:
    port, received = listener
    code = (
        "import socket\n"
        f"s = socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
        "s.sendall(b'ping'); s.recv(4)"
    )
    with Sandbox(root, toolset="demo", limits=QUICK, mode="jail") as sandbox, sandbox.session() as session:
        closed = session.run_python(code)
    assert not closed.ok and closed.error.startswith("OSError"), closed.error
    assert received == []
    with Sandbox(root, toolset="demo", limits=QUICK, mode="jail", network=True) as sandbox:
        assert sandbox.network
        with sandbox.session() as session:
            opened = session.run_python(code)
    assert opened.ok and opened.value == "b'pong'", opened.error
    assert received == [b"ping"]


@needs_jail
def test_the_jail_shows_only_the_toolset_read_only(root: Path) -> None:
    (root / "registry" / "other").mkdir()
    (root / "secret.txt").write_text("gold answers")
    code = (
        "import os\n"
        "[sorted(os.listdir('/sandbox')), sorted(os.listdir('/sandbox/registry')), "
        "os.path.exists('/sandbox/secret.txt')]"
    )
    with Sandbox(root, toolset="demo", limits=QUICK, mode="jail") as sandbox, sandbox.session() as session:
        assert session.run_python(code).value == "[['registry'], ['__init__.py', 'demo'], False]"
        denied = session.run_python("open('/sandbox/registry/demo/add.py', 'a').write('x')")
        # read-only mount (or, as root, first the borrowed uid's lack of permission)
        assert denied.error.startswith(("OSError: [Errno 30] Read-only", "PermissionError")), denied.error
        assert session.call_function("add", {"a": 1, "b": 1}).value == "2"
    assert (root / "registry" / "demo" / "add.py").read_text().endswith("return a + b\n")


@needs_jail
def test_tmp_is_private_and_size_capped(root: Path) -> None:
    limits = Limits(wall_seconds=20, tmp_bytes=4 * 1024 * 1024)
    with Sandbox(root, toolset="demo", limits=limits, mode="jail") as sandbox, sandbox.session() as session:
        full = session.run_python("open('/tmp/big', 'wb').write(b'x' * 8 * 1024 * 1024)")
        assert full.error.startswith("OSError: [Errno 28] No space left on device"), full.error
        assert session.run_python("import os; os.getcwd(), os.environ['HOME']").value == "('/tmp', '/tmp')"


def test_task_sets_opt_in_to_network(tmp_path: Path) -> None:
    folder = tmp_path / "tasks" / "web"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text('{"question": "q", "answer": "a"}\n')
    base = 'toolset = "web"\ntrain = "train.jsonl"\n'
    (folder / "task.toml").write_text(base)
    assert load_task_set("web", tmp_path).network is False
    (folder / "task.toml").write_text(base + "[sandbox]\nnetwork = true\n")
    assert load_task_set("web", tmp_path).network is True
    (folder / "task.toml").write_text(base + "[sandbox]\nnetwork = 'yes'\n")
    with pytest.raises(TaskSetError, match=r"\[sandbox\] network must be true or false"):
        load_task_set("web", tmp_path)
    (folder / "task.toml").write_text(base + "[sandbox]\ninternet = true\n")
    with pytest.raises(TaskSetError, match=r"unknown key 'internet' in \[sandbox\]"):
        load_task_set("web", tmp_path)


def test_project_setting_chooses_the_mode(git_repo: Path) -> None:
    from fnreg.commands.common import sandbox_setting
    from fnreg.errors import ConfigError

    pyproject = git_repo / "pyproject.toml"
    pyproject.write_text('[tool.fnreg]\nsandbox = "process"\n')
    assert sandbox_setting(git_repo, None) == "process"
    assert sandbox_setting(git_repo, "jail") == "jail"  # the flag wins
    pyproject.write_text('[tool.fnreg]\nsandbox = "auto"\n')
    assert sandbox_setting(git_repo, None) is None
    pyproject.write_text('[tool.fnreg]\nsandbox = "vm"\n')
    with pytest.raises(ConfigError, match="use one of jail, process, auto"):
        sandbox_setting(git_repo, None)


@needs_jail
def test_a_python_installed_under_tmp_runs_in_the_jail(root: Path, tmp_path: Path) -> None:
    # The jail's /tmp is a fresh tmpfs: a venv in a scratch clone under /tmp must still be shown.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    (
        venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages" / "installed_here.py"
    ).write_text("VALUE = 42\n")
    venv.chmod(0o755)
    with Sandbox(root, toolset="demo", limits=QUICK, mode="jail", python=python) as sandbox:
        for _ in range(2):  # every session has a fresh /tmp, and still sees the installation
            with sandbox.session() as session:
                assert session.call_function("add", {"a": 2, "b": 3}).value == "5"
                assert session.run_python("import sys, installed_here; sys.prefix, installed_here.VALUE").value == (
                    repr((str(venv), 42))
                )
                denied = session.run_python(f"open({str(venv / 'planted.py')!r}, 'w')")
                assert denied.error.startswith(("OSError: [Errno 30] Read-only", "PermissionError")), denied.error
