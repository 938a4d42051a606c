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
from pathlib import Path

import pytest

from fnreg.registry import Registry
from tests.conftest import git
from tests.training.conftest import fnreg
from tests.training.test_engine import EXPECTED_HISTORY

TRIALS = 20
# Lines the CLI prints as it reaches each part of a run; a trial kills shortly after one.
MOMENTS = [
    "training toolset",
    "epoch 0 baseline",
    "+ add_function convert_units",
    "+ add_function mean_of",
    "epoch 1 candidate",
    "epoch 1: train",
    "~ revise_function convert_units",
    "- remove_function mean_of",
    "epoch 2: train",
    "epoch 3 candidate",
    "epoch 3: train",  # the roll-back commit follows
    "+ add_function percent_of",
    "epoch 4: train",
    "epoch 2 test split",
    "training finished",  # tagging and the report
]
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


@pytest.mark.slow
def test_sigkill_at_any_point_then_resume(user_repo: Path, server, tmp_path: Path):
    pristine = tmp_path / "pristine"
    shutil.copytree(user_repo, pristine, symlinks=True)
    reference = fnreg(user_repo, *TRAIN_ARGS, "--base-url", server.base_url)
    assert reference.returncode == 0, reference.stderr
    expected_sources = Registry(user_repo).toolset("demo", "fnreg/demo/r").sources()
    assert git(user_repo, "log", "--reverse", "--format=%s", "main..fnreg/demo/r").splitlines() == EXPECTED_HISTORY

    rng = random.Random(20261121)
    outcomes = []
    for trial in range(TRIALS):
        repo = tmp_path / f"trial-{trial}"
        shutil.copytree(pristine, repo, symlinks=True)
        head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")
        moment = MOMENTS[trial % len(MOMENTS)]
        last_line = _kill_at(repo, server.base_url, moment, rng.uniform(0.0, 0.4))
        committed = _epoch_commits(repo)
        tip = git(repo, "log", "-1", "--format=%s", "fnreg/demo/r") if committed else "(no epoch yet)"

        branch_exists = bool(git(repo, "branch", "--list", "fnreg/demo/r"))
        args = ["train", "demo", "--resume", "r", "--patience", "2", "--test"] if branch_exists else TRAIN_ARGS
        resumed = fnreg(repo, *args, "--base-url", server.base_url)
        assert resumed.returncode == 0, f"trial {trial} (killed after {last_line!r}): {resumed.stderr[-2000:]}"

        history = git(repo, "log", "--reverse", "--format=%s", "main..fnreg/demo/r").splitlines()
        assert history == EXPECTED_HISTORY, f"trial {trial} (killed after {last_line!r})"
        assert Registry(repo).toolset("demo", "fnreg/demo/r").sources() == expected_sources
        final = set(_epoch_commits(repo))
        assert set(committed) <= final, f"trial {trial}: a committed epoch was lost"
        fsck = subprocess.run(
            ["git", "fsck", "--no-progress", "--no-dangling"], cwd=repo, capture_output=True, text=True
        )
        assert fsck.returncode == 0 and fsck.stdout.strip() == "", fsck.stdout + fsck.stderr
        assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == status
        best = git(repo, "log", "--format=%H", "--grep=^epoch 2: train 100.0% (best)$", "fnreg/demo/r")
        assert git(repo, "rev-parse", "fnreg/demo/r/best^{commit}") == best
        outcomes.append((moment, len(committed), tip))
    # The kills really landed at different points of the run: after actions, epochs, roll-backs...
    assert len({(count, tip) for _, count, tip in outcomes}) >= 6, outcomes
