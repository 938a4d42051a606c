"""``fnreg runs``: every training run of this repository, and ``--prune`` to tidy up after them."""

from __future__ import annotations

import time

import click
from rich.table import Table

from fnreg.commands.common import console, open_registry, plural, print_json
from fnreg.training.runs import list_runs, prune_runs

_ENDINGS = {"epochs": "all epochs", "early_stop": "early stop", "budget": "budget"}


@click.command("runs")
@click.option("--toolset", "-t", help="Only the runs of this toolset.")
@click.option("--remote", default="origin", show_default=True, help="The remote whose copy of each run is checked.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--prune", is_flag=True, help="Remove worktrees that no running run uses.")
@click.option(
    "--delete-abandoned", is_flag=True, help="With --prune: also delete the branches of unfinished, stopped runs."
)
@click.pass_context
def runs_command(
    ctx: click.Context, toolset: str | None, remote: str, as_json: bool, prune: bool, delete_abandoned: bool
) -> None:
    """List runs: task set, start, epochs, best train/val/test scores, how each ended, whether it is pushed."""
    registry = open_registry(ctx)
    if delete_abandoned and not prune:
        raise click.UsageError("--delete-abandoned goes with --prune")
    if prune:
        result = prune_runs(registry, delete_abandoned=delete_abandoned)
        for name in result.worktrees:
            console.print(f"removed worktree .fnreg/worktrees/{name}")
        for branch in result.branches:
            console.print(f"deleted branch {branch}")
        if not (result.worktrees or result.branches):
            console.print("nothing to prune")
        return
    runs = list_runs(registry, toolset=toolset, remote=remote)
    if as_json:
        print_json([run.to_json() for run in runs])
        return
    if not runs:
        console.print("no runs yet (`fnreg train TASK` starts one)")
        return
    with_val = any(run.best_val is not None for run in runs)
    columns = ["run", "toolset", "task set", "started", "ep", "train", *(["val"] if with_val else []), "test"]
    table = Table(box=None, pad_edge=False, collapse_padding=True, padding=(0, 1))
    for column in [*columns, "ended", "pushed"]:
        table.add_column(column, no_wrap=True, justify="right" if column in ("ep", "train", "val", "test") else "left")
    for run in runs:
        scores = [_percent(run.best_train), *([_percent(run.best_val)] if with_val else []), _percent(run.test)]
        table.add_row(
            run.run,
            run.toolset,
            run.task_set or "-",
            time.strftime("%m-%d %H:%M", time.localtime(run.started)) if run.started else "-",
            str(run.epochs) if run.epochs >= 0 else "-",
            *scores,
            _ENDINGS.get(run.ended, run.ended),
            run.pushed,
        )
    console.print(table)
    leftovers = [run.run for run in runs if run.leftover_worktree]
    if leftovers:
        them = "it" if len(leftovers) == 1 else "them"
        console.print(f"{plural(len(leftovers), 'leftover worktree')}: `fnreg runs --prune` removes {them}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"
