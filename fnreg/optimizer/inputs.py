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
