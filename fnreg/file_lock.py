"""File locks: fnreg's one lock implementation (the ``filelock`` library), crash-safe.

The operating system releases a lock when the holding process dies (even by SIGKILL), so a
killed run never leaves a stale lock. :func:`toolset_lock` names its holder, so a second run
is told which run holds it; :func:`acquire` is the primitive every other lock uses (opening
a shared SQLite cache).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fnreg.errors import LockError

if TYPE_CHECKING:
    from filelock import BaseFileLock


def acquire(path: Path, *, timeout: float, poll_interval: float = 0.05) -> BaseFileLock | None:
    """Hold the lock file ``path`` (the caller releases it), or None if another holder kept it ``timeout`` s."""
    from filelock import FileLock, Timeout  # only code that locks pays for importing it

    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=timeout, poll_interval=poll_interval)
    except Timeout:
        return None
    return lock


@contextmanager
def toolset_lock(folder: Path, toolset: str, holder: str) -> Iterator[None]:
    """Hold the lock of ``toolset`` under ``folder`` (``.fnreg/locks``) or raise ``LockError`` at once."""
    folder.mkdir(parents=True, exist_ok=True)
    info = folder / f"{toolset}.json"
    lock = acquire(folder / f"{toolset}.lock", timeout=0)
    if lock is None:
        raise LockError(f"toolset {toolset!r} is locked by {_describe(info)}; wait for it or stop it first")
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
    lock = acquire(path, timeout=0)
    if lock is None:
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
