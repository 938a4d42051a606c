"""``fnreg apply ACTION.json --toolset T``: one optimizer action, one commit."""

from __future__ import annotations

import sys

import click

from fnreg.commands.common import console, open_registry, short


@click.command("apply")
@click.argument("action_file", type=click.File("rb"), metavar="ACTION.json")
@click.option("--toolset", "-t", required=True, help="Toolset to change (folder under registry/).")
@click.pass_context
def apply_command(ctx: click.Context, action_file, toolset: str) -> None:
    """Apply one action (JSON; `-` for stdin) to a toolset as one commit.

    The JSON object has "action" (add_function, revise_function or remove_function)
    and the fields of the optimizer's tool call: name, description, arguments,
    packages, code. On any error nothing is written and HEAD does not move.
    """
    data = action_file.read()
    registry = open_registry(ctx)
    applied = registry.apply(data, toolset=toolset)
    if applied.module is not None:
        registry.keep_derived(applied.module)  # where fnreg keeps state, the next read needs no parser
    console.print(f"[green]✓[/] {applied.action.summary()} → {applied.path} ({short(applied.commit)})")
    if applied.module and applied.module.derived.warnings:
        for warning in applied.module.derived.warnings:
            console.print(f"[yellow]warning:[/] {warning}", file=sys.stderr)
