"""`fnreg train --pr` run after run, from fresh clones of a user's repository with a remote."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from fnreg.testing.scripted_agent import agent_policy
from fnreg.testing.scripted_model import OPTIMIZER_TOOLS
from fnreg.testing.server import ChatServer, text
from tests.commands.conftest import Project
from tests.conftest import git
from tests.training.conftest import fnreg


def train(clone: Path, server: ChatServer, run: str, *extra: str):
    return fnreg(
        clone, "train", "demo", "--base-url", server.base_url, "--run-id", run, "--epochs", "2", "--test", *extra
    )


def epoch_commits(repo: Path, branch: str) -> list[str]:
    out = git(repo, "log", "--format=%H %s", branch)
    return [line.split()[0] for line in out.splitlines() if line.split()[1] == "epoch"]


def test_two_fresh_clones_each_train_push_and_open_a_pull_request(project: Project, server: ChatServer):
    first, second = project.clone("first"), project.clone("second")
    ran = train(first, server, "a1", "--pr", "--push")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    # The second clone is fresh: it has none of the first run's notes, which are on the remote now.
    assert git(second, "notes", "--ref=fnreg", "list") == ""
    ran = train(second, server, "b1", "--pr", "--push")
    assert ran.returncode == 0, ran.stdout + ran.stderr

    prs = project.gh["prs"]
    assert [(pr["head"], pr["base"]) for pr in prs] == [("fnreg/demo/a1", "main"), ("fnreg/demo/b1", "main")]
    assert f"pull request opened: {prs[1]['url']}" in ran.stdout
    assert "gh pr create" not in ran.stdout  # the summary names the pull request, not a command to open one
    body = prs[0]["body"]
    assert "fnreg training run `a1`" in body and "![" not in body and "xychart-beta" in body
    assert "Test split: starting functions → best" in body

    # Both runs' branches, best tags and every epoch's note are on the remote.
    for run in ("a1", "b1"):
        branch = f"fnreg/demo/{run}"
        assert git(project.origin, "rev-parse", f"refs/tags/{branch}/best") != ""
        commits = epoch_commits(project.origin, branch)
        assert len(commits) >= 3
        for commit in commits:
            note = json.loads(git(project.origin, "notes", "--ref=fnreg", "show", commit).splitlines()[0])
            assert note["results"]["total"] == 8

    # The run's worktree is gone: a reviewer can check the branch out and edit it.
    assert not any((first / ".fnreg" / "worktrees").iterdir())
    git(first, "checkout", "-q", "fnreg/demo/a1")
    git(first, "checkout", "-q", "main")
    git(first, "branch", "-q", "-D", "fnreg/demo/a1")


def test_a_resumed_run_pushes_what_is_missing_and_updates_its_pull_request(project: Project, server: ChatServer):
    clone = project.clone("work")
    assert train(clone, server, "r1", "--pr").returncode == 0
    # Someone pushes notes from elsewhere meanwhile; the retry must merge them, not overwrite them.
    other = project.clone("other")
    git(other, "fetch", "-q", "origin", "refs/notes/fnreg:refs/notes/fnreg")
    git(other, "notes", "--ref=fnreg", "add", "-m", '{"from": "elsewhere"}', "HEAD")
    git(other, "push", "-q", "origin", "refs/notes/fnreg")
    again = fnreg(clone, "train", "demo", "--base-url", server.base_url, "--resume", "r1", "--pr")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "pull request updated" in again.stdout
    assert len(project.gh["prs"]) == 1
    notes = git(project.origin, "notes", "--ref=fnreg", "list")
    assert git(other, "rev-parse", "HEAD") in notes  # the other clone's note survived
    assert len(notes.splitlines()) >= 5


def test_no_pull_request_when_nothing_beat_the_starting_functions(project: Project):
    def never_improves(request: dict):
        offered = {tool.get("function", {}).get("name") for tool in request.get("tools") or []}
        return text("TERMINATE") if offered & OPTIMIZER_TOOLS else agent_policy(request)

    clone = project.clone("work")
    with ChatServer(policy=never_improves) as idle:
        ran = train(clone, idle, "r1", "--pr")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "no pull request" in ran.stdout and "did not beat the starting functions" in ran.stdout
    assert project.gh["prs"] == []
    assert git(project.origin, "rev-parse", "refs/heads/fnreg/demo/r1") != ""  # the run is still shared


def test_a_ci_job_killed_mid_run_loses_nothing_and_a_fresh_clone_resumes_it(project: Project, server: ChatServer):
    first = project.clone("first")
    job = subprocess.Popen(
        [sys.executable, "-m", "fnreg", "train", "demo", "--base-url", server.base_url, "--run-id", "ci-1"]
        + ["--epochs", "4", "--patience", "4", "--push"],
        cwd=first,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:  # the job's time limit strikes once epoch 1 is on the remote
        deadline = time.monotonic() + 240
        while not any(s.startswith("epoch 1:") for s in _subjects(project.origin, "fnreg/demo/ci-1")):
            assert job.poll() is None and time.monotonic() < deadline, "epoch 1 was never pushed"
            time.sleep(0.2)
    finally:
        job.kill()
        job.wait()
    pushed = _subjects(project.origin, "fnreg/demo/ci-1")
    assert git(project.origin, "tag", "--list", "fnreg/*") == ""  # killed before the end: no best tag

    rerun = project.clone("rerun")  # the job's re-run: a new clone, the run only on the remote
    resumed = fnreg(rerun, "train", "demo", "--base-url", server.base_url, "--resume", "ci-1", "--epochs", "4")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming" in resumed.stdout
    subjects = _subjects(rerun, "fnreg/demo/ci-1")
    assert subjects[-len(pushed) :] == pushed  # nothing pushed was lost or redone
    assert [s.split(":")[0] for s in subjects if s.startswith("epoch")] == [f"epoch {n}" for n in (4, 3, 2, 1, 0)]


def _subjects(repo: Path, branch: str) -> list[str]:
    try:
        return git(repo, "log", "--format=%s", branch).splitlines()
    except subprocess.CalledProcessError:
        return []


def test_sharing_fails_before_any_llm_call_without_a_remote_or_gh(project: Project, server: ChatServer, tmp_path):
    clone = project.clone("work")
    git(clone, "remote", "remove", "origin")
    no_remote = train(clone, server, "r1", "--pr")
    assert no_remote.returncode == 2 and "no git remote 'origin'" in no_remote.stderr
    assert len(no_remote.stderr.strip().splitlines()) == 1

    logged_out = project.clone("logged-out")
    state = json.loads(project.gh_state.read_text())
    project.gh_state.write_text(json.dumps({**state, "logged_in": False}))
    refused = train(logged_out, server, "r1", "--pr")
    assert refused.returncode == 2 and "gh auth login" in refused.stderr
    assert server.requests == []
    assert git(logged_out, "branch", "--list", "fnreg/*") == ""


def test_a_rejected_push_keeps_everything_local_and_says_how_to_retry(project: Project, server: ChatServer):
    clone = project.clone("work")
    hook = project.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n")
    hook.chmod(0o755)
    ran = train(clone, server, "r1", "--pr")
    assert ran.returncode == 1
    assert "rejected" in ran.stderr and "--resume r1 --pr" in ran.stderr
    assert git(clone, "rev-parse", "fnreg/demo/r1/best") != ""  # the trained run is all here
    hook.unlink()
    retried = fnreg(clone, "train", "demo", "--base-url", server.base_url, "--resume", "r1", "--pr")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert len(project.gh["prs"]) == 1
