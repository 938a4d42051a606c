"""``fnreg requirements``: the packages the learned functions declare, one per line, for pip."""

from __future__ import annotations

import click

from fnreg.commands.common import open_registry, require_toolset


@click.command("requirements")
@click.option("--toolset", "-t", help="Only this toolset (default: every toolset).")
@click.option("--ref", help="Commit, branch or tag (default: working tree).")
@click.pass_context
def requirements_command(ctx: click.Context, toolset: str | None, ref: str | None) -> None:
    """Print what the functions' ``__requires__`` name, sorted: `fnreg requirements | pip install -r /dev/stdin`.

    fnreg never installs them itself; a function whose package is missing fails alone.
    """
    registry = open_registry(ctx)
    if toolset is not None:
        require_toolset(registry, toolset, ref)
    wanted = [toolset] if toolset else registry.toolsets(ref)
    packages = sorted({r for name in wanted for f in registry.toolset(name, ref) for r in f.requires}, key=str.lower)
    click.echo("\n".join(packages), nl=bool(packages))
