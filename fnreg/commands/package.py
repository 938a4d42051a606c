"""``fnreg package``: a wheel of one toolset at one ref (see :mod:`fnreg.registry.package`)."""

from __future__ import annotations

import click

from fnreg.commands.common import open_registry
from fnreg.registry.package import build_wheel


@click.command("package")
@click.option("--toolset", "-t", required=True, help="Toolset to package.")
@click.option("--ref", required=True, help="Commit, branch or tag to package the toolset at.")
@click.option(
    "--output", "-o", default="dist", show_default=True, type=click.Path(file_okay=False), help="Folder for the wheel."
)
@click.option(
    "--version", "version", help="PEP 440 version (default: 0.0.<n>, n = commits that changed the toolset up to REF)."
)
@click.option("--name", help="Distribution name (default: <package>-<toolset>, e.g. registry-math).")
@click.pass_context
def package_command(
    ctx: click.Context, toolset: str, ref: str, output: str, version: str | None, name: str | None
) -> None:
    """Build a wheel of TOOLSET as it is at REF, straight from git; prints the wheel's path."""
    path = build_wheel(open_registry(ctx), toolset, ref, output, version=version, name=name)
    # Only the path on stdout, so scripts can run `pip install "$(fnreg package ...)"`.
    click.echo(str(path))
