"""``fnreg tools``: the OpenAI ``tools`` array of a toolset."""

from __future__ import annotations

import click

from fnreg.commands.common import open_registry, print_json, require_toolset


@click.command("tools")
@click.option("--toolset", "-t", required=True, help="Toolset to describe.")
@click.option("--ref", help="Commit, branch or tag (default: working tree).")
@click.pass_context
def tools_command(ctx: click.Context, toolset: str, ref: str | None) -> None:
    """Print the toolset as the JSON `tools` array of a chat-completions request."""
    registry = open_registry(ctx)
    require_toolset(registry, toolset, ref)
    print_json(registry.toolset(toolset, ref).openai_tools())
