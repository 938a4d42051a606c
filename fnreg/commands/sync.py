"""``fnreg sync``: regenerate a toolset's ``__init__.py`` after function modules were added by hand."""

from __future__ import annotations

import click

from fnreg.commands.common import console, open_registry


@click.command("sync")
@click.option("--toolset", "-t", "toolsets", multiple=True, help="Toolset to sync (default: every toolset at HEAD).")
@click.pass_context
def sync_command(ctx: click.Context, toolsets: tuple[str, ...]) -> None:
    """Rewrite the generated __init__.py of each toolset from its committed function modules, as a commit.

    `fnreg apply` and `fnreg train` do the same; run this after committing a module written by
    hand, so that `from registry.<toolset> import <name>` gives the function.
    """
    registry = open_registry(ctx)
    for toolset in toolsets or registry.toolsets("HEAD"):
        commit = registry.sync(toolset)
        path = f"{registry.toolset_path(toolset)}/__init__.py"
        console.print(f"{path}: " + (f"regenerated ({commit[:10]})" if commit else "up to date"))
