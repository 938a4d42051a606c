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
    return f"{usage.total_tokens:,} tokens, cost {usage.cost_text()}"


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
    sandbox = result.meta.get("sandbox")
    if sandbox:
        network = "network on ([sandbox] network = true)" if sandbox.get("network") else "no network"
        table.add_row("sandbox", f"{sandbox.get('mode')}, {network}")
    if result.interrupted:
        table.add_row("interrupted", "yes: only finished tasks are counted")
    return table


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
    """Renders training events: a progress bar per evaluation and a line per action and epoch."""

    def __init__(self, console, usage_meter=None) -> None:
        self.console = console
        self.usage_meter = usage_meter
        self.progress: Progress | None = None
        self.bar = None
        self.actions = 0

    def show(self, event) -> None:
        handler = getattr(self, f"_{type(event).__name__}", None)
        if handler is not None:
            handler(event)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _extra(self) -> str:
        usage = self.usage_meter.total if self.usage_meter is not None else None
        spent = f" · {usage_text(usage)}" if usage is not None else ""
        return f"actions {self.actions}{spent}"

    def _RunStarted(self, event) -> None:
        verb = "resuming" if event.resumed else "training"
        self.console.print(f"[bold]{verb}[/] toolset [cyan]{event.toolset}[/] on branch [cyan]{event.branch}[/]")
        self.console.print(f"[dim]worktree {event.worktree}[/]")

    def _EvaluationStarted(self, event) -> None:
        self.close()
        self.progress = task_progress(self.console)
        self.progress.start()
        label = {
            "baseline": "baseline",
            "best": "best set",
            "candidate": "candidate",
            "val": "validation",
            "test": "test split",
            "test_start": "start on test",
        }[event.phase]
        self.bar = self.progress.add_task(
            f"epoch {event.epoch} {label}", total=event.tasks, accuracy="-", extra=self._extra()
        )

    def _TaskFinished(self, event) -> None:
        if self.progress is not None:
            self.progress.update(
                self.bar, completed=event.done, accuracy=accuracy(event.correct, event.done), extra=self._extra()
            )

    def _EvaluationFinished(self, event) -> None:
        self.close()

    def _ActionApplied(self, event) -> None:
        self.close()
        self.actions += 1
        applied = event.applied
        mark = {"add_function": "[green]+[/]", "revise_function": "[yellow]~[/]", "remove_function": "[red]-[/]"}
        self.console.print(f"  {mark[applied.action.kind]} {applied.action.summary()} [dim]({applied.commit[:10]})[/]")

    def _ActionRejected(self, event) -> None:
        self.close()
        self.console.print(f"  [red]✗[/] {event.tool} rejected: {event.errors[-1] if event.errors else 'invalid'}")

    def _EpochFinished(self, event) -> None:
        self.close()
        verdict = {
            "baseline": "[bold]baseline[/]",
            "improved": "[bold green]improved: kept[/]",
            "kept": "[green]no improvement: kept (ties keep / no roll-back)[/]",
            "rolled_back": "[bold red]no improvement: rolled back[/]",
            "no_change": "[yellow]no action: nothing to evaluate[/]",
        }[event.decision]
        val = ""
        if event.val_score is not None:
            best_val = f" (best {event.best_val_score:.1%})" if event.best_val_score is not None else ""
            val = f", val {event.val_score:.1%}{best_val}"
        self.console.print(
            f"epoch {event.epoch}: train {event.score:.1%} (best {event.best_score:.1%}){val} {verdict} "
            f"[dim]· {usage_text(event.usage)} · patience {event.patience_used}[/]"
        )


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
