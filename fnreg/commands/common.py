"""What every command shares: the consoles, opening the registry, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

from fnreg.registry import Registry

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def open_registry(ctx: click.Context) -> Registry:
    """The registry of the repository the command runs in (``-C`` or the current directory)."""
    return Registry(ctx.find_root().params.get("repo") or ".")


def print_json(value: Any) -> None:
    """Plain JSON on stdout, for scripts (never rich markup)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def short(sha: str | None) -> str:
    return sha[:10] if sha else "-"


def signature(parameters: dict[str, Any]) -> str:
    """``expression: string, digits?: integer`` for a parameters schema."""
    required = set(parameters.get("required", []))
    parts = []
    for name, prop in parameters.get("properties", {}).items():
        kind = prop.get("type", "any")
        kind = "|".join(kind) if isinstance(kind, list) else kind
        if kind == "array" and isinstance(prop.get("items"), dict):
            kind = f"{prop['items'].get('type', 'any')}[]"
        parts.append(f"{name}{'' if name in required else '?'}: {kind}")
    return ", ".join(parts)


def first_line(text: str, width: int = 80) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"
