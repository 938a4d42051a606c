"""Where a run lives: its branch and worktree, created, found again, cleaned after a crash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fnreg.errors import FnregError, GitError
from fnreg.registry import Registry
from fnreg.training.workspace import Workspace, branch_name, tag_name
from tests.conftest import git


def test_names() -> None:
    assert branch_name("math", "r1") == "fnreg/math/r1" and tag_name("math", "r1") == "fnreg/math/r1/best"


def test_create_makes_a_branch_and_worktree_and_leaves_the_checkout_alone(git_repo: Path) -> None:
    (git_repo / "README.md").write_text("the user's edit\n")
    before = git(git_repo, "status", "--porcelain"), git(git_repo, "rev-parse", "HEAD")
    workspace = Workspace.create(Registry(git_repo), "math", run="r1")
    assert workspace.path == git_repo / ".fnreg" / "worktrees" / "r1" and (workspace.path / ".git").is_file()
    assert git(workspace.path, "rev-parse", "--abbrev-ref", "HEAD") == "fnreg/math/r1"
    assert git(git_repo, "log", "-1", "--format=%s", "fnreg/math/r1") == "create the registry package"
    assert (workspace.path / "registry" / "__init__.py").is_file()
    assert (git(git_repo, "status", "--porcelain"), git(git_repo, "rev-parse", "HEAD")) == before
    assert "/.fnreg/" in (git_repo / ".git" / "info" / "exclude").read_text()


def test_create_refuses_an_empty_repository_a_taken_run_and_bad_ids(git_repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", "-b", "main", str(empty))
    with pytest.raises(GitError, match="no commits yet"):
        Workspace.create(Registry(empty), "math")
    Workspace.create(Registry(git_repo), "math", run="r1")
    with pytest.raises(FnregError, match="run 'r1' already exists .*; resume it with --resume r1"):
        Workspace.create(Registry(git_repo), "math", run="r1")
    for bad in ("../up", "-dash", "a b", "x.lock", "a..b"):
        with pytest.raises(FnregError, match="is not allowed"):
            Workspace.create(Registry(git_repo), "math", run=bad)


def test_new_run_ids_are_unique(git_repo: Path) -> None:
    first = Workspace.create(Registry(git_repo), "math")
    second = Workspace.create(Registry(git_repo), "math")
    assert first.run != second.run and second.run.startswith(first.run.split("-")[0])


def test_find_by_id_or_branch_and_recreate_a_deleted_worktree(git_repo: Path) -> None:
    created = Workspace.create(Registry(git_repo), "math", run="r1")
    shutil.rmtree(created.path)
    found = Workspace.find(Registry(git_repo), "fnreg/math/r1")
    assert (found.toolset, found.run) == ("math", "r1") and (found.path / ".git").is_file()
    assert Workspace.find(Registry(git_repo), "r1").branch == "fnreg/math/r1"
    with pytest.raises(FnregError, match="no run 'r2'"):
        Workspace.find(Registry(git_repo), "r2")


def test_clean_undoes_what_a_killed_process_left(git_repo: Path) -> None:
    workspace = Workspace.create(Registry(git_repo), "math", run="r1")
    git_dir = workspace.git().git_dir
    (git_dir / "index.lock").write_text("")
    (git_dir / "REVERT_HEAD").write_text(git(workspace.path, "rev-parse", "HEAD") + "\n")
    (workspace.path / "registry" / "__init__.py").write_text("half written")
    (workspace.path / "registry" / "stray.py").write_text("left behind")
    workspace.clean()
    assert not (git_dir / "index.lock").exists() and not (git_dir / "REVERT_HEAD").exists()
    assert git(workspace.path, "status", "--porcelain") == ""
    assert not (workspace.path / "registry" / "stray.py").exists()


def test_save_scratch_writes_json_whole(git_repo: Path) -> None:
    workspace = Workspace.create(Registry(git_repo), "math", run="r1")
    path = workspace.save_scratch("epoch-1.json", {"epoch": 1})
    assert path == git_repo / ".fnreg" / "runs" / "r1" / "epoch-1.json"
    assert json.loads(path.read_text()) == {"epoch": 1} and list(path.parent.iterdir()) == [path]


def test_the_lock_keeps_a_second_run_of_the_toolset_out(git_repo: Path) -> None:
    registry = Registry(git_repo)
    one, two = Workspace.create(registry, "math", run="r1"), Workspace.create(registry, "math", run="r2")
    with one.lock():
        with pytest.raises(FnregError, match="toolset 'math' is locked by run 'r1'"):
            with two.lock():
                pass
