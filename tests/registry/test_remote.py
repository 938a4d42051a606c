"""Pushing runs: notes from every clone are kept, a lost race is retried, a missing remote is bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from fnreg.errors import InputError
from fnreg.registry import Git
from fnreg.registry.remote import fetch_notes, find_remote_run, push_run, require_remote
from tests.conftest import git


@pytest.fixture
def origin(git_repo: Path, tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(git_repo, "remote", "add", "origin", str(bare))
    git(git_repo, "push", "-q", "origin", "main")
    return bare


def clone(origin: Path, target: Path) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(target))
    return target


def commit_on(repo: Path, branch: str, note: str) -> str:
    git(repo, "switch", "-q", "-c", branch)
    git(repo, "commit", "-q", "--allow-empty", "-m", f"work on {branch}")
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "notes", "--ref=fnreg", "add", "-m", note, sha)
    git(repo, "switch", "-q", "main")
    return sha


def test_runs_pushed_from_two_clones_keep_every_note(origin: Path, tmp_path: Path):
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    first = commit_on(a, "fnreg/t/r1", '{"run": "r1"}')
    push_run(Git(a), "origin", branch="fnreg/t/r1")
    second = commit_on(b, "fnreg/t/r2", '{"run": "r2"}')  # b never fetched r1's notes
    push_run(Git(b), "origin", branch="fnreg/t/r2")
    assert git(origin, "notes", "--ref=fnreg", "show", first) == '{"run": "r1"}'
    assert git(origin, "notes", "--ref=fnreg", "show", second) == '{"run": "r2"}'


def test_two_different_notes_on_one_commit_are_both_kept(origin: Path, tmp_path: Path):
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    head = git(a, "rev-parse", "HEAD")
    git(a, "notes", "--ref=fnreg", "add", "-m", '{"from": "a"}', head)
    git(a, "push", "-q", "origin", "refs/notes/fnreg")
    git(b, "notes", "--ref=fnreg", "add", "-m", '{"from": "b"}', head)
    assert fetch_notes(Git(b), "origin")
    assert sorted(git(b, "notes", "--ref=fnreg", "show", head).splitlines()) == ['{"from": "a"}', '{"from": "b"}']


def test_a_push_that_loses_a_race_merges_again_and_succeeds(origin: Path, tmp_path: Path):
    a, racer = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "racer")
    racer_commit = commit_on(racer, "fnreg/t/other", '{"run": "other"}')
    # Between a's fetch of the notes and its push, another clone pushes notes (a pre-push hook
    # runs exactly there): a's first push is rejected as not a fast-forward.
    hook = a / ".git" / "hooks" / "pre-push"
    marker = tmp_path / "raced"
    hook.write_text(
        f"#!/bin/sh\n[ -e {marker} ] && exit 0\ntouch {marker}\n"
        f"git -C {racer} push -q origin fnreg/t/other refs/notes/fnreg\n"
    )
    hook.chmod(0o755)
    mine = commit_on(a, "fnreg/t/r1", '{"run": "r1"}')
    push_run(Git(a), "origin", branch="fnreg/t/r1")
    assert marker.exists()
    assert git(origin, "notes", "--ref=fnreg", "show", mine) == '{"run": "r1"}'
    assert git(origin, "notes", "--ref=fnreg", "show", racer_commit) == '{"run": "other"}'


def test_a_missing_remote_is_bad_input(git_repo: Path):
    with pytest.raises(InputError, match="no git remote 'origin'.*git remote add origin URL") as caught:
        require_remote(Git(git_repo), "origin")
    assert caught.value.exit_code == 2


def test_a_run_only_on_the_remote_is_found(origin: Path, git_repo: Path, tmp_path: Path):
    commit_on(git_repo, "fnreg/math/r9", "{}")
    git(git_repo, "push", "-q", "origin", "fnreg/math/r9")
    fresh = clone(origin, tmp_path / "fresh")
    found = find_remote_run(Git(fresh), "origin", "r9")
    assert found is not None and found.branch == "fnreg/math/r9"
    assert find_remote_run(Git(fresh), "origin", "r8") is None
