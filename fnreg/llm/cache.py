"""SQLite response cache keyed by the canonical request, safe for threads and processes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fnreg.sqlite_db import locked_as_error, open_database

__all__ = ["ResponseCache", "canonical_json", "request_key"]


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, unicode kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(request: dict[str, Any], **parts: Any) -> str:
    """sha256 of the canonical request (model, messages, tools, tool_choice, temperature...).

    ``parts``: what else decides the answer (``endpoint=...``, ``namespace=...``), hashed with
    the request; none for a cassette, which records one endpoint's exchanges by request alone.
    """
    value: Any = {"request": request, "parts": parts} if parts else request
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class ResponseCache:
    """Completion responses by request key, in SQLite at ``path``.

    One connection per thread (a connection shared across threads fails with "cannot start a
    transaction within a transaction"), WAL so readers never block the writer, and a busy
    timeout so processes sharing the file wait for each other instead of failing
    (:func:`fnreg.sqlite_db.open_database`); a file locked for longer is ``DatabaseLocked``.
    """

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._connection()  # create the schema now: fail early on an unwritable path

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError(f"response cache {self.path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        conn = open_database(self.path, _SCHEMA, busy_timeout=self._busy_timeout)
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def _statement(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection; a lock held past the busy timeout becomes one line."""
        with locked_as_error(self.path, self._busy_timeout):
            yield self._connection()

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored response for ``key``, or None (also when the stored row is unreadable)."""
        with self._statement() as conn:
            row = conn.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, model: str, response: dict[str, Any]) -> None:
        with self._statement() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO responses (key, model, response, created) VALUES (?, ?, ?, ?)",
                (key, model, json.dumps(response), time.time()),
            )

    def __len__(self) -> int:
        with self._statement() as conn:
            return conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._all = self._all, []
        for conn in connections:
            try:
                conn.close()
            except sqlite3.Error:
                pass
