"""Every run of a repository, read from its branches, trailers and tags; and tidying up after them."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fnreg.errors import GitError
from fnreg.file_lock import lock_holder
from fnreg.registry import Registry
from fnreg.registry.history import SCORE, STOP, TASK_SET, VAL_SCORE
from fnreg.training.state import RunState, load_state
from fnreg.training.workspace import Workspace, tag_name

Ending = str  # "epochs", "early_stop", "budget", "running", "unfinished"


@dataclass(frozen=True)
class RunInfo:
    """One run as ``fnreg runs`` lists it."""

    run: str
    toolset: str
    branch: str
    task_set: str | None
    #: Unix time of the run's first commit.
    started: int | None
    #: The last evaluated epoch (-1: none yet).
    epochs: int
    best_epoch: int | None
    best_train: float | None
    best_val: float | None
    test: float | None
    #: How it ended: "epochs", "early_stop", "budget", or "running" / "unfinished" without a best tag.
    ended: Ending
    #: "yes" (the remote has the branch as it is here), "behind" (the remote lacks commits), "no".
    pushed: str
    #: A worktree left behind by a run that is not running.
    leftover_worktree: bool = False

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class PruneResult:
    worktrees: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)


def list_runs(main: Registry, *, toolset: str | None = None, remote: str = "origin") -> list[RunInfo]:
    """All runs with a branch ``fnreg/<toolset>/<run>`` here, oldest first."""
    infos = []
    for branch in sorted(main.git.branches("fnreg")):
        parts = branch.split("/")
        if len(parts) != 3 or (toolset is not None and parts[1] != toolset):
            continue
        infos.append(_info(main, Workspace(main, parts[1], parts[2]), remote))
    return sorted(infos, key=lambda info: (info.started or 0, info.run))


def prune_runs(main: Registry, *, delete_abandoned: bool = False) -> PruneResult:
    """Remove worktrees no running run uses; with ``delete_abandoned``, the branches of unfinished runs too."""
    result = PruneResult()
    running = _running(main)
    folder = main.state_dir(create=False) / "worktrees"
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name not in running:
            _remove_worktree(main, path)
            result.worktrees.append(path.name)
    main.git.run("worktree", "prune")
    if delete_abandoned:
        for info in list_runs(main):
            if info.ended == "unfinished":
                main.git.run("branch", "--quiet", "-D", info.branch)
                result.branches.append(info.branch)
    return result


def _info(main: Registry, workspace: Workspace, remote: str) -> RunInfo:
    state = load_state(main.git, workspace.branch, workspace.run)
    best = state.best
    first_epoch = main.git.log([state.epochs[0].commit], max_count=1)[0] if state.epochs else None
    return RunInfo(
        run=workspace.run,
        toolset=workspace.toolset,
        branch=workspace.branch,
        task_set=first_epoch.trailer(TASK_SET) if first_epoch else None,
        started=_started(main, state, workspace),
        epochs=state.epochs[-1].epoch if state.epochs else -1,
        best_epoch=best.epoch if best else None,
        best_train=best.score if best else None,
        best_val=_val_score(main, best.commit) if best else None,
        test=float(state.test.trailer(SCORE) or 0) if state.test else None,
        ended=_ending(main, workspace),
        pushed=_pushed(main, workspace.branch, remote),
        leftover_worktree=workspace.path.exists() and workspace.run not in _running(main),
    )


def _started(main: Registry, state: RunState, workspace: Workspace) -> int | None:
    spec = f"{state.start}..{workspace.branch}" if state.start else workspace.branch
    commits = main.git.run("log", "--reverse", "--format=%ct", spec).split()
    return int(commits[0]) if commits else None


def _val_score(main: Registry, commit: str) -> float | None:
    value = main.git.log([commit], max_count=1)[0].trailer(VAL_SCORE)
    return float(value) if value else None


def _ending(main: Registry, workspace: Workspace) -> Ending:
    try:
        message = main.git.run(
            "for-each-ref", "--format=%(contents)", f"refs/tags/{tag_name(workspace.toolset, workspace.run)}"
        )
    except GitError:
        message = ""
    if message:
        stop = re.search(rf"^{STOP}: (\w+)", message, re.M)
        legacy = re.search(r"^stopped: (.+?) after epoch", message, re.M)
        return stop.group(1) if stop else legacy.group(1).replace(" ", "_") if legacy else "finished"
    return "running" if workspace.run in _running(main) else "unfinished"


def _pushed(main: Registry, branch: str, remote: str) -> str:
    local = main.git.branches(branch).get(branch)
    try:
        remote_commit = main.git.run("rev-parse", "--verify", "--quiet", f"refs/remotes/{remote}/{branch}")
    except GitError:
        return "no"
    return "yes" if remote_commit == local else "behind"


def _running(main: Registry) -> set[str]:
    """Runs whose process holds their toolset's lock right now."""
    folder = main.state_dir(create=False) / "locks"
    holders = [lock_holder(folder, path.stem) for path in folder.glob("*.lock")] if folder.is_dir() else []
    return {m.group(1) for h in holders if h and (m := re.fullmatch(r"run '(.+)'", h))}


def _remove_worktree(main: Registry, path: Path) -> None:
    try:
        main.git.run("worktree", "remove", "--force", str(path))
    except GitError:
        import shutil

        shutil.rmtree(path, ignore_errors=True)
