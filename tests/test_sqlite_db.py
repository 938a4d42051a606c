"""Opening a shared SQLite cache never fails because another process is opening or writing it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from fnreg.errors import DatabaseLocked
from fnreg.llm import ResponseCache
from fnreg.registry.derive_cache import DerivationCache, cache_key
from fnreg.registry.schema import DerivedFunction
from fnreg.sqlite_db import open_database

# Holds a write lock on argv[1] until a line arrives on stdin, then prints when it let go.
# "rollback": the file is new and in SQLite's default mode, so openers must switch it to WAL;
# "wal": the file is a cache already, and the lock is an ordinary writer's.
_HOLDER = """
import sqlite3, sys, time
path, mode = sys.argv[1], sys.argv[2]
if mode == "wal":
    from fnreg.llm import ResponseCache
    ResponseCache(path).close()
conn = sqlite3.connect(path, isolation_level=None)
conn.execute("CREATE TABLE IF NOT EXISTS holder (x)")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO holder VALUES (1)")
print("held", flush=True)
sys.stdin.readline()
released = time.time()
conn.execute("COMMIT")
print(released, flush=True)
"""

# Opens the response cache, writes and reads one row; prints when the open returned.
_OPENER = """
import sys, time
from fnreg.llm import ResponseCache
cache = ResponseCache(sys.argv[1])
opened = time.time()
cache.put(sys.argv[2], "m", {"by": sys.argv[2]})
assert cache.get(sys.argv[2]) == {"by": sys.argv[2]}
print(opened, time.time(), flush=True)
"""


def _hold(path: Path, mode: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def _release(holder: subprocess.Popen[str]) -> float:
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    released = float(holder.stdout.readline())
    assert holder.wait(timeout=30) == 0
    return released


def _opener(path: Path, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _OPENER, str(path), name], stdout=subprocess.PIPE, text=True)


def _finished_at(opener: subprocess.Popen[str]) -> float:
    out, _ = opener.communicate(timeout=60)
    assert opener.returncode == 0
    return float(out.split()[1])


def test_openers_wait_for_a_process_holding_a_new_file_and_then_switch_it_to_wal(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    holder = _hold(path, "rollback")
    openers = [_opener(path, f"opener-{i}") for i in range(3)]
    # The openers are running and blocked: in rollback mode the exclusive lock stops even reads.
    with pytest.raises(subprocess.TimeoutExpired):
        openers[0].wait(timeout=1.0)
    released = _release(holder)
    finished = [_finished_at(opener) for opener in openers]
    assert all(t >= released for t in finished)
    cache = ResponseCache(path)
    assert [cache.get(f"opener-{i}") for i in range(3)] == [{"by": f"opener-{i}"} for i in range(3)]
    cache.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT x FROM holder").fetchall() == [(1,)]  # the holder's write is kept


def test_openers_wait_for_a_writer_of_an_existing_cache(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    holder = _hold(path, "wal")
    openers = [_opener(path, f"opener-{i}") for i in range(3)]
    with pytest.raises(subprocess.TimeoutExpired):
        openers[0].wait(timeout=1.0)  # WAL lets them open and read; their writes wait
    released = _release(holder)
    assert all(_finished_at(opener) >= released for opener in openers)
    cache = ResponseCache(path)
    assert len(cache) == 3
    cache.close()


def test_a_lock_held_past_the_busy_timeout_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    holder = _hold(path, "rollback")
    try:
        with pytest.raises(DatabaseLocked) as caught:
            ResponseCache(path, busy_timeout=0.3)
        message = str(caught.value)
        assert str(path) in message and "--no-cache" in message and "\n" not in message
    finally:
        _release(holder)


def test_a_write_blocked_past_the_busy_timeout_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path, busy_timeout=0.3)
    holder = _hold(path, "wal")
    try:
        with pytest.raises(DatabaseLocked, match="stayed locked"):
            cache.put("k", "m", {"v": 1})
    finally:
        _release(holder)
        cache.close()


def test_the_schema_cache_derives_again_instead_of_failing_when_locked(tmp_path: Path) -> None:
    path = tmp_path / "derived.sqlite"
    derived = DerivedFunction(name="f", description="d", parameters={"type": "object"}, requires=(), warnings=())
    holder = _hold(path, "rollback")
    try:
        cache = DerivationCache(path, busy_timeout=0.3)
        assert cache.get_many([cache_key("src", "f")]) == {}  # no error: the caller derives again
        cache.put_many({cache_key("src", "f"): derived})  # dropped, silently: it is only an optimisation
    finally:
        _release(holder)
    cache.put_many({cache_key("src", "f"): derived})
    assert cache.get_many([cache_key("src", "f")]) == {cache_key("src", "f"): derived}


def test_open_database_applies_a_new_table_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    open_database(path, "CREATE TABLE IF NOT EXISTS a (x)").close()
    conn = open_database(path, "CREATE TABLE IF NOT EXISTS a (x); CREATE TABLE IF NOT EXISTS b (y)")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert tables == {"a", "b"}


# Each worker imports what it needs, says "ready" and waits for "go", so that all eight open the
# new file within the same millisecond: the moment two processes used to race to switch it to WAL.
_STRESS = {
    "responses": """
import sys
from fnreg.llm import ResponseCache
print("ready", flush=True); sys.stdin.readline()
for i in range(50):
    cache = ResponseCache(sys.argv[1])
    cache.put(f"{sys.argv[2]}-{i}", "m", {"i": i})
    assert cache.get(f"{sys.argv[2]}-{i}") == {"i": i}
    cache.close()
""",
    "schemas": """
import sys
from pathlib import Path
from fnreg.registry.derive_cache import DerivationCache
from fnreg.registry.schema import DerivedFunction
print("ready", flush=True); sys.stdin.readline()
for i in range(50):
    item = DerivedFunction(name=f"f{i}", description=sys.argv[2], parameters={}, requires=(), warnings=())
    DerivationCache(Path(sys.argv[1])).put_many({f"{sys.argv[2]}-{i}": item})
""",
}


@pytest.mark.parametrize("cache", sorted(_STRESS))
def test_eight_processes_open_and_write_one_new_file_fifty_times_each(tmp_path: Path, cache: str) -> None:
    path = tmp_path / "shared.sqlite"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _STRESS[cache], str(path), f"p{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    failures = [err for worker in workers for _, err in [worker.communicate(timeout=120)] if worker.returncode != 0]
    assert failures == []
    with sqlite3.connect(path) as conn:
        table = "answers" if cache == "responses" else "derived"
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 8 * 50  # nothing silently dropped


def test_eight_threads_opening_a_new_file_at_the_same_instant_all_succeed(tmp_path: Path) -> None:
    """Without the file lock around the switch to WAL, about one trial in twelve failed here."""
    failed_trials = 0
    for trial in range(100):
        path = tmp_path / f"trial-{trial}.sqlite"
        start = threading.Barrier(8)
        errors: list[BaseException] = []

        def open_it() -> None:
            start.wait()
            try:
                open_database(path, "CREATE TABLE IF NOT EXISTS t (x)").close()
            except BaseException as exc:  # collected: a thread's exception would be lost
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        failed_trials += bool(errors)
    assert failed_trials == 0
