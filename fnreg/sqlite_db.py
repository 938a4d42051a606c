"""Opening a SQLite file that several fnreg processes share (the response and schema caches).

Switching a database to WAL needs an exclusive lock, and SQLite answers a second process that
tries the same switch at the same moment with "database is locked" *at once*: its busy
handler is not called where waiting could deadlock. So the switch and the schema are made
once, when the file is new, under a file lock; every later open only reads the mode. Any
"locked" or "busy" answer while opening is retried until the busy timeout, after which the
caller gets one line naming the file, never a traceback.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fnreg.errors import DatabaseLocked
from fnreg.file_lock import acquire

__all__ = ["locked_as_error", "open_database"]

_RETRY_SECONDS = 0.005


def open_database(path: Path, schema: str, *, busy_timeout: float = 30.0) -> sqlite3.Connection:
    """An autocommit connection to ``path`` in WAL mode with ``schema`` (idempotent DDL) applied.

    Waits up to ``busy_timeout`` seconds for other processes opening or writing the same file;
    raises :class:`DatabaseLocked` after that.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            connection = _open(path, schema, deadline)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            if time.monotonic() >= deadline:
                raise _locked(path, busy_timeout) from None
            time.sleep(_RETRY_SECONDS)
            continue
        # Opening used what was left of the timeout; the statements that follow get all of it.
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        return connection


def _open(path: Path, schema: str, deadline: float) -> sqlite3.Connection:
    remaining = max(deadline - time.monotonic(), 0.001)
    # check_same_thread=False only so an owner may close every thread's connection at the end;
    # each connection is still used by one thread at a time.
    connection = sqlite3.connect(path, timeout=remaining, isolation_level=None, check_same_thread=False)
    try:
        if _in_wal_mode(connection):
            connection.executescript(schema)  # a no-op read once the tables exist
        else:
            _initialise(path, connection, schema, deadline)
        connection.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        connection.close()
        raise
    return connection


def _in_wal_mode(connection: sqlite3.Connection) -> bool:
    """Reads the mode only: never competes for the exclusive lock a switch needs."""
    return str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"


def _initialise(path: Path, connection: sqlite3.Connection, schema: str, deadline: float) -> None:
    """Switch to WAL and create the tables, one process at a time."""
    lock = acquire(Path(str(path) + ".lock"), timeout=max(deadline - time.monotonic(), 0), poll_interval=_RETRY_SECONDS)
    if lock is None:
        raise sqlite3.OperationalError("database is locked")
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(schema)
    finally:
        lock.release()


@contextmanager
def locked_as_error(path: Path, busy_timeout: float) -> Iterator[None]:
    """Turn "database is locked" (the busy timeout ran out) into :class:`DatabaseLocked`."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if _is_busy(exc):
            raise _locked(path, busy_timeout) from None
        raise


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def _locked(path: Path, seconds: float) -> DatabaseLocked:
    return DatabaseLocked(
        f"{path} stayed locked by another process for {seconds:g} s; "
        "wait for the other fnreg process to finish, or run without the cache (--no-cache)"
    )
