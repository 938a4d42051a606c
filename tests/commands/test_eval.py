"""`fnreg eval --repeats` and `--self-consistency`, and `fnreg review --repeats`, through the CLI."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

from fnreg.testing.server import ChatServer, text
from tests.conftest import git
from tests.training.conftest import fnreg
from tests.training.scripted import Script, row, write_task_set


def test_repeats_ask_again_and_the_cache_keeps_each_repeat_apart(user_repo: Path, server: ChatServer):
    once = fnreg(user_repo, "eval", "demo", "--base-url", server.base_url, "--no-cache")
    assert once.returncode == 0, once.stderr
    single = len(server.requests)
    assert single > 0

    three = fnreg(user_repo, "eval", "demo", "--repeats", "3", "--base-url", server.base_url, "-o", "r.json")
    assert three.returncode == 0, three.stderr
    assert len(server.requests) - single == 3 * single  # three times the requests: each repeat asks again
    for line in ("repeat 1", "repeat 2", "repeat 3", "mean ± sd", "pass@3 / pass^3"):
        assert line in three.stdout

    again = fnreg(user_repo, "eval", "demo", "--repeats", "3", "--base-url", server.base_url)
    assert again.returncode == 0, again.stderr
    assert len(server.requests) == 4 * single  # every repeat is in the cache under its own key

    data = json.loads((user_repo / "r.json").read_text())
    summary = data["summary"]
    assert data["kind"] == "repeats" and summary["repeats"] == 3 and len(data["runs"]) == 3
    assert len(summary["scores"]) == 3 and set(summary["pass_at_k"]) == {"1", "2", "3"}
    assert {"task_id", "passed", "attempts", "pass@3", "pass^3"} <= set(summary["tasks"][0])
    assert all(run["repeat"] == i for i, run in enumerate(data["runs"]))


def test_repeats_replay_from_a_cassette(user_repo: Path, server: ChatServer):
    recorded = fnreg(
        user_repo,
        "eval",
        "demo",
        "--repeats",
        "2",
        "--no-cache",
        "--base-url",
        server.base_url,
        "--record",
        "run.jsonl",
        "--json",
    )
    assert recorded.returncode == 0, recorded.stderr
    replayed = fnreg(user_repo, "eval", "demo", "--repeats", "2", "--no-cache", "--replay", "run.jsonl", "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["summary"]["scores"] == json.loads(recorded.stdout)["summary"]["scores"]


class Sampler:
    """A scripted agent whose samples differ: per question, its answers in turn (any order gives the same votes)."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: Counter[str] = Counter()
        self.temperatures: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, request: dict) -> object:
        question = next(m["content"] for m in request["messages"] if m["role"] == "user")
        with self._lock:
            self.temperatures.append(request["temperature"])
            turn = self.asked[question]
            self.asked[question] += 1
        return text(f"\\boxed{{{self.answers[question][turn % len(self.answers[question])]}}}")


def test_self_consistency_takes_the_majority_and_reports_every_samples_tokens(git_repo: Path, serve):
    rows = [{"id": "q1", "question": "q1", "answer": 2}, {"id": "q2", "question": "q2", "answer": 5}]
    write_task_set(git_repo, rows, rows)
    sampler = Sampler({"q1": ["1", "2", "2"], "q2": ["5", "6", "6"]})  # q1's majority is right, q2's is wrong
    server = serve(policy=sampler)
    result = fnreg(
        git_repo, "eval", "lookup", "--self-consistency", "3", "--base-url", server.base_url, "--json", "-o", "sc.json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(r["task_id"], r["answer"], r["correct"]) for r in data["results"]] == [
        ("q1", "\\boxed{2}", True),
        ("q2", "\\boxed{6}", False),
    ]
    assert data["score"] == 0.5 and data["votes"] == {"q1": [2, 3], "q2": [2, 3]}
    assert data["temperature"] == 0.7 and set(sampler.temperatures) == {0.7}
    assert len(server.requests) == 6
    assert data["usage"]["calls"] == 6  # the tokens of all six samples, not of the winners only
    assert data["samples"]["repeats"] == 3

    table = fnreg(git_repo, "eval", "lookup", "--self-consistency", "3", "--base-url", server.base_url)
    assert "majority vote" in table.stdout and "50.0% (1/2)" in table.stdout and "all 3 samples" in table.stdout
    cold = fnreg(
        git_repo, "eval", "lookup", "--self-consistency", "3", "--temperature", "0", "--base-url", server.base_url
    )
    assert cold.returncode == 2 and "at 0 every sample is the same answer" in cold.stderr


def test_review_repeats_reports_mean_and_sd_and_a_bootstrap_over_shares(git_repo: Path, serve):
    write_task_set(git_repo, [row("a", 0, 7, 7), row("b", 0, 8, 8)], [row("a", 0, 7, 7), row("b", 0, 8, 8)])
    base = git(git_repo, "rev-parse", "HEAD")
    module = git_repo / "registry" / "lookup" / "lookup_table.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        '"""The lookup table."""\n\n\ndef lookup_table() -> str:\n    """The lookup table."""\n    return "t"\n'
    )
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "a hand-written lookup_table")
    server = serve(policy=Script())
    result = fnreg(
        git_repo,
        "review",
        "lookup",
        "--base",
        base,
        "--head",
        "HEAD",
        "--repeats",
        "2",
        "--base-url",
        server.base_url,
        "--split",
        "test",
        "-o",
        "review.md",
    )
    assert result.returncode == 0, result.stderr
    markdown = (git_repo / "review.md").read_text()
    assert "(test split, 2 tasks, 2 repeats)" in markdown
    assert "| 0.0% ± 0.0 |" in markdown and "| 100.0% ± 0.0 |" in markdown
    assert "- base repeats: 0.0%, 0.0%" in markdown and "- head repeats: 100.0%, 100.0%" in markdown
    assert "| fixed | `a` | 0/2 → 2/2 |" in markdown
    assert len(server.requests) == 8  # 2 tasks × 2 repeats × 2 sides
