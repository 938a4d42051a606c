"""A user's repository holding the demo task set, and the scripted model on a loopback server."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fnreg.testing.demo import DEMO_TASK
from fnreg.testing.scripted_model import scripted_policy
from fnreg.testing.server import ChatServer
from tests.conftest import git, make_git_repo


@pytest.fixture
def user_repo(git_repo: Path) -> Path:
    """A repository with the demo task set committed and some uncommitted work of the user's."""
    return make_user_repo(git_repo)


def make_user_repo(git_repo: Path) -> Path:
    """Turn a fresh repository (``make_git_repo``) into the user's: task set committed, work in progress."""
    if not git_repo.exists():
        make_git_repo(git_repo)
    shutil.copytree(DEMO_TASK, git_repo / "tasks" / "demo")
    (git_repo / ".gitignore").write_text(".fnreg/\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "demo task set")
    (git_repo / "README.md").write_text("the user is editing this\n")
    (git_repo / "notes.txt").write_text("untracked work\n")
    return git_repo


@pytest.fixture
def server():
    with ChatServer(policy=scripted_policy) as running:
        yield running


def fnreg(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fnreg", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
