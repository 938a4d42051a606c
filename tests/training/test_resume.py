"""A run killed with SIGKILL at any point resumes to the same result, losing nothing committed.

Each trial starts `fnreg train` as a user would, waits for a moment in the run (an action
being applied, an evaluation, a roll-back, the test evaluation, the tag...), kills it with
SIGKILL after a random delay, then runs `fnreg train --resume` to the end and compares the
result with an uninterrupted run.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fnreg.registry import Registry
from fnreg.testing.scripted_model import scripted_policy
from fnreg.testing.server import ChatServer
from tests.conftest import _isolate_git, git, make_user_repo
from tests.training.conftest import fnreg
from tests.training.test_engine import EXPECTED_HISTORY

TRIALS = 20
# Lines the CLI prints as it reaches each part of a run; a trial kills shortly after one. Each
# line is printed only once the commit beside it is made, so the branch reaches at least that far.
MOMENTS = {
    "training toolset": "create the registry package",
    "epoch 0 baseline": "create the registry package",
    "+ add_function convert_units": "add_function convert_units",
    "+ add_function mean_of": "add_function mean_of",
    "epoch 1 candidate": "add_function mean_of",
    "epoch 1: train": "epoch 1: train 75.0% (best)",
    "~ revise_function convert_units": "revise_function convert_units",
    "- remove_function mean_of": "remove_function mean_of",
    "epoch 2: train": "epoch 2: train 100.0% (best)",
    "epoch 3 candidate": "revise_function convert_units",
    "epoch 3: train": "roll back epoch 3: train 75.0% < best 100.0%",  # the roll-back commit comes first
    "+ add_function percent_of": "add_function percent_of",
    "epoch 4: train": "roll back epoch 4: train 100.0% = best 100.0%",
    "epoch 2 test split": "roll back epoch 4: train 100.0% = best 100.0%",
    "training finished": "test: 100.0% with epoch 2's functions",  # tagging and the report
}
TRAIN_ARGS = ["train", "demo", "--run-id", "r", "--patience", "2", "--test", "--concurrency", "2"]


def _epoch_commits(repo: Path) -> list[str]:
    try:
        log = git(repo, "log", "--format=%H %s", "fnreg/demo/r")
    except subprocess.CalledProcessError:
        return []
    return [line.split()[0] for line in log.splitlines() if line.split(" ", 1)[1].startswith("epoch ")]


def _kill_at(repo: Path, base_url: str, moment: str, delay: float) -> str:
    """Start training, SIGKILL it ``delay`` seconds after it prints ``moment``; what it printed last."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fnreg", *TRAIN_ARGS, "--base-url", base_url],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env={**os.environ, "COLUMNS": "200"},
    )
    seen = ""
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    for line in process.stdout:
        seen = line.strip()
        if moment in line or time.monotonic() > deadline:
            time.sleep(delay)
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return seen


def _history(repo: Path) -> list[str]:
    try:
        return git(repo, "log", "--reverse", "--format=%s", "main..fnreg/demo/r").splitlines()
    except subprocess.CalledProcessError:  # killed before the branch was made
        return []


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict[str, str]]]:
    """An untouched copy of the user's repository, the scripted server, and an uninterrupted run's functions."""
    root = tmp_path_factory.mktemp("sigkill")
    with pytest.MonkeyPatch.context() as patch:
        _isolate_git(patch)
        repo = make_user_repo(root / "user")
        pristine = root / "pristine"
        shutil.copytree(repo, pristine, symlinks=True)
        with ChatServer(policy=scripted_policy) as server:
            finished = fnreg(repo, *TRAIN_ARGS, "--base-url", server.base_url)
            assert finished.returncode == 0, finished.stderr
            assert _history(repo) == EXPECTED_HISTORY
            yield pristine, server.base_url, Registry(repo).toolset("demo", "fnreg/demo/r").sources()


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_sigkill_at_any_point_then_resume(reference, tmp_path: Path, trial: int):
    pristine, base_url, expected_sources = reference
    repo = tmp_path / f"trial-{trial}"
    shutil.copytree(pristine, repo, symlinks=True)
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")
    moment = list(MOMENTS)[trial % len(MOMENTS)]
    last_line = _kill_at(repo, base_url, moment, random.Random(f"20261121:{trial}").uniform(0.0, 0.4))
    committed = _epoch_commits(repo)
    at_kill = _history(repo)
    # The kill landed where it was aimed: at or after the moment's commit, on the way to the same history.
    assert at_kill == EXPECTED_HISTORY[: len(at_kill)], f"trial {trial} (killed after {last_line!r}): {at_kill}"
    assert MOMENTS[moment] in at_kill, f"trial {trial}: killed after {last_line!r} before {MOMENTS[moment]!r}"

    branch_exists = bool(git(repo, "branch", "--list", "fnreg/demo/r"))
    args = ["train", "demo", "--resume", "r", "--patience", "2", "--test"] if branch_exists else TRAIN_ARGS
    resumed = fnreg(repo, *args, "--base-url", base_url)
    assert resumed.returncode == 0, f"trial {trial} (killed after {last_line!r}): {resumed.stderr[-2000:]}"

    assert _history(repo) == EXPECTED_HISTORY, f"trial {trial} (killed after {last_line!r})"
    assert Registry(repo).toolset("demo", "fnreg/demo/r").sources() == expected_sources
    assert set(committed) <= set(_epoch_commits(repo)), f"trial {trial}: a committed epoch was lost"
    fsck = subprocess.run(["git", "fsck", "--no-progress", "--no-dangling"], cwd=repo, capture_output=True, text=True)
    assert fsck.returncode == 0 and fsck.stdout.strip() == "", fsck.stdout + fsck.stderr
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == status
    best = git(repo, "log", "--format=%H", "--grep=^epoch 2: train 100.0% (best)$", "fnreg/demo/r")
    assert git(repo, "rev-parse", "fnreg/demo/r/best^{commit}") == best
