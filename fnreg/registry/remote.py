"""Sharing runs through a remote: a run's branch, its best tag and fnreg's notes, run after run.

A fresh clone has none of ``refs/notes/fnreg``, and several clones and CI jobs add notes to
the same ref. So before every push the remote's notes are fetched into a ref of fnreg's own
and merged into the local ones with ``cat_sort_uniq``: notes on different commits are simply
united, and two notes on one commit (each a line of JSON) are both kept, never one dropped.
A push that loses a race against another clone is retried once after merging again.
"""

from __future__ import annotations

from dataclasses import dataclass

from fnreg.errors import GitError, InputError
from fnreg.registry.git import NOTES_REF, Git

NOTES = f"refs/notes/{NOTES_REF}"


class PushRejected(GitError):
    """The remote refused the push; everything stays committed locally."""


@dataclass(frozen=True)
class RemoteRun:
    """A run's branch as the remote has it."""

    branch: str
    commit: str


def require_remote(git: Git, remote: str) -> str:
    """The remote's URL, or an ``InputError`` that says how to add one."""
    try:
        return git.run("remote", "get-url", remote)
    except GitError:
        known = git.run("remote").split()
        hint = f"known remotes: {', '.join(known)}" if known else "add one with `git remote add origin URL`"
        raise InputError(f"no git remote {remote!r} to push the run to; {hint}") from None


def remote_notes_ref(remote: str) -> str:
    """Where the remote's notes are fetched to before merging (outside refs/notes: not a second notes ref)."""
    return f"refs/fnreg/remotes/{remote}/notes"


def fetch_notes(git: Git, remote: str) -> bool:
    """Fetch the remote's fnreg notes and merge them into the local ones; False when it has none."""
    fetched = remote_notes_ref(remote)
    try:
        git.run("fetch", "--quiet", "--no-tags", remote, f"+{NOTES}:{fetched}")
    except GitError as exc:
        if "couldn't find remote ref" in str(exc):
            return False
        raise
    if not _exists(git, NOTES):
        git.run("update-ref", NOTES, fetched)
    else:
        git.run("notes", f"--ref={NOTES_REF}", "merge", "--quiet", "--strategy=cat_sort_uniq", fetched)
    return True


def push_run(git: Git, remote: str, *, branch: str, tag: str | None = None) -> None:
    """Push ``branch`` (and ``tag``) with the merged notes, atomically; retried once on a race."""
    refspecs = [f"refs/heads/{branch}:refs/heads/{branch}", f"{NOTES}:{NOTES}"]
    if tag is not None:
        refspecs.append(f"+refs/tags/{tag}:refs/tags/{tag}")  # a resumed run may move its best tag
    for attempt in (1, 2):
        fetch_notes(git, remote)
        if not _exists(git, NOTES):
            refspecs = [r for r in refspecs if not r.startswith(NOTES)]
        try:
            git.run("push", "--quiet", "--atomic", remote, *refspecs)
            return
        except GitError as exc:
            if attempt == 2:
                run = branch.split("/")[-1]
                raise PushRejected(
                    f"pushing {branch} to {remote!r} was rejected ({exc}); everything is kept locally: "
                    f"retry with `fnreg train <task> --resume {run} --pr`"
                ) from None


def find_remote_run(git: Git, remote: str, run: str) -> RemoteRun | None:
    """The branch ``fnreg/<toolset>/<run>`` on the remote, if it has one (asks the remote)."""
    try:
        out = git.run("ls-remote", "--heads", remote, "refs/heads/fnreg/*")
    except GitError:
        return None
    for line in out.splitlines():
        commit, _, ref = line.partition("\t")
        branch = ref.removeprefix("refs/heads/")
        if branch.count("/") == 2 and branch.split("/")[-1] == run:
            return RemoteRun(branch, commit)
    return None


def fetch_run(git: Git, remote: str, branch: str, tag: str) -> None:
    """Fetch a run's branch, its best tag if any, and the notes, so it can resume in this clone."""
    git.run("fetch", "--quiet", "--no-tags", remote, f"refs/heads/{branch}:refs/heads/{branch}")
    try:
        git.run("fetch", "--quiet", "--no-tags", remote, f"+refs/tags/{tag}:refs/tags/{tag}")
    except GitError:
        pass  # an unfinished run has no best tag yet
    fetch_notes(git, remote)


def _exists(git: Git, ref: str) -> bool:
    try:
        git.run("rev-parse", "--verify", "--quiet", ref)
    except GitError:
        return False
    return True
