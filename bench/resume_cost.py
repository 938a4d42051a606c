"""6. Resume cost: LLM calls repeated after a SIGKILL and ``--resume``, and SIGKILL-resume trials.

A scripted training run (``fnreg train demo`` against ``ChatServer(policy=scripted_policy)``,
the logic of ``tests/training/test_resume.py``) first runs uninterrupted: the server counts its
requests. Then each trial starts the same run on a fresh copy of the repository, SIGKILLs it a
random 0-0.4 s after it prints one of 15 moments (an action applied, an evaluation, a
roll-back, the test split, the tag...), and resumes it to the end. The server sees every
request both processes send; what the killed run had answered and stored in
``.fnreg/cache.sqlite`` should never be asked again.

- repeated calls = requests of the killed run + the resumed run − requests of the
  uninterrupted run; each is classified by whether its answer was in the cache at the kill
  (completed work: the goal is zero) or not (in flight when the process died);
- a trial resumes to the identical result when the run branch has the uninterrupted run's
  history (commit subjects), the same functions, the best tag on the same epoch, no committed
  epoch lost, ``git fsck`` clean, and the user's checkout (HEAD, status) untouched.

    python -m bench.resume_cost [--quick]
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Context, Row, Section, git, init_repo, standalone, table
from fnreg.llm import request_key
from fnreg.registry import Registry
from fnreg.testing.demo import DEMO_TASK
from fnreg.testing.scripted_model import scripted_policy
from fnreg.testing.server import ChatServer

TITLE = "Resume cost and SIGKILL-resume trials"
BRANCH = "fnreg/demo/r"
TRAIN = ["train", "demo", "--run-id", "r", "--patience", "2", "--test", "--concurrency", "2"]
RESUME = ["train", "demo", "--resume", "r", "--patience", "2", "--test"]
# Lines the CLI prints as it reaches each part of a run (as in tests/training/test_resume.py).
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
    "epoch 3: train",
    "+ add_function percent_of",
    "epoch 4: train",
    "epoch 2 test split",
    "training finished",
]
ENV = {**os.environ, "COLUMNS": "200"}


def user_repo(ctx: Context) -> Path:
    """The demo task set committed, plus uncommitted work of the user's that must survive."""
    repo = init_repo(ctx.scratch("resume-pristine") / "repo")
    shutil.copytree(DEMO_TASK, repo / "tasks" / "demo")
    (repo / ".gitignore").write_text(".fnreg/\n")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "demo task set")
    (repo / "README.md").write_text("the user is editing this\n")
    (repo / "notes.txt").write_text("untracked work\n")
    return repo


def fnreg(repo: Path, args: list[str], base_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fnreg", *args, "--base-url", base_url],
        cwd=repo,
        capture_output=True,
        text=True,
        env=ENV,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"fnreg {' '.join(args)} failed: {proc.stderr[-2000:]}")


def kill_at(repo: Path, base_url: str, moment: str, delay: float) -> str:
    """Start training, SIGKILL it ``delay`` s after it prints ``moment``; the last line it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fnreg", *TRAIN, "--base-url", base_url],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env=ENV,
    )
    seen, deadline = "", time.monotonic() + 120
    assert process.stdout is not None
    for line in process.stdout:
        seen = line.strip()
        if moment in line or time.monotonic() > deadline:
            time.sleep(delay)
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return seen


def outcome(repo: Path) -> dict:
    """What "the same result" compares: history, functions, the best tag's epoch."""
    return {
        "history": git(repo, "log", "--reverse", "--format=%s", f"main..{BRANCH}").splitlines(),
        "sources": Registry(repo).toolset("demo", BRANCH).sources(),
        "best": git(repo, "log", "-1", "--format=%s", f"{BRANCH}/best^{{commit}}"),
    }


def epoch_commits(repo: Path) -> set[str]:
    if not git(repo, "branch", "--list", BRANCH):
        return set()
    log = git(repo, "log", "--format=%H %s", BRANCH)
    return {line.split()[0] for line in log.splitlines() if line.split(" ", 1)[1].startswith("epoch ")}


def cached_keys(repo: Path) -> set[str]:
    path = repo / ".fnreg" / "cache.sqlite"
    if not path.exists():
        return set()
    with sqlite3.connect(path) as conn:  # also reads what the killed process left in the WAL
        return {row[0] for row in conn.execute("SELECT key FROM answers")}


def trial(ctx: Context, number: int, pristine: Path, server: ChatServer, expected: dict, reference: int, rng) -> dict:
    repo = ctx.tmp / f"trial-{number}"
    shutil.copytree(pristine, repo, symlinks=True)
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")
    moment = MOMENTS[number % len(MOMENTS)] if not ctx.quick else MOMENTS[4 + 4 * number]
    start = len(server.requests)
    last_line = kill_at(repo, server.base_url, moment, rng.uniform(0.0, 0.4))
    killed = [request_key(body) for body in server.requests[start:]]
    cached, committed = cached_keys(repo), epoch_commits(repo)
    middle = len(server.requests)
    fnreg(repo, RESUME if git(repo, "branch", "--list", BRANCH) else TRAIN, server.base_url)
    resumed = [request_key(body) for body in server.requests[middle:]]
    again = [key for key in resumed if key in set(killed)]
    fsck = subprocess.run(["git", "fsck", "--no-progress", "--no-dangling"], cwd=repo, capture_output=True, text=True)
    checks = {
        "same history, functions and best tag": outcome(repo) == expected,
        "no committed epoch lost": committed <= epoch_commits(repo),
        "git fsck clean": fsck.returncode == 0 and not fsck.stdout.strip(),
        "user's checkout untouched": (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"))
        == (head, status),
    }
    shutil.rmtree(repo, ignore_errors=True)
    return {
        "moment": moment,
        "last_line": last_line,
        "epochs_committed": len(committed),
        "killed_requests": len(killed),
        "resumed_requests": len(resumed),
        "repeated": len(killed) + len(resumed) - reference,
        "repeated_cached": sum(key in cached for key in again),
        "repeated_in_flight": sum(key not in cached for key in again),
        "checks": checks,
        "ok": all(checks.values()),
    }


def run(ctx: Context) -> Section:
    trials = ctx.pick(20, 1)
    pristine = user_repo(ctx)
    rng = random.Random(20261121)
    with ChatServer(policy=scripted_policy) as server:
        ctx.log("resume cost: the uninterrupted run")
        reference_repo = ctx.tmp / "reference"
        shutil.copytree(pristine, reference_repo, symlinks=True)
        fnreg(reference_repo, TRAIN, server.base_url)
        keys = [request_key(body) for body in server.requests]
        reference, expected = len(keys), outcome(reference_repo)
        assert len(set(keys)) == reference, "the uninterrupted run sent the same request twice"
        results = []
        for number in range(trials):
            ctx.log(f"resume cost: trial {number + 1}/{trials}")
            results.append(trial(ctx, number, pristine, server, expected, reference, rng))

    repeated = sum(r["repeated"] for r in results)
    completed = sum(r["repeated_cached"] for r in results)
    in_flight = sum(r["repeated_in_flight"] for r in results)
    resumed_ok = sum(r["ok"] for r in results)
    lost = sum(not r["checks"]["no committed epoch lost"] for r in results)
    points = len({r["epochs_committed"] for r in results})
    section = Section(TITLE)
    section.rows = [
        Row(
            f"LLM calls repeated after SIGKILL + resume, completed work ({trials} trials)",
            f"{completed} in total",
            f"{reference} calls in the uninterrupted run (×{trials} trials = {reference * trials})",
            f"{completed / (reference * trials):.1%} repeated",
            "zero",
            completed == 0,
        ),
        Row(
            "LLM calls repeated, all (incl. requests in flight at the kill)",
            f"{repeated} in total ({in_flight} of them in flight at the kill), {repeated / trials:.2f} per trial",
            f"{reference} per uninterrupted run",
            f"{repeated / (reference * trials):.1%} of the calls",
        ),
        Row(
            "SIGKILL-resume trials that resumed to the identical result",
            f"{resumed_ok}/{trials}, {lost} lost a committed epoch",
            "the uninterrupted run's history, functions and best tag",
            "",
            f"{trials}/{trials}, none lost",
            resumed_ok == trials and lost == 0,
        ),
    ]
    rows = [
        (
            i + 1,
            f"`{r['moment']}`",
            r["epochs_committed"],
            r["killed_requests"],
            r["resumed_requests"],
            r["repeated"],
            r["repeated_cached"],
            r["repeated_in_flight"],
            "yes" if r["ok"] else "**no**: " + ", ".join(k for k, v in r["checks"].items() if not v),
        )
        for i, r in enumerate(results)
    ]
    section.details = "\n\n".join(
        [
            table(
                [
                    "trial",
                    "killed after",
                    "epochs committed at kill",
                    "calls before kill",
                    "calls on resume",
                    "repeated",
                    "… answered + cached before kill",
                    "… in flight at kill",
                    "identical result",
                ],
                rows,
                "rlrrrrrrl",
            ),
            f"The uninterrupted run (`fnreg {' '.join(TRAIN)}`, scripted model, concurrency 2) sent {reference} "
            f"distinct requests. Kills landed at {points} distinct numbers of committed epochs. Repeated calls "
            "never exceed what was in flight: a request counts as completed work only if its answer was in "
            "`.fnreg/cache.sqlite` when the process died.",
        ]
    )
    return section


if __name__ == "__main__":
    standalone(TITLE, run)
