"""Shared fixtures: real git repositories in tmp_path and the shared datasets."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fnreg.testing.demo import DEMO_TASK
from fnreg.testing.server import ChatServer

REPO_ROOT = Path(__file__).resolve().parent.parent

# A shell script that starts the suite in the background (`.ci/run &`) makes it ignore SIGINT,
# and an ignored signal is inherited by every process it starts: the tests that press Ctrl-C
# on a real `fnreg` process would see nothing happen. A handler is not inherited through exec,
# so installing Python's own makes those processes start with the default again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"


def _isolate_git(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests must not depend on (or write to) the developer's global git config.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key, value in {
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Committer",
        "GIT_COMMITTER_EMAIL": "committer@example.com",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    _isolate_git(monkeypatch)


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stdout (stripped of the final newline)."""
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.rstrip("\n")


def make_git_repo(repo: Path) -> Path:
    """A fresh repository at ``repo`` with one commit on ``main``."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("user project\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A fresh repository with one commit on ``main``."""
    return make_git_repo(tmp_path / "repo")


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
def shared_datasets() -> Path:
    """``../shared/datasets`` beside the repository; tests skip when it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATASETS} (only on the project's machines)")
    return SHARED_DATASETS


@pytest.fixture
def public_tmp():
    """A temporary folder others can read: the sandbox may run learned code as another user,
    and pytest's own tmp_path lives under a private (0700) folder."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="fnreg-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def serve() -> Iterator[Callable[..., ChatServer]]:
    """Start ChatServers for a test; all are stopped at its end."""
    servers: list[ChatServer] = []

    def start(*args: Any, **kwargs: Any) -> ChatServer:
        server = ChatServer(*args, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
