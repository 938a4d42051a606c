"""Terminal rendering shared by eval, review, train and demo (rich); nothing here computes anything.

Human output fits the console's width (80 columns in a pipe) without cutting a number: lines
are built from parts, and a part that does not fit is left out or, for names and paths, cut
with an ellipsis. In a pipe there is no live progress bar, only the line it would end with.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fnreg.commands.common import plural
from fnreg.evaluation.runner import EvalResult
from fnreg.llm import Usage

#: Columns the numbers of a progress line need (bar, done/total, accuracy, tokens, time).
_NUMBERS_WIDTH = 56


def accuracy(correct: int, done: int) -> str:
    return f"{correct / done:.1%}" if done else "-"


def tokens_text(count: int) -> str:
    """``4,603 tokens``; ``123k tokens`` and ``1.2M tokens`` once long."""
    if count < 100_000:
        return plural(count, "token")
    if count < 10_000_000:
        return f"{count / 1000:,.0f}k tokens"
    return f"{count / 1_000_000:,.1f}M tokens"


def usage_text(usage: Usage) -> str:
    """``4,603 tokens`` and the cost when it is known (an unknown cost is said once, elsewhere)."""
    text = tokens_text(usage.total_tokens)
    return text if usage.cost_usd is None else f"{text}, ${usage.cost_usd:.4f}"


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns: a name or path, never a number, is what gets cut."""
    if width < 2:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def fit(parts: Sequence[str], width: int, separator: str = " · ") -> str:
    """The first part, then as many of the following (in order) as fit in ``width``."""
    line = parts[0]
    for part in parts[1:]:
        if part and len(line) + len(separator) + len(part) <= width:
            line += separator + part
    return line


class TaskProgress:
    """The progress of one evaluation: a live bar on a terminal, one line at the end in a pipe."""

    def __init__(self, console, description: str, total: int) -> None:
        self.console = console
        self.description = cut(description, max(12, console.width - _NUMBERS_WIDTH))
        self.total = total
        self.done = self.correct = 0
        self.tokens: int | None = None
        self.started = time.monotonic()
        self._progress: Progress | None = None
        self._bar = None

    def __enter__(self) -> TaskProgress:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.started = time.monotonic()
        if not self.console.is_terminal:
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=10),
            MofNCompleteColumn(),
            TextColumn("acc {task.fields[accuracy]}"),
            TextColumn("{task.fields[tokens]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._bar = self._progress.add_task(self.description, total=self.total, accuracy="-", tokens="")

    def update(self, done: int, correct: int, tokens: int | None = None) -> None:
        self.done, self.correct, self.tokens = done, correct, tokens
        if self._progress is not None:
            self._progress.update(
                self._bar,
                completed=done,
                accuracy=accuracy(correct, done),
                tokens=tokens_text(tokens) if tokens is not None else "",
            )

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            return
        elapsed = time.strftime("%H:%M:%S", time.gmtime(time.monotonic() - self.started)).removeprefix("0")
        numbers = [f"{self.done}/{self.total} {'task' if self.total == 1 else 'tasks'}"]
        numbers += [f"acc {accuracy(self.correct, self.done)}"]
        numbers += [tokens_text(self.tokens)] if self.tokens is not None else []
        self.console.print(fit([f"{self.description}:", *numbers, elapsed], self.console.width, "  "))


def eval_summary(result: EvalResult, title: str) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("accuracy", f"{result.score:.1%} ({result.correct}/{result.total})")
    for reason, count in sorted(result.failures().items()):
        table.add_row(f"failed: {reason.replace('_', ' ')}", str(count))
    usage = result.usage
    calls = plural(usage.calls, "call")
    table.add_row("tokens", f"{usage.total_tokens:,} ({calls}, {usage.cached_calls:,} cached)")
    table.add_row("cost", usage.cost_text())
    table.add_row("wall time", f"{result.wall_time:.1f} s")
    sandbox = result.meta.get("sandbox")
    if sandbox:
        network = "network on ([sandbox] network = true)" if sandbox.get("network") else "no network"
        table.add_row("sandbox", f"{sandbox.get('mode')}, {network}")
    if result.interrupted:
        table.add_row("interrupted", "yes: only finished tasks are counted")
    return table


_PHASES = {
    "baseline": "baseline",
    "best": "best set",
    "candidate": "candidate",
    "val": "validation",
    "test": "test split",
    "test_start": "start on test",
}


def _interval(interval) -> str:
    return f"[{interval.low:.1%}, {interval.high:.1%}]"


def repeats_summary(repeats, title: str) -> Table:
    """Every repeat's score with its Wilson interval, mean ± sd, pass@k and pass^k for k = 1..n."""
    from fnreg.evaluation.stats import wilson_interval

    table = Table(title=f"{title}, {repeats.n} repeats", title_justify="left", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for index, run in enumerate(repeats.runs, 1):
        table.add_row(
            f"repeat {index}",
            f"{run.score:.1%} ({run.correct}/{run.total}) {_interval(wilson_interval(run.correct, run.total))}",
        )
    table.add_row("mean ± sd", f"{repeats.mean:.1%} ± {repeats.sd * 100:.1f} pts")
    table.add_row("all attempts", f"{repeats.pooled.value:.1%} {_interval(repeats.pooled)} (Wilson, pooled)")
    for k in range(1, repeats.n + 1):
        table.add_row(f"pass@{k} / pass^{k}", f"{repeats.pass_at(k):.1%} / {repeats.pass_hat(k):.1%}")
    tasks = repeats.tasks
    always, never = sum(t.passed == repeats.n for t in tasks), sum(t.passed == 0 for t in tasks)
    table.add_row("tasks", f"{always} passed every repeat, {never} none, {len(tasks) - always - never} some")
    usage = repeats.usage
    table.add_row("tokens", f"{usage.total_tokens:,} ({usage.calls} calls, {usage.cached_calls} cached)")
    table.add_row("cost", usage.cost_text())
    return table


def consistency_summary(voted: EvalResult, samples, title: str) -> Table:
    """The majority vote's accuracy beside one sample's, and the tokens all samples took."""
    from fnreg.evaluation.stats import wilson_interval

    k = samples.n
    table = Table(title=f"{title}, self-consistency over {k} samples", title_justify="left", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    wilson = wilson_interval(voted.correct, voted.total)
    table.add_row("majority vote", f"{voted.score:.1%} ({voted.correct}/{voted.total}) {_interval(wilson)}")
    table.add_row("one sample", f"{samples.mean:.1%} ± {samples.sd * 100:.1f} pts (mean ± sd of the {k})")
    temperature = voted.meta.get("temperature")
    if temperature is not None:
        table.add_row("temperature", f"{temperature:g}")
    usage = voted.usage
    per_task = usage.total_tokens / voted.total if voted.total else 0
    table.add_row("tokens", f"{usage.total_tokens:,} ({per_task:,.0f} a task, all {k} samples)")
    table.add_row("cost", usage.cost_text())
    return table


class TrainDisplay:
    """Renders training events: a progress line per evaluation and a line per action and epoch.

    ``unknown_prices``: models without a price; said once, when the run starts, instead of
    "cost unknown" on every line.
    """

    def __init__(self, console, usage_meter=None, *, unknown_prices: Sequence[str] = ()) -> None:
        self.console = console
        self.usage_meter = usage_meter
        self.unknown_prices = list(unknown_prices)
        self.progress: TaskProgress | None = None

    def show(self, event) -> None:
        handler = getattr(self, f"_{type(event).__name__}", None)
        if handler is not None:
            handler(event)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _tokens(self) -> int | None:
        return self.usage_meter.total.total_tokens if self.usage_meter is not None else None

    def _RunStarted(self, event) -> None:
        verb = "resuming" if event.resumed else "training"
        self.console.print(f"[bold]{verb}[/] toolset [cyan]{event.toolset}[/] on branch [cyan]{event.branch}[/]")
        self.console.print(f"[dim]worktree {event.worktree}[/]")
        if self.unknown_prices:
            models = ", ".join(self.unknown_prices)
            self.console.print(f"[dim]cost unknown: no price for {models} (add it to \\[tool.fnreg.prices])[/]")

    def _EvaluationStarted(self, event) -> None:
        self.close()
        self.progress = TaskProgress(self.console, f"epoch {event.epoch} {_PHASES[event.phase]}", event.tasks)
        self.progress.start()
        self.progress.update(0, 0, self._tokens())

    def _TaskFinished(self, event) -> None:
        if self.progress is not None:
            self.progress.update(event.done, event.correct, self._tokens())

    def _EvaluationFinished(self, event) -> None:
        self.close()

    def _ActionApplied(self, event) -> None:
        self.close()
        applied = event.applied
        mark = {"add_function": "[green]+[/]", "revise_function": "[yellow]~[/]", "remove_function": "[red]-[/]"}
        sha = f"({applied.commit[:10]})"
        summary = cut(applied.action.summary(), self.console.width - len(sha) - 5)
        self.console.print(f"  {mark[applied.action.kind]} {summary} [dim]{sha}[/]")

    def _ActionRejected(self, event) -> None:
        self.close()
        head = f"  ✗ {event.tool} rejected: "
        reason = event.errors[-1] if event.errors else "invalid"
        # The reason is prose (the whole error is in the epoch's note): it may be cut.
        reason = cut(" ".join(reason.split()), self.console.width - len(head))
        self.console.print(f"  [red]✗[/] {escape(event.tool)} rejected: {escape(reason)}")

    def _EpochFinished(self, event) -> None:
        self.close()
        score, best = f"{event.score:.1%}", f"{event.best_score:.1%}"
        val = f", val {event.val_score:.1%}" if event.val_score is not None else ""
        # With a validation split its score decides (and is the one compared with the best's).
        decided, best_decided = event.score, event.best_score
        if event.val_score is not None and event.best_val_score is not None:
            decided, best_decided = event.val_score, event.best_val_score
            best = f"{event.best_val_score:.1%} (val)"
        verdict = {
            "baseline": f"epoch {event.epoch}: train {score}{val} (baseline)",
            "improved": f"epoch {event.epoch}: train {score}{val}, improved: kept",
            "kept": f"epoch {event.epoch}: train {score}{val}, no improvement: kept",
            "rolled_back": f"epoch {event.epoch}: train {score}{val} {'<' if decided < best_decided else '='} "
            f"best {best}: rolled back",
            "no_change": f"epoch {event.epoch}: no action, nothing to evaluate",
        }[event.decision]
        style = {"improved": "bold green", "kept": "green", "rolled_back": "bold red", "no_change": "yellow"}.get(
            event.decision, "bold"
        )
        parts = [verdict]
        if event.decision in ("rolled_back", "no_change", "kept"):
            parts.append(f"patience {event.patience_used}")
        parts.append(usage_text(event.usage))
        line = fit(parts, self.console.width)
        self.console.print(f"[{style}]{line[: len(verdict)]}[/][dim]{line[len(verdict):]}[/]")


def run_summary(finished, report_hint: str | None = None) -> Table:
    table = Table(title="training finished", title_justify="left", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    reasons = {
        "epochs": "all epochs done",
        "early_stop": "early stop (patience reached)",
        "budget": "budget reached",
        "finished": "already finished",
    }
    table.add_row("stopped", reasons[finished.reason])
    val = f", val {finished.best_val_score:.1%}" if finished.best_val_score is not None else ""
    table.add_row("best", f"epoch {finished.best_epoch}: train {finished.best_score:.1%}{val}")
    if finished.test_score is not None:
        table.add_row("test", f"{finished.test_score:.1%}")
    table.add_row("branch", finished.branch)
    table.add_row("best tag", finished.tag)
    table.add_row("usage", usage_text(finished.usage))
    if report_hint:
        table.add_row("report", report_hint)
    return table
