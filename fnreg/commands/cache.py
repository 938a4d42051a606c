"""``fnreg cache info|prune|clear``: the LLM response cache (``.fnreg/cache.sqlite``)."""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import click

from fnreg.commands.common import open_registry, plural, print_json

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(?P<count>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw])")


class Duration(click.ParamType):
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s``: seconds."""

    name = "duration"

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        match = _DURATION.fullmatch(str(value).strip().lower())
        if match is None:
            self.fail(f"{value!r} is not a duration such as 30d, 12h, 90m, 2w or 45s", param, ctx)
        return float(match["count"]) * _UNITS[match["unit"]]


@click.group("cache")
def cache_command() -> None:
    """The LLM response cache: identical requests to the same endpoint are answered from it."""


@cache_command.command("info")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def info_command(ctx: click.Context, as_json: bool) -> None:
    """How many answers the cache holds, how big and how old it is, per endpoint and model."""
    path = _cache_path(ctx)
    if path is None or not path.is_file():
        if as_json:
            print_json({"path": str(path) if path else None, "answers": 0})
        else:
            click.echo(
                "the response cache is off ([tool.fnreg] cache = false)"
                if path is None
                else f"{_shown(path)}: no cached answers yet"
            )
        return
    cache = _open(path)
    try:
        stats = cache.stats()
    finally:
        cache.close()
    if as_json:
        print_json(stats.to_json())
        return
    span = f", {_day(stats.oldest)} to {_day(stats.newest)}" if stats.oldest is not None else ""
    click.echo(f"{_shown(path)}: {plural(stats.answers, 'answer')}, {_size(stats.size_bytes)}{span}")
    if stats.groups:
        click.echo(f"  {'answers':>8}  {'newest':<10}  {'model':<20}  endpoint")
        for (endpoint, model), (count, newest) in stats.groups.items():
            click.echo(f"  {count:>8,}  {_day(newest):<10}  {_cut(model, 20):<20}  {endpoint}")


@cache_command.command("prune")
@click.option("--older-than", "older_than", type=Duration(), required=True, help="Age, e.g. 30d, 12h, 2w.")
@click.pass_context
def prune_command(ctx: click.Context, older_than: float) -> None:
    """Delete the answers stored longer ago than --older-than."""
    path = _cache_path(ctx)
    if path is None or not path.is_file():
        click.echo("no cached answers")
        return
    cache = _open(path)
    try:
        deleted, left = cache.prune(older_than), len(cache)
    finally:
        cache.close()
    click.echo(f"deleted {plural(deleted, 'answer')} older than {_age(older_than)}; {left:,} left")


@cache_command.command("clear")
@click.pass_context
def clear_command(ctx: click.Context) -> None:
    """Delete every cached answer (the next run asks the endpoint again, and pays)."""
    path = _cache_path(ctx)
    if path is None or not path.is_file():
        click.echo("no cached answers")
        return
    cache = _open(path)
    try:
        deleted = cache.clear()
    finally:
        cache.close()
    click.echo(f"deleted {plural(deleted, 'answer')} from {_shown(path)}")


def _cache_path(ctx: click.Context) -> Path | None:
    """Where ``fnreg train`` and ``eval`` keep answers in this repository (``FNREG_CACHE`` if set); None if off."""
    from fnreg.llm import llm_settings

    registry = open_registry(ctx)
    return llm_settings(registry.root, cache_path=registry.state_dir(create=False) / "cache.sqlite").cache_path


def _open(path: Path):
    from fnreg.llm.cache import ResponseCache

    return ResponseCache(path)


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _day(timestamp: float | None) -> str:
    return datetime.date.fromtimestamp(timestamp).isoformat() if timestamp is not None else "-"


def _size(size: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return f"{size} bytes"


def _age(seconds: float) -> str:
    for unit, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= unit and seconds % unit == 0:
            return plural(int(seconds // unit), name)
    return plural(int(seconds), "second")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
