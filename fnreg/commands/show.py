"""``fnreg show NAME``: a function's source."""

from __future__ import annotations

import sys

import click

from fnreg.commands.common import open_registry


@click.command("show")
@click.argument("name")
@click.option("--toolset", "-t", required=True, help="Toolset holding the function.")
@click.option("--ref", help="Commit, branch or tag (default: working tree).")
@click.pass_context
def show_command(ctx: click.Context, name: str, toolset: str, ref: str | None) -> None:
    """Show the source of function NAME (highlighted on a terminal)."""
    function = open_registry(ctx).toolset(toolset, ref)[name]
    if not sys.stdout.isatty():
        sys.stdout.write(function.source)
        return
    from rich.syntax import Syntax

    from fnreg.commands.common import console

    if console.is_terminal:
        console.print(f"[dim]{function.path}[/]")
        console.print(Syntax(function.source, "python", line_numbers=True))
    else:
        sys.stdout.write(function.source)
