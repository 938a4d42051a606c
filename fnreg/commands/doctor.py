"""``fnreg doctor``: how learned code is isolated on this machine, and why."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from fnreg.commands.common import console, open_registry, print_json, sandbox_setting


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--no-start", is_flag=True, help="Only inspect; do not start a sandbox to confirm.")
@click.pass_context
def doctor_command(ctx: click.Context, as_json: bool, no_start: bool) -> None:
    """Report the sandbox's isolation level here (jail or process) and why.

    Starts a throw-away sandbox in the mode that `fnreg eval` and `fnreg train` would use and
    runs one call in it, unless --no-start.
    """
    from fnreg.sandbox.diagnosis import diagnose  # starts processes: load only when asked

    try:
        configured = sandbox_setting(open_registry(ctx).root, None)
    except Exception:  # noqa: BLE001 - doctor also runs outside a repository
        configured = None
    report = diagnose(configured, start=not no_start)
    if as_json:
        print_json(report)
    else:
        table = Table(title="fnreg sandbox", title_justify="left", show_header=False)
        table.add_column("", style="bold")
        table.add_column("")
        for key, value in report["rows"]:
            table.add_row(escape(key), escape(str(value)))
        console.print(table)
    if report["mode"] is None:
        ctx.exit(1)
