"""Reviewing a change to a toolset: both refs on the same tasks, the score change with its
interval, the tasks that flipped, the code that changed and how the changed functions were called.

This is what a reviewer of a pull request needs before merging learned or hand-edited
functions; ``fnreg review`` prints it and can post it on the pull request, and a training
run's pull request ends with it (the starting toolset against the best, on the test split).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fnreg.agents.react_agent import parse_reply
from fnreg.evaluation.runner import EvalResult, TaskResult
from fnreg.evaluation.stats import Interval, paired_bootstrap_interval, wilson_interval
from fnreg.llm import Usage
from fnreg.registry.registry import FunctionChange


def marker(task_set: str) -> str:
    """Hidden in the Markdown so that a later review of this task set updates its comment, not adds one."""
    return f"<!-- fnreg-review:{task_set} -->"


CALLS_PER_FUNCTION = 3
_CELL = 160


@dataclass(frozen=True)
class Flip:
    """A task one side answered correctly and the other did not."""

    task_id: str
    question: str
    gold: str
    base_answer: str | None
    head_answer: str | None
    #: True: wrong at base, right at head. False: broken by the change.
    fixed: bool


@dataclass(frozen=True)
class ToolCall:
    """One call of a function as the agent made it, and what came back."""

    function: str
    arguments: str
    result: str


@dataclass
class Review:
    """Two evaluations of one task set's tasks, at ``base`` and at ``head``, and the code between them."""

    task_set: str
    toolset: str
    split: str
    #: What the user named (a ref, or "working tree") and the commits they resolved to.
    base_ref: str
    head_ref: str
    base: EvalResult
    head: EvalResult
    changes: list[FunctionChange] = field(default_factory=list)
    base_commit: str | None = None
    head_commit: str | None = None

    def __post_init__(self) -> None:
        base_ids = [r.task_id for r in self.base.results]
        head_ids = [r.task_id for r in self.head.results]
        if sorted(base_ids) != sorted(head_ids):
            raise ValueError("a review compares the same tasks on both sides")

    @property
    def pairs(self) -> list[tuple[TaskResult, TaskResult]]:
        heads = {r.task_id: r for r in self.head.results}
        return [(base, heads[base.task_id]) for base in self.base.results]

    @property
    def base_accuracy(self) -> Interval:
        return wilson_interval(self.base.correct, self.base.total)

    @property
    def head_accuracy(self) -> Interval:
        return wilson_interval(self.head.correct, self.head.total)

    @property
    def difference(self) -> Interval:
        pairs = self.pairs
        return paired_bootstrap_interval([b.correct for b, _ in pairs], [h.correct for _, h in pairs])

    @property
    def regressed(self) -> bool:
        """Head answers fewer tasks correctly than base (the CI gate of ``--fail-on-regression``)."""
        return self.head.correct < self.base.correct

    @property
    def flips(self) -> list[Flip]:
        return [
            Flip(b.task_id, b.question or b.prompt, b.gold, b.answer, h.answer, fixed=h.correct)
            for b, h in self.pairs
            if b.correct != h.correct
        ]

    @property
    def usage(self) -> Usage:
        return self.base.usage + self.head.usage

    def calls(self, function: str, limit: int = CALLS_PER_FUNCTION) -> list[ToolCall]:
        """Up to ``limit`` calls of ``function`` in the head's conversations, broken tasks first."""
        ordered = sorted(self.head.results, key=lambda r: r.correct)
        found: list[ToolCall] = []
        for result in ordered:
            for call in tool_calls(result.conversation.messages):
                if call.function == function:
                    found.append(call)
                    if len(found) >= limit:
                        return found
        return found


def tool_calls(messages: list[dict[str, Any]]) -> list[ToolCall]:
    """The function calls in a conversation: native tool calls and ReAct ``Action``s, with their results."""
    results = {m.get("tool_call_id"): str(m.get("content") or "") for m in messages if m.get("role") == "tool"}
    calls: list[ToolCall] = []
    for index, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            calls.append(
                ToolCall(str(function.get("name")), str(function.get("arguments")), results.get(call.get("id"), ""))
            )
        if not message.get("tool_calls") and isinstance(message.get("content"), str):
            step = parse_reply(message["content"])
            if step.action:
                following = messages[index + 1] if index + 1 < len(messages) else {}
                observation = str(following.get("content") or "").removeprefix("Observation: ")
                calls.append(ToolCall(step.action, step.action_input or "", observation))
    return calls


# ----------------------------------------------------------------------------- Markdown


def render_review(review: Review, *, title: str | None = None, heading: str = "##") -> str:
    """The review as GitHub Markdown (a comment, a PR body section, or a file)."""
    tasks = review.base.total
    lines = [
        marker(review.task_set),
        f"{heading} {title or f'fnreg review: `{review.task_set}`'} ({review.split} split, {tasks} tasks)",
        "",
        _verdict(review),
        "",
        "| | accuracy | 95% interval |",
        "|---|---:|---|",
        f"| base {_ref(review.base_ref, review.base_commit)} | {_pct(review.base_accuracy)} | "
        f"{_range(review.base_accuracy)} |",
        f"| head {_ref(review.head_ref, review.head_commit)} | {_pct(review.head_accuracy)} | "
        f"{_range(review.head_accuracy)} |",
        f"| **change** | **{review.difference.value * 100:+.1f} pts** | "
        f"{_range(review.difference, signed=True)} (paired bootstrap) |",
        "",
    ]
    lines += _changes(review)
    lines += _flips(review)
    lines += _calls(review)
    lines += [f"{heading}# Usage", "", *_usage(review), ""]
    return "\n".join(lines)


def _verdict(review: Review) -> str:
    difference = review.difference
    if review.regressed:
        return f"**Regression**: head answers {review.base.correct - review.head.correct} fewer tasks correctly."
    if difference.low > 0:
        return "**Improvement**: head is better, beyond the 95% interval."
    if review.head.correct > review.base.correct:
        return "Head answers more tasks correctly, within the noise of this many tasks."
    return "No change in accuracy."


def _changes(review: Review) -> list[str]:
    if not review.changes:
        return [f"No function of toolset `{review.toolset}` changed.", ""]
    summary = ", ".join(f"{c.status} `{c.name}`" for c in review.changes)
    lines = [f"### Functions changed ({len(review.changes)}): {summary}", ""]
    for change in review.changes:
        lines += [
            f"<details><summary>{change.status} <code>{change.name}</code></summary>",
            "",
            "```diff",
            change.diff.rstrip("\n"),
            "```",
            "</details>",
            "",
        ]
    return lines


def _flips(review: Review) -> list[str]:
    flips = review.flips
    fixed = sum(f.fixed for f in flips)
    lines = [f"### Tasks that flipped: {fixed} fixed, {len(flips) - fixed} broken", ""]
    if not flips:
        return lines
    lines += ["| | task | question | gold | base answer | head answer |", "|---|---|---|---|---|---|"]
    for flip in sorted(flips, key=lambda f: (f.fixed, f.task_id)):
        lines.append(
            f"| {'fixed' if flip.fixed else '**broken**'} | `{_cell(flip.task_id, 40)}` | {_cell(flip.question)} "
            f"| {_cell(flip.gold, 60)} | {_cell(flip.base_answer, 60)} | {_cell(flip.head_answer, 60)} |"
        )
    return [*lines, ""]


def _calls(review: Review) -> list[str]:
    named = [c.name for c in review.changes if c.status != "removed"]
    if not named:
        return []
    lines = ["### How the head called the changed functions", ""]
    for name in named:
        calls = review.calls(name)
        if not calls:
            lines.append(f"- `{name}`: not called")
            continue
        lines.append(f"- `{name}`:")
        lines += [f"  - `{_cell(_compact(c.arguments), 120)}` → `{_cell(c.result, 120)}`" for c in calls]
    return [*lines, ""]


def _usage(review: Review) -> list[str]:
    return [
        f"- base: {review.base.usage.total_tokens:,} tokens, cost {review.base.usage.cost_text()}",
        f"- head: {review.head.usage.total_tokens:,} tokens, cost {review.head.usage.cost_text()}",
    ]


def _ref(ref: str, commit: str | None) -> str:
    return f"`{ref}`" + (f" (`{commit[:10]}`)" if commit and not commit.startswith(ref) else "")


def _pct(interval: Interval) -> str:
    return f"{interval.value * 100:.1f}%"


def _range(interval: Interval, *, signed: bool = False) -> str:
    if signed:
        return f"[{interval.low * 100:+.1f}, {interval.high * 100:+.1f}]"
    return f"[{interval.low * 100:.1f}%, {interval.high * 100:.1f}%]"


def _compact(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False, separators=(", ", ": "))
    except (ValueError, TypeError, RecursionError):
        return arguments


def _cell(text: str | None, width: int = _CELL) -> str:
    """Table-safe: one line, pipes escaped, cut to ``width``."""
    if text is None:
        return "—"
    flat = " ".join(str(text).split()).replace("|", "\\|").replace("`", "'")
    return flat if len(flat) <= width else flat[: width - 1] + "…"
