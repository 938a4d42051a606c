"""``fnreg log``: the training history read back from trailers and tags."""

from __future__ import annotations

import click

from fnreg.commands.common import open_registry, print_json, short


@click.command("log")
@click.option("--toolset", "-t", help="Only this toolset.")
@click.option("--run", "run", help="Only this run.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def log_command(ctx: click.Context, toolset: str | None, run: str | None, as_json: bool) -> None:
    """Actions, epochs, roll-backs and best tags on HEAD and every run branch, newest first."""
    entries = open_registry(ctx).log(toolset=toolset, run=run)
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    from rich.table import Table

    from fnreg.commands.common import console

    if not entries:
        console.print("no fnreg commits yet")
        return
    table = Table(expand=False)
    for column in ("commit", "toolset", "run", "epoch", "kind", "subject", "tags"):
        table.add_column(column, overflow="fold")
    styles = {"rollback": "red", "epoch": "cyan", "action": ""}
    for e in entries:
        style = "bold green" if e.best and e.kind == "epoch" else styles.get(e.kind, "dim")
        table.add_row(
            short(e.sha),
            e.toolset or "",
            e.run or "",
            "" if e.epoch is None else str(e.epoch),
            e.kind,
            e.subject,
            " ".join(e.tags),
            style=style,
        )
    console.print(table)
