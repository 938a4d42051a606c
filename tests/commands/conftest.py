"""A user's project shared through a bare remote, fresh clones of it, and the stand-in ``gh`` on PATH."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from fnreg.testing.demo import DEMO_TASK
from fnreg.testing.scripted_model import scripted_policy
from fnreg.testing.server import ChatServer
from tests import fake_gh
from tests.conftest import git


@dataclass
class Project:
    """``origin``: the bare remote; ``clone(name)``: a fresh clone; ``gh``: what the stand-in gh recorded."""

    origin: Path
    root: Path
    gh_state: Path

    def clone(self, name: str) -> Path:
        target = self.root / name
        git(self.root, "clone", "-q", str(self.origin), str(target))
        return target

    @property
    def gh(self) -> dict:
        return fake_gh.load(self.gh_state)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The demo task set committed in a user's project, pushed to a bare ``origin``; ``gh`` logged in."""
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    shutil.copytree(DEMO_TASK, seed / "tasks" / "demo")
    (seed / ".gitignore").write_text(".fnreg/\n")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "demo task set")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(seed, "push", "-q", str(origin), "main")
    state = tmp_path / "gh-state.json"
    fake_gh.install(tmp_path / "bin", state)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv(fake_gh.STATE_ENV, str(state))
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    return Project(origin, tmp_path, state)


@pytest.fixture
def server():
    """The scripted model (demo agent and optimizer) on a loopback server."""
    with ChatServer(policy=scripted_policy) as running:
        yield running
