"""``fnreg list``: the functions of one or every toolset at a ref."""

from __future__ import annotations

import shutil
import sys
import textwrap

import click

from fnreg.commands.common import first_line, open_registry, plural, print_json, require_toolset, signature


@click.command("list")
@click.option("--toolset", "-t", help="Only this toolset.")
@click.option("--ref", help="Read the toolsets at this commit, branch or tag (default: working tree).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_command(ctx: click.Context, toolset: str | None, ref: str | None, as_json: bool) -> None:
    """List learned functions with their description, parameters and requirements."""
    registry = open_registry(ctx)
    if toolset is not None:
        require_toolset(registry, toolset, ref)
    names = [toolset] if toolset else registry.toolsets(ref)
    toolsets = [registry.toolset(name, ref) for name in names]
    if as_json:
        print_json({t.name: [f.to_json() for f in t] for t in toolsets})
        return
    width = shutil.get_terminal_size((80, 24)).columns if sys.stdout.isatty() else 80
    if not toolsets:
        click.echo(f"no toolsets under {registry.package}/" + (f" at {ref}" if ref else ""))
        return
    for index, t in enumerate(toolsets):
        click.echo(("\n" if index else "") + f"{t.name} ({plural(len(t), 'function')})")
        for f in t:
            click.echo(_function(f, width))
        for path, problem in t.problems.items():
            click.echo(textwrap.fill(f"warning: {path}: {problem}", width, subsequent_indent="  "), err=True)


def _function(function, width: int) -> str:
    """``name(parameters)``, wrapped between parameters; the description's first line; requirements."""
    head = textwrap.fill(
        f"{function.name}({signature(function.parameters)})",
        width,
        initial_indent="  ",
        subsequent_indent=" " * (len(function.name) + 3),
        break_long_words=False,
        break_on_hyphens=False,
    )
    lines = [head, "    " + first_line(function.description, width - 4)]
    if function.requires:
        lines.append(
            textwrap.fill(
                "requires " + ", ".join(function.requires), width, initial_indent="    ", subsequent_indent="      "
            )
        )
    return "\n".join(lines)
