"""``fnreg diff REF1 REF2``: which functions changed, with the code diff."""

from __future__ import annotations

import sys

import click
from rich.syntax import Syntax

from fnreg.commands.common import console, open_registry
from fnreg.errors import InputError
from fnreg.registry.toolset import check_toolset_name


@click.command("diff")
@click.argument("ref1")
@click.argument("ref2")
@click.option("--toolset", "-t", help="Only this toolset.")
@click.option("--stat", is_flag=True, help="Only list the changed functions.")
@click.pass_context
def diff_command(ctx: click.Context, ref1: str, ref2: str, toolset: str | None, stat: bool) -> None:
    """Functions added, revised and removed between REF1 and REF2."""
    registry = open_registry(ctx)
    if toolset is not None and toolset not in set(registry.toolsets(ref1)) | set(registry.toolsets(ref2)):
        check_toolset_name(toolset)
        raise InputError(f"no toolset {toolset!r} at {ref1} or {ref2} (under {registry.package}/)")
    changes = registry.diff(ref1, ref2, toolset)
    if not any(changes.values()):
        console.print(f"no function changed between {ref1} and {ref2}")
        return
    marks = {"added": "[green]+[/]", "revised": "[yellow]~[/]", "removed": "[red]-[/]"}
    for name, toolset_changes in changes.items():
        for change in toolset_changes:
            console.print(f"{marks[change.status]} {name}.{change.name} ({change.status})")
            if stat:
                continue
            if console.is_terminal:
                console.print(Syntax(change.diff, "diff"))
            else:
                sys.stdout.write(change.diff)
