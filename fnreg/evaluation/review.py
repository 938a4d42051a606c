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

from fnreg import safe_json
from fnreg.agents.react_agent import parse_reply
from fnreg.evaluation.runner import EvalResult, TaskResult
from fnreg.evaluation.stats import Interval, mean_sd, paired_bootstrap_interval, wilson_interval
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
    #: Over repeats: how many of them passed on each side (1 or 0 without repeats).
    base_passed: int = 0
    head_passed: int = 0
    repeats: int = 1


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
    #: ``--repeats N``: every repeat of each side (``base``/``head`` are the first); empty: one each.
    base_repeats: list[EvalResult] = field(default_factory=list)
    head_repeats: list[EvalResult] = field(default_factory=list)
    #: What training recorded at a side's commit (an epoch commit, e.g. a best tag): side -> text.
    records: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = sorted(r.task_id for r in self.base.results)
        for run in [self.head, *self.base_repeats, *self.head_repeats]:
            if sorted(r.task_id for r in run.results) != ids:
                raise ValueError("a review compares the same tasks on both sides")
        if len(self.base_runs) != len(self.head_runs):
            raise ValueError("a review repeats both sides as often")

    @property
    def base_runs(self) -> list[EvalResult]:
        return self.base_repeats or [self.base]

    @property
    def head_runs(self) -> list[EvalResult]:
        return self.head_repeats or [self.head]

    @property
    def repeats(self) -> int:
        return len(self.base_runs)

    @property
    def pairs(self) -> list[tuple[TaskResult, TaskResult]]:
        heads = {r.task_id: r for r in self.head.results}
        return [(base, heads[base.task_id]) for base in self.base.results]

    def _passed(self, runs: list[EvalResult]) -> dict[str, int]:
        passed = {r.task_id: 0 for r in self.base.results}
        for run in runs:
            for result in run.results:
                passed[result.task_id] += result.correct
        return passed

    @property
    def base_accuracy(self) -> Interval:
        """Accuracy with its Wilson interval (over repeats: every attempt pooled)."""
        return _pooled(self.base_runs)

    @property
    def head_accuracy(self) -> Interval:
        return _pooled(self.head_runs)

    @property
    def difference(self) -> Interval:
        """head − base over the same tasks, paired bootstrap (over repeats: each task's share of passes)."""
        base, head = self._passed(self.base_runs), self._passed(self.head_runs)
        if self.repeats == 1:
            return paired_bootstrap_interval([bool(base[t]) for t in base], [bool(head[t]) for t in base])
        n = self.repeats
        return paired_bootstrap_interval([base[t] / n for t in base], [head[t] / n for t in base])

    @property
    def regressed(self) -> bool:
        """Head answers fewer tasks correctly than base, over all repeats (the CI gate of ``--fail-on-regression``)."""
        return sum(run.correct for run in self.head_runs) < sum(run.correct for run in self.base_runs)

    @property
    def flips(self) -> list[Flip]:
        """Tasks whose passes changed (one evaluation: right at one side only; repeats: passed more or less often)."""
        base, head = self._passed(self.base_runs), self._passed(self.head_runs)
        return [
            Flip(
                b.task_id,
                b.question or b.prompt,
                b.gold,
                b.answer,
                h.answer,
                fixed=head[b.task_id] > base[b.task_id],
                base_passed=base[b.task_id],
                head_passed=head[b.task_id],
                repeats=self.repeats,
            )
            for b, h in self.pairs
            if base[b.task_id] != head[b.task_id]
        ]

    @property
    def usage(self) -> Usage:
        return sum((run.usage for run in [*self.base_runs, *self.head_runs]), Usage())

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


def _pooled(runs: list[EvalResult]) -> Interval:
    return wilson_interval(sum(run.correct for run in runs), sum(run.total for run in runs))


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
    repeated = f", {review.repeats} repeats" if review.repeats > 1 else ""
    lines = [
        marker(review.task_set),
        f"{heading} {title or f'fnreg review: `{review.task_set}`'} ({review.split} split, "
        f"{tasks} task{'s' if tasks != 1 else ''}{repeated})",
        "",
        _verdict(review),
        "",
        "| | accuracy | 95% interval |",
        "|---|---:|---|",
        f"| base {_ref(review.base_ref, review.base_commit)} | {_accuracy(review, 'base')} | "
        f"{_range(review.base_accuracy)} |",
        f"| head {_ref(review.head_ref, review.head_commit)} | {_accuracy(review, 'head')} | "
        f"{_range(review.head_accuracy)} |",
        f"| **change** | **{review.difference.value * 100:+.1f} pts** | "
        f"{_range(review.difference, signed=True)} (paired bootstrap) |",
        "",
    ]
    if review.repeats > 1:
        lines += [
            "Accuracy is the mean over the repeats ± their standard deviation; its interval is Wilson's over every "
            "attempt; the change is bootstrapped over tasks, each counting the share of repeats it passed.",
            "",
            *(
                f"- {side} repeats: " + ", ".join(_pct(wilson_interval(r.correct, r.total)) for r in runs)
                for side, runs in (("base", review.base_runs), ("head", review.head_runs))
            ),
            "",
        ]
    for side in ("base", "head"):
        if side in review.records:
            lines += [f"Training recorded at {side}: {review.records[side]}.", ""]
    lines += _changes(review)
    lines += _flips(review)
    lines += _calls(review)
    lines += [f"{heading}# Usage", "", *_usage(review), ""]
    return "\n".join(lines)


def _accuracy(review: Review, side: str) -> str:
    runs = review.base_runs if side == "base" else review.head_runs
    if len(runs) == 1:
        return _pct(review.base_accuracy if side == "base" else review.head_accuracy)
    mean, sd = mean_sd([run.score for run in runs])
    return f"{mean * 100:.1f}% ± {sd * 100:.1f}"


def _verdict(review: Review) -> str:
    difference = review.difference
    if review.regressed:
        fewer = sum(r.correct for r in review.base_runs) - sum(r.correct for r in review.head_runs)
        if review.repeats > 1:
            return f"**Regression**: over {review.repeats} repeats head answered {fewer} fewer times correctly."
        return f"**Regression**: head answers {fewer} fewer tasks correctly."
    if difference.low > 0:
        return "**Improvement**: head is better, beyond the 95% interval."
    if sum(r.correct for r in review.head_runs) > sum(r.correct for r in review.base_runs):
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
    counts = review.repeats > 1
    passes = " passed |" if counts else ""
    lines += [
        f"| | task |{passes} question | gold | base answer | head answer |",
        "|---|---|" + ("---|" if counts else "") + "---|---|---|---|",
    ]
    for flip in sorted(flips, key=lambda f: (f.fixed, f.task_id)):
        passed = f" {flip.base_passed}/{flip.repeats} → {flip.head_passed}/{flip.repeats} |" if counts else ""
        lines.append(
            f"| {'fixed' if flip.fixed else '**broken**'} | `{_cell(flip.task_id, 40)}` |{passed} {_cell(flip.question)} "
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
    lines = []
    for side, runs in (("base", review.base_runs), ("head", review.head_runs)):
        usage = sum((run.usage for run in runs), Usage())
        lines.append(f"- {side}: {usage.total_tokens:,} tokens, cost {usage.cost_text()}")
    return lines


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
        return json.dumps(safe_json.loads(arguments), ensure_ascii=False, separators=(", ", ": "))
    except (ValueError, TypeError):
        return arguments


def _cell(text: str | None, width: int = _CELL) -> str:
    """Table-safe: one line, pipes escaped, cut to ``width``."""
    if text is None:
        return "—"
    flat = " ".join(str(text).split()).replace("|", "\\|").replace("`", "'")
    return flat if len(flat) <= width else flat[: width - 1] + "…"
