"""What the optimizer learns from: plain data the trainer (or the AG2-compatible API) fills in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Experience:
    """One recorded conversation of the agent on one task, with the evaluator's verdict."""

    #: OpenAI chat format: system/user/assistant (maybe with tool_calls)/tool messages.
    messages: list[dict[str, Any]]
    satisfied: bool
    task_id: str | None = None
    #: The agent's final answer and the ground truth, shown when the optimizer is set to (the paper does).
    answer: str | None = None
    gold: str | None = None


@dataclass(frozen=True)
class FailedSet:
    """A function set that did not improve on the best, with its score (0..1)."""

    #: Function name -> module source.
    sources: dict[str, str]
    score: float


@dataclass(frozen=True)
class OptimizerInputs:
    """Everything one optimizer step sees besides the current function list (List B)."""

    #: List A: the best function set so far (function name -> module source).
    best_sources: Mapping[str, str]
    #: List A's success rate, 0..1.
    best_score: float
    #: The best epoch's conversations.
    histories: Sequence[Experience]
    #: Sets that did worse than List A, oldest first; the trainer clears them on improvement.
    failures: Sequence[FailedSet] = ()
    #: Where training is: this step's number and how many there are (None outside training).
    step: int | None = None
    steps: int | None = None
    #: What the previous step did and what came of it, in a sentence or two. With the step
    #: number, it makes every step's request new, even after a step that changed nothing.
    previous_step: str | None = None
