"""Derived tool descriptions kept on disk, keyed by the module's content.

Deriving a schema parses the module with libcst (about half a millisecond each); a toolset of
a thousand functions read again and again (``fnreg list``, every epoch of a run) pays that
once per distinct module content. Safe for several processes (SQLite, WAL); a broken cache
only costs the time to derive again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from fnreg.registry.schema import DerivedFunction

#: Bump when derivation changes, so older entries are not served.
VERSION = "2"


def cache_key(source: str, name: str) -> str:
    return hashlib.sha1(f"{VERSION}\0{name}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()


class DerivationCache:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=5)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE IF NOT EXISTS derived (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return connection

    def get_many(self, keys: Iterable[str]) -> dict[str, DerivedFunction]:
        keys = list(keys)
        found: dict[str, DerivedFunction] = {}
        try:
            with self._connect() as connection:
                for start in range(0, len(keys), 500):
                    chunk = keys[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    for key, value in connection.execute(
                        f"SELECT key, value FROM derived WHERE key IN ({marks})", chunk
                    ):
                        found[key] = _decode(value)
        except (sqlite3.Error, OSError, ValueError, TypeError, KeyError):
            return {}
        return found

    def put_many(self, items: dict[str, DerivedFunction]) -> None:
        if not items:
            return
        try:
            with self._connect() as connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO derived (key, value) VALUES (?, ?)",
                    [(key, _encode(value)) for key, value in items.items()],
                )
        except (sqlite3.Error, OSError):
            pass  # the cache is an optimisation; deriving again is always correct


def _encode(derived: DerivedFunction) -> str:
    return json.dumps(
        {
            "name": derived.name,
            "description": derived.description,
            "parameters": derived.parameters,
            "requires": list(derived.requires),
            "warnings": list(derived.warnings),
            "returns": derived.returns,
        }
    )


def _decode(value: str) -> DerivedFunction:
    data = json.loads(value)
    return DerivedFunction(
        name=data["name"],
        description=data["description"],
        parameters=data["parameters"],
        requires=tuple(data["requires"]),
        warnings=tuple(data["warnings"]),
        returns=data.get("returns"),
    )
