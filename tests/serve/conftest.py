"""A repository with a toolset of well-behaved and misbehaving functions, tagged, for serving."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import git

#: Seconds of wall clock per call in the served repository (its [tool.fnreg.limits]).
WALL_SECONDS = 3

FUNCTIONS = {
    "add": '''
        """Add two integers."""

        from typing import Annotated


        def add(a: Annotated[int, "The first number."], b: int = 1) -> int:
            """Add two integers."""
            return a + b
        ''',
    "stats": '''
        def stats(values: list[float]) -> dict[str, float]:
            """Mean and largest of some numbers."""
            print("computing")
            return {"mean": sum(values) / len(values), "largest": max(values)}
        ''',
    "shout": '''
        def shout(text: str):
            """Upper-case the text."""
            print("shouting")
            return text.upper()
        ''',
    "divide": '''
        def divide(a: float, b: float) -> float:
            """Divide a by b."""
            return a / b
        ''',
    "nap": '''
        import time


        def nap(seconds: float) -> str:
            """Sleep, then say so."""
            time.sleep(seconds)
            return "awake"
        ''',
    "crash": '''
        import os
        import signal


        def crash() -> str:
            """Kill the process that runs it."""
            os.kill(os.getpid(), signal.SIGKILL)
            return "unreachable"
        ''',
    "needs_package": '''
        import fnreg_no_such_package

        __requires__ = ["fnreg_no_such_package"]


        def needs_package(x: int) -> int:
            """Use a package that is not installed."""
            return fnreg_no_such_package.f(x)
        ''',
    "liar": '''
        def liar() -> int:
            """Promise an integer, return text."""
            return "not a number"
        ''',
    "reach": '''
        import socket


        def reach(port: int) -> str:
            """Open a TCP connection to 127.0.0.1:port."""
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                return "connected"
        ''',
}


def write_function(repo: Path, name: str, source: str, toolset: str = "demo") -> None:
    path = repo / "registry" / toolset / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip())


@pytest.fixture
def repo(git_repo: Path) -> Path:
    """``registry/demo`` with FUNCTIONS, committed and tagged ``v1``; 3 s of wall clock per call."""
    (git_repo / "pyproject.toml").write_text(
        f"[tool.fnreg.limits]\nwall_seconds = {WALL_SECONDS}\ncpu_seconds = {WALL_SECONDS}\n"
    )
    (git_repo / "registry").mkdir()
    (git_repo / "registry" / "__init__.py").write_text("")
    (git_repo / "registry" / "demo").mkdir()
    (git_repo / "registry" / "demo" / "__init__.py").write_text("")
    for name, source in FUNCTIONS.items():
        write_function(git_repo, name, source)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "demo toolset")
    git(git_repo, "tag", "v1")
    return git_repo


def fnreg_cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fnreg", "-C", str(repo), *args], capture_output=True, text=True, timeout=120
    )


def server_command(repo: Path, *args: str) -> list[str]:
    """The command line of `fnreg -C REPO serve ARGS...` with this test run's Python."""
    return [sys.executable, "-m", "fnreg", "-C", str(repo), "serve", *args]


def server_env() -> dict[str, str]:
    """The environment a server subprocess gets: this one's, so git finds its identity settings."""
    return dict(os.environ)
