"""What one optimizer step returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from fnreg.llm import Usage
from fnreg.registry import AppliedAction


@dataclass
class Rejection:
    """A proposal that was still invalid after ``max_trials`` trials (or when the step ended)."""

    #: The tool the optimizer called (``add_function``... or an unknown name).
    tool: str
    #: The raw argument text of its last attempt.
    arguments: str
    #: The error text of every failed trial, in order.
    errors: list[str]


@dataclass
class StepResult:
    """The outcome of one progressive function update (paper Algorithm 1, one epoch's actions)."""

    #: Accepted actions, one commit each, in the order they were applied.
    applied: list[AppliedAction] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    #: True when the optimizer replied without a tool call (TERMINATE) before the action limit.
    terminated: bool = False
    #: Chat-completion requests made (cached answers included).
    requests: int = 0
    usage: Usage = field(default_factory=Usage)
    #: List B after the step: function name -> module source at the branch tip.
    sources: dict[str, str] = field(default_factory=dict)
