"""A run's state, recomputed from its branch: trailers say what happened, notes hold the details.

Nothing about a run is kept anywhere else, so a run killed at any instant resumes from what
git has: finished epochs are never redone, an unfinished step is dropped and redone (its
LLM calls come from the cache), a roll-back that was decided but not written is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fnreg.registry import Git
from fnreg.registry.git import CommitInfo
from fnreg.registry.history import (
    ACTION,
    BEST_SCORE,
    BEST_VAL_SCORE,
    DECIDED_BY,
    DECISION,
    EPOCH,
    ROLLBACK_OF,
    RUN,
    SCORE,
    SPLIT,
    TASKS,
    VAL_SCORE,
)
from fnreg.training.events import Decision

#: Decisions after which the epoch's functions are the best set (List A).
BEST_DECISIONS = ("baseline", "improved", "kept")


@dataclass
class EpochRecord:
    """One evaluated epoch (epoch 0 is the baseline)."""

    epoch: int
    commit: str
    score: float
    tasks: int
    decision: Decision
    #: Score of the best set on the same tasks (differs from the best epoch's with batch training).
    best_score: float
    #: The action commits the epoch's optimizer step made.
    actions: list[str] = field(default_factory=list)
    #: The commit that reverted them, for a rolled-back epoch.
    rollback: str | None = None
    #: The validation score, and the best set's it was compared with (a task set with a validation split).
    val_score: float | None = None
    best_val_score: float | None = None
    #: The split whose score decided: "train", or "val" (older runs recorded none: "train").
    decided_by: str = "train"

    @property
    def deciding_score(self) -> float:
        """The score keep or roll-back compared: validation when it decided, else train."""
        return self.val_score if self.decided_by == "val" and self.val_score is not None else self.score

    @property
    def deciding_best(self) -> float:
        """The best set's score it was compared with."""
        if self.decided_by == "val" and self.best_val_score is not None:
            return self.best_val_score
        return self.best_score


@dataclass
class RunState:
    run: str
    #: The commit the run started from (parent of its first commit).
    start: str | None
    epochs: list[EpochRecord] = field(default_factory=list)
    #: Action commits after the last epoch commit: a step that was never evaluated.
    pending: list[str] = field(default_factory=list)
    test: CommitInfo | None = None

    @property
    def best(self) -> EpochRecord | None:
        improved = [e for e in self.epochs if e.decision in BEST_DECISIONS]
        return improved[-1] if improved else None

    @property
    def next_epoch(self) -> int:
        return self.epochs[-1].epoch + 1 if self.epochs else 0

    @property
    def patience_used(self) -> int:
        """Epochs since the best one: without improvement, nor a kept tie (the early-stop counter)."""
        best = self.best
        return sum(1 for e in self.epochs if best is not None and e.epoch > best.epoch)

    @property
    def failures(self) -> list[EpochRecord]:
        """Rolled-back epochs since the best one; the optimizer is shown their function sets."""
        best = self.best
        return [e for e in self.epochs if best is not None and e.epoch > best.epoch and e.decision == "rolled_back"]

    @property
    def needs_rollback(self) -> EpochRecord | None:
        last = self.epochs[-1] if self.epochs else None
        return last if last is not None and last.decision == "rolled_back" and last.rollback is None else None


def load_state(git: Git, branch: str, run: str) -> RunState:
    """Read the run's commits (newest back to where the run started) into a RunState."""
    commits: list[CommitInfo] = []
    start = None
    for commit in git.log([branch]):
        if commit.trailer(RUN) != run:
            start = commit.sha
            break
        commits.append(commit)
    state = RunState(run=run, start=start)
    for commit in reversed(commits):
        _apply(state, commit)
    return state


def _apply(state: RunState, commit: CommitInfo) -> None:
    if commit.trailer(SPLIT) == "test":
        state.test = commit
    elif commit.trailer(ROLLBACK_OF):
        if state.epochs:
            state.epochs[-1].rollback = commit.sha
    elif commit.trailer(ACTION):
        state.pending.append(commit.sha)
    elif commit.trailer(SCORE) is not None:
        score = float(commit.trailer(SCORE) or 0)
        state.epochs.append(
            EpochRecord(
                epoch=int(commit.trailer(EPOCH) or 0),
                commit=commit.sha,
                score=score,
                tasks=int(commit.trailer(TASKS) or 0),
                decision=commit.trailer(DECISION) or "improved",  # type: ignore[arg-type]
                best_score=float(commit.trailer(BEST_SCORE) or score),
                actions=state.pending,
                val_score=_optional_float(commit.trailer(VAL_SCORE)),
                best_val_score=_optional_float(commit.trailer(BEST_VAL_SCORE)),
                decided_by=commit.trailer(DECIDED_BY) or "train",
            )
        )
        state.pending = []


def _optional_float(value: str | None) -> float | None:
    return float(value) if value else None
