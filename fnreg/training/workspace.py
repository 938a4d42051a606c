"""Where a run lives: its branch ``fnreg/<toolset>/<run-id>`` and its own worktree.

The user's working tree, index and current branch are never touched: every write of a run
happens in ``.fnreg/worktrees/<run-id>`` (gitignored), on the run's branch.
"""

from __future__ import annotations

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


def branch_name(toolset: str, run: str) -> str:
    return f"fnreg/{toolset}/{run}"


def tag_name(toolset: str, run: str) -> str:
    return f"fnreg/{toolset}/{run}/best"


@dataclass(frozen=True)
class Workspace:
    """A run's branch, worktree and scratch folder, inside the user's repository."""

    main: Registry
    toolset: str
    run: str

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
        return Registry(self.path, package=self.main.package)

    def git(self) -> Git:
        return Git(self.path)

    def lock(self) -> AbstractContextManager[None]:
        return toolset_lock(self.main.state_dir() / "locks", self.toolset, f"run {self.run!r}")

    # ------------------------------------------------------------------ creating and finding

    @classmethod
    def create(cls, main: Registry, toolset: str, *, run: str | None = None, start: str = "HEAD") -> Workspace:
        """A new run branch from ``start`` with its worktree; the registry package exists on it."""
        if main.git.head() is None:
            raise GitError("the repository has no commits yet; commit something first (training starts from HEAD)")
        run = run or _new_run_id(main)
        _check_run_id(run)
        workspace = cls(main, toolset, run)
        main.state_dir()
        if workspace.branch in main.git.branches(f"fnreg/{toolset}"):
            raise FnregError(f"run {run!r} already exists (branch {workspace.branch}); resume it with --resume {run}")
        workspace.path.parent.mkdir(parents=True, exist_ok=True)
        main.git.add_worktree(workspace.path, workspace.branch, main.git.resolve(start))
        workspace.ensure_package()
        return workspace

    @classmethod
    def find(cls, main: Registry, run: str) -> Workspace:
        """The existing run named ``run`` (run id or branch name); recreates a deleted worktree."""
        run = run.removeprefix("fnreg/").split("/")[-1] if run.startswith("fnreg/") else run
        matches = [b for b in main.git.branches("fnreg") if b.split("/")[-1] == run and b.count("/") == 2]
        if not matches:
            raise FnregError(f"no run {run!r}: no branch fnreg/<toolset>/{run} (see `fnreg log` for runs)")
        toolset = matches[0].split("/")[1]
        workspace = cls(main, toolset, run)
        if not (workspace.path / ".git").exists():
            main.git.run("worktree", "prune")
            workspace.path.parent.mkdir(parents=True, exist_ok=True)
            main.git.run("worktree", "add", "--quiet", str(workspace.path), workspace.branch)
        return workspace

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


def _new_run_id(main: Registry) -> str:
    base = time.strftime("%Y%m%d-%H%M%S")
    existing = {b.split("/")[-1] for b in main.git.branches("fnreg")}
    run, n = base, 1
    while run in existing:
        n += 1
        run = f"{base}-{n}"
    return run


def _check_run_id(run: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", run) or run.endswith((".lock", ".")) or ".." in run:
        raise FnregError(f"run id {run!r} is not allowed: use letters, digits, '.', '_' and '-'")
