"""An exclusive, crash-safe lock per toolset, naming its holder.

The operating system releases the lock when the holding process dies (even by SIGKILL), so a
killed run never leaves a stale lock; a second run is told which run holds it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from fnreg.errors import LockError


@contextmanager
def toolset_lock(folder: Path, toolset: str, holder: str) -> Iterator[None]:
    """Hold the lock of ``toolset`` under ``folder`` (``.fnreg/locks``) or raise ``LockError`` at once."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / f"{toolset}.lock"))
    info = folder / f"{toolset}.json"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LockError(f"toolset {toolset!r} is locked by {_describe(info)}; wait for it or stop it first") from None
    try:
        info.write_text(json.dumps({"holder": holder, "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
        yield
    finally:
        info.unlink(missing_ok=True)
        lock.release()


def lock_holder(folder: Path, toolset: str) -> str | None:
    """Who holds the lock of ``toolset`` right now (e.g. ``run 'r1'``), or None when no one does."""
    path = folder / f"{toolset}.lock"
    if not path.exists():
        return None
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        try:
            return str(json.loads((folder / f"{toolset}.json").read_text())["holder"])
        except (OSError, ValueError, KeyError):
            return "another fnreg process"
    lock.release()
    return None


def _describe(info: Path) -> str:
    try:
        data = json.loads(info.read_text())
        return f"{data['holder']} (pid {data['pid']}, since {data['since']})"
    except (OSError, ValueError, KeyError):
        return "another fnreg process"
