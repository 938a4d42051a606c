"""Derived tool descriptions kept on disk, keyed by the module's content.

Deriving a schema parses the module with libcst (about half a millisecond each); a toolset of
a thousand functions read again and again (``fnreg list``, every epoch of a run) pays that
once per distinct module content. Safe for several processes (SQLite, WAL, opened through
:func:`fnreg.sqlite_db.open_database`); a broken or long-locked cache only costs the time to
derive again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from fnreg.errors import DatabaseLocked
from fnreg.registry.derived import DerivedFunction
from fnreg.sqlite_db import open_database

#: Bump when derivation changes, so older entries are not served.
VERSION = "4"  # 2: docstring parameter descriptions; 3: return types; 4: too deeply nested modules refused

_SCHEMA = "CREATE TABLE IF NOT EXISTS derived (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
#: Waiting longer than deriving again would take is pointless.
BUSY_TIMEOUT = 5.0


def cache_key(source: str, name: str) -> str:
    return hashlib.sha1(f"{VERSION}\0{name}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()


class DerivationCache:
    def __init__(self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.path = path
        self.busy_timeout = busy_timeout

    def _connect(self) -> sqlite3.Connection:
        return open_database(self.path, _SCHEMA, busy_timeout=self.busy_timeout)

    def get_many(self, keys: Iterable[str]) -> dict[str, DerivedFunction]:
        keys = list(keys)
        found: dict[str, DerivedFunction] = {}
        try:
            with closing(self._connect()) as connection:
                for start in range(0, len(keys), 500):
                    chunk = keys[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    for key, value in connection.execute(
                        f"SELECT key, value FROM derived WHERE key IN ({marks})", chunk
                    ):
                        found[key] = _decode(value)
        except (sqlite3.Error, DatabaseLocked, OSError, ValueError, TypeError, KeyError):
            return {}
        return found

    def put_many(self, items: dict[str, DerivedFunction]) -> None:
        if not items:
            return
        try:
            with closing(self._connect()) as connection:
                connection.execute("BEGIN IMMEDIATE")  # one transaction, not one per row
                connection.executemany(
                    "INSERT OR REPLACE INTO derived (key, value) VALUES (?, ?)",
                    [(key, _encode(value)) for key, value in items.items()],
                )
                connection.execute("COMMIT")
        except (sqlite3.Error, DatabaseLocked, OSError):
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
