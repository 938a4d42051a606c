"""What the training loop reports as it goes, as plain data.

The trainer yields these instead of calling back into its caller: the CLI turns them into a
progress display, a notebook may print them or ignore them. ``str(event)`` is one short line
(``epoch 2: train 75.0% (best 75.0%), improved``); ``repr`` and the fields hold everything.
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

_PHASES = {
    "baseline": "baseline",
    "best": "best set",
    "candidate": "candidate",
    "test": "test split",
    "test_start": "test split, starting functions",
}


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _clip(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class RunStarted:
    run: str
    toolset: str
    branch: str
    worktree: str
    resumed: bool
    #: Epoch the loop starts at (0 for a new run).
    epoch: int

    def __str__(self) -> str:
        verb = f"resumed at epoch {self.epoch}" if self.resumed else "started"
        return f"run {self.run} {verb}: toolset {self.toolset} on branch {self.branch}"


@dataclass(frozen=True)
class EvaluationStarted:
    epoch: int
    phase: Phase
    tasks: int

    def __str__(self) -> str:
        return f"epoch {self.epoch} {_PHASES[self.phase]}: evaluating {_count(self.tasks, 'task')}"


@dataclass(frozen=True)
class TaskFinished:
    epoch: int
    phase: Phase
    result: TaskResult
    done: int
    total: int
    correct: int

    def __str__(self) -> str:
        verdict = (
            "right" if self.result.correct else f"wrong ({(self.result.failure or 'wrong_answer').replace('_', ' ')})"
        )
        return (
            f"epoch {self.epoch} {_PHASES[self.phase]}: task {self.result.task_id} {verdict} "
            f"({self.done}/{self.total} done, {self.correct} right)"
        )


@dataclass(frozen=True)
class EvaluationFinished:
    epoch: int
    phase: Phase
    result: EvalResult

    def __str__(self) -> str:
        result = self.result
        return f"epoch {self.epoch} {_PHASES[self.phase]}: {result.score:.1%} ({result.correct}/{result.total} right)"


@dataclass(frozen=True)
class ActionApplied:
    epoch: int
    applied: AppliedAction

    def __str__(self) -> str:
        return f"epoch {self.epoch}: {self.applied.action.summary()} (commit {self.applied.commit[:10]})"


@dataclass(frozen=True)
class ActionRejected:
    epoch: int
    tool: str
    errors: tuple[str, ...]

    def __str__(self) -> str:
        reason = _clip(self.errors[-1]) if self.errors else "invalid"
        tries = f" after {len(self.errors)} tries" if len(self.errors) > 1 else ""
        return f"epoch {self.epoch}: {self.tool} rejected{tries}: {reason}"


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

    def __str__(self) -> str:
        decision = {
            "improved": "improved, kept",
            "kept": "no improvement, kept",
            "rolled_back": "rolled back",
            "no_change": "no action",
        }.get(self.decision, self.decision)
        patience = f", patience {self.patience_used}" if self.decision in ("rolled_back", "no_change", "kept") else ""
        val = f", val {self.val_score:.1%}" if self.val_score is not None else ""
        return f"epoch {self.epoch}: train {self.score:.1%}{val} (best {self.best_score:.1%}), {decision}{patience}"


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

    def __str__(self) -> str:
        test = f", test {self.test_score:.1%}" if self.test_score is not None else ""
        val = f", val {self.best_val_score:.1%}" if self.best_val_score is not None else ""
        return (
            f"run {self.run} finished ({self.reason.replace('_', ' ')}): best epoch {self.best_epoch}, "
            f"train {self.best_score:.1%}{val}{test}; tag {self.tag}; {self.usage.total_tokens:,} tokens"
        )


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
