"""``fnreg log``: the training history read back from trailers and tags, one line per commit.

Like ``git log --oneline``: the short commit, then its kind, epoch, score and decision in
columns, then the subject, cut to fit the width (80 columns in a pipe). A line names its run
when the run changes. ``--json`` gives everything, trailers included.
"""

from __future__ import annotations

import itertools
import json
import shutil
import sys

import click

from fnreg.commands.common import open_registry, print_json, require_toolset

_DECISIONS = {"baseline": "baseline", "improved": "kept", "rolled_back": "rolled back", "no_change": "no change"}
_COLOURS = {"rollback": "red", "epoch": "cyan", "test": "blue"}


@click.command("log")
@click.option("--toolset", "-t", help="Only this toolset.")
@click.option("--run", "run", help="Only this run.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def log_command(ctx: click.Context, toolset: str | None, run: str | None, as_json: bool) -> None:
    """Actions, epochs, roll-backs and best tags on HEAD and every run branch, newest first."""
    registry = open_registry(ctx)
    if as_json and not sys.stdout.isatty():
        _stream_json(registry, toolset, run)
        return
    entries = registry.log(toolset=toolset, run=run)
    if toolset is not None and not entries:
        require_toolset(registry, toolset)  # a typo is an error; a toolset without fnreg commits is not
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    if not entries:
        click.echo("no fnreg commits yet" + (f" for run {run!r}" if run else ""))
        return
    width = shutil.get_terminal_size((80, 24)).columns if sys.stdout.isatty() else 80
    colour = sys.stdout.isatty()
    # One block per run, newest run first: runs that ran at the same time interleave in git's order.
    groups: dict[tuple[str | None, str | None], list] = {}
    for entry in entries:
        groups.setdefault((entry.run, entry.toolset), []).append(entry)
    for (run_id, toolset_name), block in groups.items():
        if run is None:
            label = f"run {run_id}" if run_id else "outside runs"
            text = f"{label} (toolset {toolset_name})"
            click.echo(click.style(text, bold=True) if colour else text)
        for entry in block:
            click.echo(_line(entry, width, colour))


def _stream_json(registry, toolset: str | None, run: str | None) -> None:
    """The JSON array for a script, written while git still walks the history (10,000 commits:
    about a third less time than collecting it first). Compact, as :func:`print_json` is in a pipe."""
    entries = registry.iter_log(toolset=toolset, run=run)
    first = next(entries, None)
    if first is None:
        if toolset is not None:
            require_toolset(registry, toolset)
        print_json([])
        return
    write = sys.stdout.write
    write("[" + json.dumps(first.to_json(), ensure_ascii=False))
    for batch in iter(lambda: list(itertools.islice(entries, 256)), []):
        write(", " + json.dumps([e.to_json() for e in batch], ensure_ascii=False)[1:-1])
    write("]\n")


def _line(entry, width: int, colour: bool) -> str:
    decision = _DECISIONS.get(entry.commit.trailer("Fnreg-Decision") or "", "")
    if entry.kind == "test":
        decision = "test split"
    if entry.tags:
        decision = f"{decision}, best" if decision else "best"
    score = f"{entry.score * 100:.1f}%" if entry.score is not None else ""
    epoch = f"e{entry.epoch}" if entry.epoch is not None else ""
    head = f"{entry.sha[:7]} {entry.kind:<8} {epoch:>3} {score:>6} {decision:<14} "
    subject = _cut_words(entry.subject, max(10, width - len(head)))
    if not colour:
        return head + subject
    style = {"fg": _COLOURS.get(entry.kind)} if entry.kind in _COLOURS else {}
    if entry.tags:
        style = {"fg": "green", "bold": True}
    return click.style(entry.sha[:7], fg="yellow") + click.style(head[7:] + subject, **style)


def _cut_words(text: str, width: int) -> str:
    """``text`` in ``width`` columns, cut after a whole word (never inside a number) with an ellipsis."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip(" :,;") + "…"
