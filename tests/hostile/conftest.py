"""Fixtures for the hostile corpus: template repositories, copied per case, and their state."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from fnreg.registry import Registry
from tests.conftest import git
from tests.hostile.corpus import MARKER, SETUP, Case

# The same identity tests/conftest.py sets per test, for fixtures wider than one test.
GIT_IDENTITY = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
}
TOOLSET = "math"


@dataclass(frozen=True)
class RepoState:
    head: str
    #: ``git status --porcelain --ignored``: untracked and ignored files show too.
    status: str
    #: Every file outside ``.git``, with a digest of its content.
    files: dict[str, str]


def repo_state(repo: Path) -> RepoState:
    files = {
        path.relative_to(repo).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo).parts
    }
    return RepoState(
        head=git(repo, "rev-parse", "HEAD"),
        status=git(repo, "status", "--porcelain", "--ignored", "--untracked-files=all"),
        files=files,
    )


@dataclass(frozen=True)
class Prepared:
    """One case ready to run: its own repository, marker path and raw arguments."""

    case: Case
    repo: Path
    #: A path the case's code would create if any of it ran; it must never exist.
    marker: Path
    #: ``case.raw`` with ``MARKER`` replaced by ``marker``.
    raw: str
    before: RepoState


@pytest.fixture(scope="session")
def template_repos(tmp_path_factory: pytest.TempPathFactory) -> Callable[[tuple], Path]:
    """A repository per distinct ``setup``, built once; cases get copies."""
    root = tmp_path_factory.mktemp("hostile-templates")
    built: dict[tuple, Path] = {}

    def template(setup: tuple[tuple[str, str], ...]) -> Path:
        if setup not in built:
            repo = root / f"t{len(built)}"
            repo.mkdir()
            with pytest.MonkeyPatch.context() as patch:
                for key, value in GIT_IDENTITY.items():
                    patch.setenv(key, value)
                git(repo, "init", "-q", "-b", "main")
                (repo / "README.md").write_text("user project\n")
                git(repo, "add", "README.md")
                git(repo, "commit", "-q", "-m", "initial")
                registry = Registry(repo)
                for kind, name in setup:
                    action = {"name": name} if kind == "remove_function" else SETUP[name]
                    registry.apply(dict(action, action=kind), toolset=TOOLSET)
            built[setup] = repo
        return built[setup]

    return template


@pytest.fixture(scope="session")
def prepare_case(template_repos: Callable[[tuple], Path]) -> Callable[[Case, Path], Prepared]:
    def prepare(case: Case, folder: Path) -> Prepared:
        folder.mkdir(parents=True, exist_ok=True)
        repo = folder / "repo"
        shutil.copytree(template_repos(case.setup), repo, symlinks=True)
        marker = folder / "marker-must-not-exist"
        return Prepared(case, repo, marker, case.raw.replace(MARKER, str(marker)), repo_state(repo))

    return prepare
