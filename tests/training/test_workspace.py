"""A run's worktree lives only while the run runs; its branch stays once an epoch is recorded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fnreg.errors import FnregError, GitError, LockError
from fnreg.file_lock import toolset_lock
from fnreg.llm import LLMSettings
from fnreg.registry import Registry
from fnreg.testing.scripted_model import OPTIMIZER_TOOLS, scripted_policy
from fnreg.testing.server import ChatServer, Fault
from fnreg.training import RunOptions, TrainConfig, prepare_run
from fnreg.training.events import EpochFinished
from fnreg.training.workspace import Workspace, branch_name, tag_name
from tests.conftest import git


def trainer_for(repo: Path, server: ChatServer, run: str = "r1", **config):
    settings = LLMSettings(base_url=server.base_url, model="fnreg-scripted", max_retries=0)
    return prepare_run(repo, "demo", TrainConfig(**config), llm=settings, options=RunOptions(max_actions=3), run=run)


def worktrees(repo: Path) -> list[str]:
    folder = repo / ".fnreg" / "worktrees"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def branches(repo: Path) -> list[str]:
    return git(repo, "branch", "--list", "fnreg/*", "--format=%(refname:short)").splitlines()


def test_preparing_a_run_creates_nothing(user_repo: Path, server: ChatServer):
    trainer_for(user_repo, server)
    assert branches(user_repo) == [] and worktrees(user_repo) == []


def test_the_worktree_exists_while_the_run_runs_and_goes_when_it_finishes(user_repo: Path, server: ChatServer):
    events = trainer_for(user_repo, server, epochs=1).run()
    started = next(events)
    assert Path(started.worktree).is_dir() and worktrees(user_repo) == ["r1"]
    for _ in events:
        pass
    assert worktrees(user_repo) == [] and branches(user_repo) == ["fnreg/demo/r1"]
    git(user_repo, "checkout", "-q", "fnreg/demo/r1")  # nothing holds the branch any more


@pytest.mark.parametrize("how", ["interrupt", "close"])
def test_an_interrupted_run_keeps_its_epochs_and_removes_its_worktree(user_repo: Path, server: ChatServer, how: str):
    events = trainer_for(user_repo, server, epochs=3).run()
    for event in events:
        if isinstance(event, EpochFinished):
            break
    if how == "interrupt":  # Ctrl-C while the trainer runs
        with pytest.raises(KeyboardInterrupt):
            events.throw(KeyboardInterrupt)
    else:  # a caller that stops iterating
        events.close()
    assert worktrees(user_repo) == []
    assert git(user_repo, "log", "-1", "--format=%s", "fnreg/demo/r1").startswith("epoch 0:")


def test_a_run_failing_before_its_first_epoch_leaves_no_branch(user_repo: Path):
    with ChatServer(policy=lambda request: Fault(status=500)) as down:
        with pytest.raises(FnregError):
            list(trainer_for(user_repo, down).run())
    assert branches(user_repo) == [] and worktrees(user_repo) == []


def test_a_run_failing_after_an_epoch_keeps_its_branch(user_repo: Path):
    def optimizer_down(request: dict):
        offered = {tool.get("function", {}).get("name") for tool in request.get("tools") or []}
        return Fault(status=500) if offered & OPTIMIZER_TOOLS else scripted_policy(request)

    with ChatServer(policy=optimizer_down) as half:
        with pytest.raises(FnregError):
            list(trainer_for(user_repo, half).run())
    assert branches(user_repo) == ["fnreg/demo/r1"] and worktrees(user_repo) == []


def test_a_run_refused_by_the_lock_creates_nothing(user_repo: Path, server: ChatServer):
    with toolset_lock(user_repo / ".fnreg" / "locks", "demo", "run 'busy'"):
        with pytest.raises(LockError):
            next(trainer_for(user_repo, server).run())
    assert branches(user_repo) == [] and worktrees(user_repo) == []


def test_resume_recreates_the_worktree(user_repo: Path, server: ChatServer):
    events = trainer_for(user_repo, server, epochs=2).run()
    next(event for event in events if isinstance(event, EpochFinished))
    events.close()
    workspace = Workspace.find(Registry(user_repo), "r1")
    assert not workspace.path.exists()
    resumed = prepare_run(
        user_repo, "demo", TrainConfig(epochs=2), llm=LLMSettings(base_url=server.base_url), resume="r1"
    ).run()
    started = next(resumed)
    assert started.resumed and started.epoch == 1 and Path(started.worktree).is_dir()
    resumed.close()
    assert not workspace.path.exists()


def test_training_refuses_uncommitted_changes_to_the_toolset_or_the_task_set(user_repo: Path, server: ChatServer):
    (user_repo / "registry" / "demo").mkdir(parents=True)
    (user_repo / "registry" / "demo" / "helper.py").write_text('"""A hand-written helper."""\n')
    with pytest.raises(FnregError, match=r"registry/demo/helper.py has uncommitted changes; commit or stash"):
        trainer_for(user_repo, server)
    git(user_repo, "add", "registry")
    git(user_repo, "commit", "-qm", "helper")
    with (user_repo / "tasks" / "demo" / "train.jsonl").open("a") as data:
        data.write('{"id": "extra", "question": "1 + 1?", "answer": "2"}\n')
    with pytest.raises(FnregError, match=r"tasks/demo/train.jsonl has uncommitted changes"):
        trainer_for(user_repo, server)


def test_ctrl_c_in_the_cli_removes_the_worktree_and_says_how_to_resume(user_repo: Path):
    def slow(request: dict):
        time.sleep(0.3)
        return scripted_policy(request)

    with ChatServer(policy=slow) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "fnreg", "train", "demo", "--base-url", server.base_url, "--run-id", "r1"],
            cwd=user_repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while "epoch 0:" not in git(user_repo, "log", "--all", "--format=%s"):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "--resume r1" in out
    assert worktrees(user_repo) == [] and branches(user_repo) == ["fnreg/demo/r1"]
    assert os.path.isdir(user_repo / ".fnreg")


# ----------------------------------------------------------------------------- naming, finding, cleaning


def test_names() -> None:
    assert branch_name("math", "r1") == "fnreg/math/r1" and tag_name("math", "r1") == "fnreg/math/r1/best"


def test_open_makes_the_branch_and_worktree_and_leaves_the_checkout_alone(git_repo: Path) -> None:
    (git_repo / "README.md").write_text("the user's edit\n")
    before = git(git_repo, "status", "--porcelain"), git(git_repo, "rev-parse", "HEAD")
    workspace = Workspace.new(Registry(git_repo), "math", run="r1")
    workspace.open()
    assert workspace.path == git_repo / ".fnreg" / "worktrees" / "r1" and (workspace.path / ".git").is_file()
    assert git(workspace.path, "rev-parse", "--abbrev-ref", "HEAD") == "fnreg/math/r1"
    assert git(git_repo, "log", "-1", "--format=%s", "fnreg/math/r1") == "create the registry package"
    assert (git(git_repo, "status", "--porcelain"), git(git_repo, "rev-parse", "HEAD")) == before
    assert "/.fnreg/" in (git_repo / ".git" / "info" / "exclude").read_text()
    workspace.close()
    assert not workspace.path.exists() and git(git_repo, "branch", "--list", "fnreg/math/r1")


def test_a_new_run_refuses_an_empty_repository_a_taken_run_and_bad_ids(git_repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", "-b", "main", str(empty))
    with pytest.raises(GitError, match="no commits yet"):
        Workspace.new(Registry(empty), "math")
    Workspace.new(Registry(git_repo), "math", run="r1").open()
    with pytest.raises(FnregError, match="run 'r1' already exists; resume it with --resume r1"):
        Workspace.new(Registry(git_repo), "math", run="r1")
    for bad in ("../up", "-dash", "a b", "x.lock", "a..b"):
        with pytest.raises(FnregError, match="is not allowed"):
            Workspace.new(Registry(git_repo), "math", run=bad)


def test_find_by_id_or_branch_and_open_recreates_a_deleted_worktree(git_repo: Path) -> None:
    created = Workspace.new(Registry(git_repo), "math", run="r1")
    created.open()
    shutil.rmtree(created.path)
    found = Workspace.find(Registry(git_repo), "fnreg/math/r1")
    assert (found.toolset, found.run) == ("math", "r1")
    found.open()
    assert (found.path / ".git").is_file() and Workspace.find(Registry(git_repo), "r1").branch == "fnreg/math/r1"
    with pytest.raises(FnregError, match="no run 'r2'"):
        Workspace.find(Registry(git_repo), "r2")


def test_clean_undoes_what_a_killed_process_left(git_repo: Path) -> None:
    workspace = Workspace.new(Registry(git_repo), "math", run="r1")
    workspace.open()
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
    workspace = Workspace.new(Registry(git_repo), "math", run="r1")
    workspace.open()
    path = workspace.save_scratch("epoch-1.json", {"epoch": 1})
    assert path == git_repo / ".fnreg" / "runs" / "r1" / "epoch-1.json"
    assert json.loads(path.read_text()) == {"epoch": 1} and list(path.parent.iterdir()) == [path]


def test_the_lock_keeps_a_second_run_of_the_toolset_out(git_repo: Path) -> None:
    registry = Registry(git_repo)
    one, two = Workspace.new(registry, "math", run="r1"), Workspace.new(registry, "math", run="r2")
    with one.lock():
        with pytest.raises(LockError, match="toolset 'math' is locked by run 'r1'"):
            with two.lock():
                pass
