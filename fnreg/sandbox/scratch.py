"""Temporary folders of the sandbox: made and marked by fnreg, removed without following links.

A process killed with SIGKILL cannot remove its folders; the next sandbox started on the
machine removes the folders of processes that no longer exist. Only folders fnreg itself made
are removed: a real directory (not a link) in the system's temporary directory, named
``fnreg-<kind>-<pid>-…``, owned by this uid, holding fnreg's marker file (also owned by this
uid). Removal goes through descriptors (:func:`fnreg.sandbox.worker.remove_tree`), so a link
planted inside or in place of such a folder is removed as a link and its target never touched.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from functools import lru_cache
from pathlib import Path

from fnreg.sandbox.worker import remove_tree

MARKER = ".fnreg-scratch"
_NAME = re.compile(r"fnreg-(?:sandbox|stage|bwrap)-(\d+)-")


def scratch_directory(kind: str) -> Path:
    """A new folder ``fnreg-<kind>-<pid>-XXXX`` in the system's temporary directory, marked."""
    path = Path(tempfile.mkdtemp(prefix=f"fnreg-{kind}-{os.getpid()}-"))
    fd = os.open(path / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, f"made by fnreg process {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    return path


def remove_scratch(path: Path) -> bool:
    """Remove a folder made by :func:`scratch_directory`, through descriptors only."""
    try:
        parent = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        return remove_tree(path.name, parent)
    finally:
        os.close(parent)


@lru_cache(maxsize=1)
def sweep_stale() -> int:
    """Remove folders left by dead fnreg processes (once per process); how many were removed."""
    try:
        parent = os.open(tempfile.gettempdir(), os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return 0
    removed = 0
    try:
        for name in os.listdir(parent):
            match = _NAME.match(name)
            if match and not _alive(int(match.group(1))) and _is_ours(parent, name):
                removed += remove_tree(name, parent)
    finally:
        os.close(parent)
    return removed


def _is_ours(parent: int, name: str) -> bool:
    """A real directory owned by this uid, holding fnreg's marker (also ours, not a link)."""
    try:
        info = os.lstat(name, dir_fd=parent)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            return False
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    except OSError:
        return False
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            return False
        marker = os.lstat(MARKER, dir_fd=fd)
        return stat.S_ISREG(marker.st_mode) and marker.st_uid == os.geteuid()
    except OSError:
        return False
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
