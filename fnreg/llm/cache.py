"""SQLite response cache keyed by the canonical request and the endpoint, safe for threads and processes.

The key is the request body (model, messages, tools, temperature...) together with the parts
that decide an answer besides it: the endpoint (its normalised base URL, API version,
organisation and project, and the user's namespace; see :meth:`fnreg.llm.endpoint.Endpoint.cache_parts`),
so two endpoints serving the same model name never share an answer. More parts are one more
keyword to :func:`request_key` (a repeat index, say). Entries written before endpoints were
part of the key (the ``responses`` table of older fnreg versions) are never read: they could be
any endpoint's; ``fnreg cache clear`` and ``prune`` delete them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fnreg import safe_json
from fnreg.errors import DatabaseLocked
from fnreg.sqlite_db import locked_as_error, open_database

__all__ = ["CacheStats", "ResponseCache", "canonical_json", "request_key"]


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
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_created ON answers (created);
"""


@dataclass(frozen=True)
class CacheStats:
    """What ``fnreg cache info`` shows."""

    path: Path
    answers: int
    size_bytes: int
    oldest: float | None
    newest: float | None
    #: (endpoint, model) → (answers, newest timestamp), most answers first.
    groups: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "answers": self.answers,
            "size_bytes": self.size_bytes,
            "oldest": self.oldest,
            "newest": self.newest,
            "groups": [
                {"endpoint": endpoint, "model": model, "answers": count, "newest": newest}
                for (endpoint, model), (count, newest) in self.groups.items()
            ],
        }


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
            row = conn.execute("SELECT response FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            value = safe_json.loads(row[0])
        except ValueError:  # unreadable or absurdly nested: a miss, asked again
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, model: str, response: dict[str, Any], *, endpoint: str = "") -> None:
        """Store ``response``; ``endpoint`` (a URL without credentials) is shown by :meth:`stats`."""
        with self._statement() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO answers (key, model, endpoint, response, created) VALUES (?, ?, ?, ?, ?)",
                (key, model, endpoint, json.dumps(response), time.time()),
            )

    def __len__(self) -> int:
        with self._statement() as conn:
            return conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def stats(self) -> CacheStats:
        """How many answers, how big, how old, and for which endpoints and models."""
        with self._statement() as conn:
            count, oldest, newest = conn.execute("SELECT COUNT(*), MIN(created), MAX(created) FROM answers").fetchone()
            rows = conn.execute(
                "SELECT endpoint, model, COUNT(*), MAX(created) FROM answers GROUP BY endpoint, model "
                "ORDER BY COUNT(*) DESC, endpoint, model"
            ).fetchall()
        size = sum(p.stat().st_size for p in self._files())
        groups = {(endpoint or "?", model): (n, latest) for endpoint, model, n, latest in rows}
        return CacheStats(self.path, count, size, oldest, newest, groups)

    def prune(self, older_than: float) -> int:
        """Delete the answers stored more than ``older_than`` seconds ago; how many."""
        with self._statement() as conn:
            deleted = conn.execute("DELETE FROM answers WHERE created < ?", (time.time() - older_than,)).rowcount
            conn.execute("DROP TABLE IF EXISTS responses")  # an older fnreg's, keyed without the endpoint
        self._compact()
        return deleted

    def clear(self) -> int:
        """Delete every answer; how many there were."""
        with self._statement() as conn:
            deleted = conn.execute("DELETE FROM answers").rowcount
            conn.execute("DROP TABLE IF EXISTS responses")
        self._compact()
        return deleted

    def _compact(self) -> None:
        """Give the freed pages back to the file system (best effort: another process may be reading)."""
        try:
            with self._statement() as conn:
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except (sqlite3.Error, DatabaseLocked):
            pass

    def _files(self) -> list[Path]:
        candidates = [
            self.path,
            self.path.with_name(self.path.name + "-wal"),
            self.path.with_name(self.path.name + "-shm"),
        ]
        return [p for p in candidates if p.is_file()]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._all = self._all, []
        for conn in connections:
            try:
                conn.close()
            except sqlite3.Error:
                pass
