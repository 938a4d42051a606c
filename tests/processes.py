"""Processes seen from /proc, for tests that check what a sandbox or server leaves behind."""

from __future__ import annotations

from pathlib import Path


def process_gone(pid: int) -> bool:
    """True once ``pid`` has ended (a zombie counts: some inits never reap orphans)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "State:\tZ" in status


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``: its children (of all its threads), theirs, and so on."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = {int(child) for child in (task / "children").read_text().split()}
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        for child in children - found:
            found |= {child} | descendants(child)
    return found
