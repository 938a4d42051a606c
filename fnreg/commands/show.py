"""``fnreg show NAME``: a function's source."""

from __future__ import annotations

import sys

import click

from fnreg.commands.common import open_registry, require_toolset
from fnreg.errors import InputError


@click.command("show")
@click.argument("name")
@click.option("--toolset", "-t", help="Toolset holding the function (needed only when several have one by that name).")
@click.option("--ref", help="Commit, branch or tag (default: working tree).")
@click.pass_context
def show_command(ctx: click.Context, name: str, toolset: str | None, ref: str | None) -> None:
    """Show the source of function NAME (highlighted on a terminal)."""
    registry = open_registry(ctx)
    if toolset is None:
        toolset = _only_toolset_with(registry, name, ref)
    else:
        require_toolset(registry, toolset, ref)
    function = registry.toolset(toolset, ref)[name]
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


def _only_toolset_with(registry, name: str, ref: str | None) -> str:
    """The one toolset that has a module ``NAME.py``; a one-line error when none or several do."""
    toolsets = registry.toolsets(ref)
    holding = [t for t in toolsets if registry.has_module(t, name, ref)]
    where = f" at {ref}" if ref else ""
    if not holding:
        raise InputError(f"no function {name!r} in any toolset{where} (toolsets: {', '.join(toolsets) or 'none'})")
    if len(holding) > 1:
        raise InputError(f"function {name!r} is in toolsets {', '.join(holding)}{where}; pick one with --toolset")
    return holding[0]
