"""``fnreg cache info|prune|clear`` on the cache `fnreg eval` fills, through the real entry point."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.commands.test_registry_commands import fnreg


def _evaluate(repo: Path, server, *extra: str) -> None:
    done = fnreg(repo, "eval", "demo", "--split", "train", "--base-url", server.base_url, "--json", *extra)
    assert done.returncode == 0, done.stderr


def test_info_prune_and_clear(user_repo: Path, server) -> None:
    empty = fnreg(user_repo, "cache", "info")
    assert empty.returncode == 0 and "no cached answers yet" in empty.stdout
    _evaluate(user_repo, server)
    info = fnreg(user_repo, "cache", "info")
    assert info.returncode == 0, info.stderr
    lines = info.stdout.splitlines()
    answers = json.loads(fnreg(user_repo, "cache", "info", "--json").stdout)
    count = answers["answers"]
    assert count >= 8 and lines[0].startswith(f".fnreg/cache.sqlite: {count:,} answers, ")
    assert [g["endpoint"] for g in answers["groups"]] == [server.base_url]
    assert any(server.base_url in line and "gpt-4o-mini" in line for line in lines[1:])
    assert max(map(len, lines)) <= 80

    path = user_repo / ".fnreg" / "cache.sqlite"
    with sqlite3.connect(path) as conn:  # half the answers are 40 days old
        conn.execute("UPDATE answers SET created = created - 40 * 86400 WHERE rowid % 2 = 0")
    old = count // 2
    pruned = fnreg(user_repo, "cache", "prune", "--older-than", "30d")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.strip() == f"deleted {old} answers older than 30 days; {count - old} left"
    cleared = fnreg(user_repo, "cache", "clear")
    assert cleared.stdout.strip() == f"deleted {count - old} answers from .fnreg/cache.sqlite"
    assert json.loads(fnreg(user_repo, "cache", "info", "--json").stdout)["answers"] == 0


def test_a_bad_age_is_a_usage_error(user_repo: Path) -> None:
    done = fnreg(user_repo, "cache", "prune", "--older-than", "a month")
    assert done.returncode == 2 and "is not a duration such as 30d" in done.stderr


def test_answers_from_another_endpoint_are_not_served(user_repo: Path, server, serve) -> None:
    """The issue's case: evaluate against A, then against B serving the same model name."""
    from fnreg.testing.scripted_model import scripted_policy

    _evaluate(user_repo, server)
    other = serve(scripted_policy)
    _evaluate(user_repo, other)
    assert len(other.requests) == len(server.requests) > 0  # B was asked everything A was
    _evaluate(user_repo, other)
    assert len(other.requests) == len(server.requests)  # and then answered from B's own entries
