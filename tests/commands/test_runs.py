"""`fnreg runs`: every run with its scores and ending; `--prune` tidies up after killed runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from fnreg.testing.scripted_model import scripted_policy
from fnreg.testing.server import ChatServer
from tests.commands.conftest import Project
from tests.conftest import git
from tests.training.conftest import fnreg


def kill_after_first_epoch(repo: Path, run: str) -> None:
    """A run SIGKILLed mid-way (a CI time limit): its worktree stays behind."""

    def slow(request: dict):
        time.sleep(0.3)
        return scripted_policy(request)

    with ChatServer(policy=slow) as slow_server:
        process = subprocess.Popen(
            [sys.executable, "-m", "fnreg", "train", "demo", "--base-url", slow_server.base_url, "--run-id", run],
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while "epoch 0:" not in _subjects(repo, f"fnreg/demo/{run}"):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        process.kill()
        process.wait()


def _subjects(repo: Path, branch: str) -> str:
    shown = subprocess.run(["git", "log", "--format=%s", branch], cwd=repo, capture_output=True, text=True)
    return shown.stdout


def test_runs_lists_finished_pushed_and_killed_runs_and_prune_tidies_up(project: Project, server: ChatServer):
    repo = project.clone("work")
    ran = fnreg(
        repo, "train", "demo", "--base-url", server.base_url, "--run-id", "done", "--epochs", "2", "--test", "--push"
    )
    assert ran.returncode == 0, ran.stderr
    kill_after_first_epoch(repo, "killed")

    listed = fnreg(repo, "runs", "--json")
    assert listed.returncode == 0, listed.stderr
    runs = {run["run"]: run for run in json.loads(listed.stdout)}
    done, killed = runs["done"], runs["killed"]
    assert (done["toolset"], done["task_set"], done["epochs"], done["best_epoch"]) == ("demo", "demo", 2, 2)
    assert (done["best_train"], done["test"], done["ended"], done["pushed"]) == (1.0, 1.0, "epochs", "yes")
    assert done["best_val"] is None and done["started"] > 0 and not done["leftover_worktree"]
    assert (killed["ended"], killed["pushed"], killed["leftover_worktree"]) == ("unfinished", "no", True)

    table = fnreg(repo, "runs")
    assert "done " in table.stdout and "all epochs" in table.stdout and "100.0%" in table.stdout
    assert "1 leftover worktree: `fnreg runs --prune` removes it" in table.stdout

    pruned = fnreg(repo, "runs", "--prune")
    assert "removed worktree .fnreg/worktrees/killed" in pruned.stdout
    assert not (repo / ".fnreg" / "worktrees" / "killed").exists()
    git(repo, "checkout", "-q", "fnreg/demo/killed")  # the branch is free again
    git(repo, "checkout", "-q", "main")
    assert "fnreg/demo/killed" in git(repo, "branch", "--list", "fnreg/*")  # kept without --delete-abandoned

    deleted = fnreg(repo, "runs", "--prune", "--delete-abandoned")
    assert "deleted branch fnreg/demo/killed" in deleted.stdout
    assert git(repo, "branch", "--list", "fnreg/*", "--format=%(refname:short)") == "fnreg/demo/done"


def test_no_runs_yet(project: Project):
    result = fnreg(project.clone("work"), "runs")
    assert result.returncode == 0 and "no runs yet" in result.stdout
