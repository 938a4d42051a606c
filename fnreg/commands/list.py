"""``fnreg list``: the functions of one or every toolset at a ref."""

from __future__ import annotations

import click

from fnreg.commands.common import first_line, open_registry, print_json, signature


@click.command("list")
@click.option("--toolset", "-t", help="Only this toolset.")
@click.option("--ref", help="Read the toolsets at this commit, branch or tag (default: working tree).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_command(ctx: click.Context, toolset: str | None, ref: str | None, as_json: bool) -> None:
    """List learned functions with their description, parameters and requirements."""
    registry = open_registry(ctx)
    names = [toolset] if toolset else registry.toolsets(ref)
    toolsets = [registry.toolset(name, ref) for name in names]
    if as_json:
        print_json({t.name: [f.to_json() for f in t] for t in toolsets})
        return
    from rich.table import Table

    from fnreg.commands.common import console

    if not toolsets:
        console.print(f"no toolsets under {registry.package}/" + (f" at {ref}" if ref else ""))
        return
    for t in toolsets:
        table = Table(title=f"{t.name} ({len(t)} functions)", title_justify="left", expand=False)
        for column in ("function", "description", "parameters", "requires", "path"):
            table.add_column(column, overflow="fold")
        for f in t:
            table.add_row(f.name, first_line(f.description, 60), signature(f.parameters), " ".join(f.requires), f.path)
        console.print(table)
        for path, problem in t.problems.items():
            console.print(f"[yellow]warning:[/] {path}: {problem}")
