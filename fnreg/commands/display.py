"""Terminal rendering shared by eval, train and demo (rich); nothing here computes anything."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fnreg.evaluation.runner import EvalResult
from fnreg.llm import Usage


def task_progress(console) -> Progress:
    """A progress bar whose task fields show running accuracy and tokens."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("acc {task.fields[accuracy]}"),
        TextColumn("{task.fields[extra]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def accuracy(correct: int, done: int) -> str:
    return f"{correct / done:.1%}" if done else "-"


def usage_text(usage: Usage) -> str:
    return f"{usage.total_tokens:,} tokens, {usage.cost_text()}"


def eval_summary(result: EvalResult, title: str) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("accuracy", f"{result.score:.1%} ({result.correct}/{result.total})")
    for reason, count in sorted(result.failures().items()):
        table.add_row(f"failed: {reason.replace('_', ' ')}", str(count))
    usage = result.usage
    table.add_row("tokens", f"{usage.total_tokens:,} ({usage.calls} calls, {usage.cached_calls} cached)")
    table.add_row("cost", usage.cost_text())
    table.add_row("wall time", f"{result.wall_time:.1f} s")
    if result.interrupted:
        table.add_row("interrupted", "yes: only finished tasks are counted")
    return table
