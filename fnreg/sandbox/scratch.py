"""Temporary folders of the sandbox, named after the process that made them.

A process killed with SIGKILL cannot remove its folders; the next sandbox started on the
machine removes the folders of processes that no longer exist.
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path

_NAME = re.compile(r"fnreg-(?:sandbox|stage)-(\d+)-")


def scratch_directory(kind: str) -> Path:
    """A new folder ``fnreg-<kind>-<pid>-XXXX`` in the system's temporary directory."""
    return Path(tempfile.mkdtemp(prefix=f"fnreg-{kind}-{os.getpid()}-"))


@lru_cache(maxsize=1)
def sweep_stale() -> int:
    """Remove folders left by dead fnreg processes (once per process); how many were removed."""
    from fnreg.sandbox.process import remove_directory  # the worker's files may be read-only

    removed = 0
    for path in Path(tempfile.gettempdir()).glob("fnreg-*-*-*"):
        match = _NAME.match(path.name)
        if not match or not path.is_dir() or _alive(int(match.group(1))):
            continue
        remove_directory(path)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
