"""Where a run lives: its branch ``fnreg/<toolset>/<run-id>`` and its own worktree.

The user's working tree, index and current branch are never touched: every write of a run
happens in ``.fnreg/worktrees/<run-id>`` (gitignored), on the run's branch.

A run's commits skip the repository's git hooks (``git commit --no-verify``), by decision:
fnreg validates every action before it commits it (syntax, schema, the import-time policy,
black), the commits land on the run's own branch and never on the user's, and a hook that
reformats or rejects learned code mid-run would make the committed code differ from what was
evaluated. The hooks run where the user's own commits run them: ``fnreg apply`` and
``fnreg sync`` in the checkout, and CI on the run's pull request.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from fnreg.errors import FnregError, GitError
from fnreg.file_lock import toolset_lock
from fnreg.registry import Git, Registry
from fnreg.registry.history import RUN, TOOLSET, format_message
from fnreg.registry.init_module import PACKAGE_INIT
from fnreg.registry.remote import fetch_run, find_remote_run


def branch_name(toolset: str, run: str) -> str:
    return f"fnreg/{toolset}/{run}"


def tag_name(toolset: str, run: str) -> str:
    return f"fnreg/{toolset}/{run}/best"


@dataclass(frozen=True)
class Workspace:
    """A run's branch, worktree and scratch folder, inside the user's repository.

    Describing a run creates nothing: the branch and the worktree are made by :meth:`open`
    once the run holds its toolset's lock, and the worktree is removed by :meth:`close`
    however the run ends (the branch stays, so a reviewer can check it out).
    """

    main: Registry
    toolset: str
    run: str
    #: The commit a new run starts from; None for a run whose branch exists.
    start: str | None = None

    @property
    def branch(self) -> str:
        return branch_name(self.toolset, self.run)

    @property
    def tag(self) -> str:
        return tag_name(self.toolset, self.run)

    @property
    def path(self) -> Path:
        return self.main.state_dir(create=False) / "worktrees" / self.run

    @property
    def scratch(self) -> Path:
        """Files written before a commit makes them durable (evaluation results awaiting their note)."""
        return self.main.state_dir(create=False) / "runs" / self.run

    def registry(self) -> Registry:
        return Registry(self.path, package=self.main.package, hooks=False)  # see the module docstring

    def git(self) -> Git:
        return Git(self.path)

    def lock(self) -> AbstractContextManager[None]:
        return toolset_lock(self.main.state_dir() / "locks", self.toolset, f"run {self.run!r}")

    # ------------------------------------------------------------------ naming and finding

    @classmethod
    def new(cls, main: Registry, toolset: str, *, run: str | None = None, start: str = "HEAD") -> Workspace:
        """A run that does not exist yet, starting from ``start``; nothing is created."""
        if main.git.head() is None:
            raise GitError("the repository has no commits yet; commit something first (training starts from HEAD)")
        run = run or _new_run_id(main)
        _check_run_id(run)
        workspace = cls(main, toolset, run, start=main.git.resolve(start))
        if workspace.run in _run_ids(main):
            raise FnregError(f"run {run!r} already exists; resume it with --resume {run}")
        return workspace

    @classmethod
    def find(cls, main: Registry, run: str, *, remote: str | None = None) -> Workspace:
        """The existing run named ``run`` (run id or branch name).

        With ``remote``, a run this clone lacks is fetched from there (a CI job re-run in a
        fresh clone resumes what the killed job pushed).
        """
        run = run.removeprefix("fnreg/").split("/")[-1] if run.startswith("fnreg/") else run
        matches = [b for b in main.git.branches("fnreg") if b.split("/")[-1] == run and b.count("/") == 2]
        if not matches and remote is not None:
            found = find_remote_run(main.git, remote, run)
            if found is not None:
                fetch_run(main.git, remote, found.branch, tag_name(found.branch.split("/")[1], run))
                matches = [found.branch]
        if not matches:
            where = f" here or on {remote!r}" if remote else ""
            raise FnregError(f"no run {run!r}{where}: no branch fnreg/<toolset>/{run} (`fnreg runs` lists runs)")
        return cls(main, matches[0].split("/")[1], run)

    # ------------------------------------------------------------------ the worktree's life

    def open(self) -> None:
        """Create the run's branch (a new run) and its worktree; the registry package exists on it."""
        self.main.state_dir()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.branch not in self.main.git.branches(self.branch):
            if self.start is None:
                raise FnregError(f"run {self.run!r} has no branch {self.branch}; start it as a new run")
            self.main.git.add_worktree(self.path, self.branch, self.start)
        elif not (self.path / ".git").exists():
            self.main.git.run("worktree", "prune")
            self.main.git.run("worktree", "add", "--quiet", str(self.path), self.branch)
        self.clean()  # a worktree a killed run left behind may hold a half-made commit or revert
        self.ensure_package()
        if self.toolset in self.git().list_dirs("HEAD", self.main.package):
            self.registry().sync(self.toolset, run=self.run)  # hand-written modules join the __init__

    def close(self, *, keep_branch: bool = True) -> None:
        """Remove the worktree (the branch stays unless ``keep_branch`` is False); never fails."""
        try:
            if self.path.exists():
                self.main.git.run("worktree", "remove", "--force", str(self.path))
            self.main.git.run("worktree", "prune")
            if not keep_branch and self.branch in self.main.git.branches(self.branch):
                self.main.git.run("branch", "--quiet", "-D", self.branch)
        except GitError:
            shutil.rmtree(self.path, ignore_errors=True)  # git could not: at least free the branch
            self.main.git.run("worktree", "prune")
        with contextlib.suppress(OSError):
            self.scratch.rmdir()  # only when empty: a note awaiting its commit is kept

    def ensure_package(self) -> None:
        """Commit ``registry/__init__.py`` on the run branch if the start commit lacks it."""
        git = self.git()
        relative = f"{self.main.package}/__init__.py"
        if git.read_file("HEAD", relative) is not None:
            return
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(PACKAGE_INIT, encoding="utf-8")
        message = format_message(
            f"create the {self.main.package} package", None, [(RUN, self.run), (TOOLSET, self.toolset)]
        )
        git.commit_paths([relative], message)

    # ------------------------------------------------------------------ crash recovery

    def clean(self) -> None:
        """Bring the worktree back to its branch tip after a crash: no lock, no half-written file."""
        git = self.git()
        git_dir = git.git_dir
        lock = git_dir / "index.lock"
        if lock.exists():  # a git process killed with us; our toolset lock says no one else is here
            lock.unlink()
        for marker in ("REVERT_HEAD", "CHERRY_PICK_HEAD", "MERGE_HEAD"):
            (git_dir / marker).unlink(missing_ok=True)
        shutil.rmtree(git_dir / "sequencer", ignore_errors=True)
        git.run("reset", "--quiet", "--hard", "HEAD")
        git.run("clean", "--quiet", "-fd")

    def save_scratch(self, name: str, data: dict) -> Path:
        """Write JSON atomically under the run's scratch folder."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        path = self.scratch / name
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, path)
        return path


def _run_ids(main: Registry) -> set[str]:
    return {b.split("/")[-1] for b in main.git.branches("fnreg") if b.count("/") == 2}


def _new_run_id(main: Registry) -> str:
    base = time.strftime("%Y%m%d-%H%M%S")
    existing = _run_ids(main)
    run, n = base, 1
    while run in existing:
        n += 1
        run = f"{base}-{n}"
    return run


def _check_run_id(run: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", run) or run.endswith((".lock", ".")) or ".." in run:
        raise FnregError(f"run id {run!r} is not allowed: use letters, digits, '.', '_' and '-'")
