"""What the training loop reports as it goes, as plain data.

The trainer yields these instead of calling back into its caller: the CLI turns them into a
progress display, a notebook may print them or ignore them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from fnreg.evaluation.runner import EvalResult, TaskResult
from fnreg.llm import Usage
from fnreg.registry import AppliedAction

#: What an evaluation is for: the starting set (epoch 0), the best set again on a new batch, the
#: set after a step, the epoch's set on the validation split, the best set on the test split,
#: and the starting set on the test split.
Phase = Literal["baseline", "best", "candidate", "val", "test", "test_start"]
#: ``kept``: not an improvement but kept (a tie with ``ties = "keep"``, any step with ``rollback = false``).
Decision = Literal["baseline", "improved", "kept", "rolled_back", "no_change"]
StopReason = Literal["epochs", "early_stop", "budget", "finished"]


@dataclass(frozen=True)
class RunStarted:
    run: str
    toolset: str
    branch: str
    worktree: str
    resumed: bool
    #: Epoch the loop starts at (0 for a new run).
    epoch: int


@dataclass(frozen=True)
class EvaluationStarted:
    epoch: int
    phase: Phase
    tasks: int


@dataclass(frozen=True)
class TaskFinished:
    epoch: int
    phase: Phase
    result: TaskResult
    done: int
    total: int
    correct: int


@dataclass(frozen=True)
class EvaluationFinished:
    epoch: int
    phase: Phase
    result: EvalResult


@dataclass(frozen=True)
class ActionApplied:
    epoch: int
    applied: AppliedAction


@dataclass(frozen=True)
class ActionRejected:
    epoch: int
    tool: str
    errors: tuple[str, ...]


@dataclass(frozen=True)
class EpochFinished:
    epoch: int
    score: float
    best_score: float
    decision: Decision
    commit: str
    #: Non-improving epochs in a row so far (the early-stop counter).
    patience_used: int
    usage: Usage = field(default_factory=Usage)
    #: The epoch's validation score (a task set with a validation split: it decided).
    val_score: float | None = None
    best_val_score: float | None = None


@dataclass(frozen=True)
class RunFinished:
    run: str
    reason: StopReason
    best_epoch: int
    best_score: float
    best_commit: str
    tag: str
    branch: str
    worktree: str
    usage: Usage
    test_score: float | None = None
    #: The best epoch's validation score (a task set with a validation split).
    best_val_score: float | None = None


Event = (
    RunStarted
    | EvaluationStarted
    | TaskFinished
    | EvaluationFinished
    | ActionApplied
    | ActionRejected
    | EpochFinished
    | RunFinished
)
