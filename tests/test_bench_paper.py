"""``python -m bench.paper``: the harness writes its table end to end, and replays it byte for byte offline.

The model is the scripted one of fnreg's demo on a loopback server: the table's figures describe
the script, and the test checks the machinery only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.paper import PUBLISHED, Cell, Outcome, Settings, render
from fnreg.agents.base import Conversation
from fnreg.evaluation.repeats import Repeats
from fnreg.evaluation.runner import EvalResult, TaskResult
from fnreg.llm import LLMSettings, Usage
from fnreg.testing.scripted_model import scripted_policy
from fnreg.testing.server import ChatServer

ROOT = Path(__file__).resolve().parent.parent


def harness(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.paper", *args], cwd=cwd, capture_output=True, text=True, timeout=900
    )


@pytest.mark.slow
def test_the_harness_writes_its_table_and_replays_it_identically(user_repo: Path, tmp_path: Path):
    recorded, cassettes = tmp_path / "recorded.md", tmp_path / "cassettes"
    common = ["--repo", str(user_repo), "--tasks", "demo", "--agents", "tools", "--epochs", "2"]
    with ChatServer(policy=scripted_policy) as server:
        run = harness(
            *common,
            "--repeats",
            "2",
            "--base-url",
            server.base_url,
            "--model",
            "fnreg-scripted",
            "--record",
            str(cassettes),
            "-o",
            str(recorded),
        )
        assert run.returncode == 0, run.stderr[-3000:]
        asked = len(server.requests)
    table = recorded.read_text(encoding="utf-8")
    (row,) = [line for line in table.splitlines() if line.startswith("| demo |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:4] == ["demo", "tools", "agent training", "2 of 2"]
    assert cells[4] == "33.3 ± 0.0" and cells[5] == "100.0 ± 0.0"  # baseline, trained: 2 repeats each
    assert cells[6].startswith("33.3 (") and cells[7].startswith("+66.7 [")  # compute-matched (K), Δ
    assert "Protocol `paper` (epochs 10, patience 10, max_actions 3, ties keep" in table
    assert "Only a real model's run is comparable with the paper's column" in table
    assert asked > 0 and (cassettes / "demo.tools.full.jsonl").is_file()
    manifest = json.loads((cassettes / "manifest.json").read_text())
    assert manifest["settings"]["epochs"] == 2 and manifest["settings"]["repeats"] == 2
    assert (cassettes / "TABLE.md").read_text(encoding="utf-8") == table

    # No endpoint now: the cassettes answer, and the table is the same, byte for byte.
    replayed = tmp_path / "replayed.md"
    again = harness("--repo", str(user_repo), "--replay", str(cassettes), "-o", str(replayed))
    assert again.returncode == 0, again.stderr[-3000:]
    assert replayed.read_bytes() == recorded.read_bytes()

    refused = harness("--repo", str(user_repo), "--replay", str(cassettes), "--epochs", "3")
    assert refused.returncode == 2 and "it was recorded with epochs = 2, not 3" in refused.stderr


def test_dry_run_projects_every_cell_and_sends_nothing(user_repo: Path):
    with ChatServer(policy=scripted_policy) as server:
        run = harness(
            "--repo",
            str(user_repo),
            "--tasks",
            "demo",
            "--ablations",
            "--dry-run",
            "--base-url",
            server.base_url,
            "--model",
            "m",
            "--price",
            "m=1.0,2.0",
        )
        assert server.requests == []
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| demo.")]
    assert [r.split("|")[1].strip() for r in rows] == [
        f"demo.{agent}.{variant}" for agent in ("tools", "react") for variant in ("full", "no_rollback", "one_shot")
    ]
    total = next(line for line in run.stdout.splitlines() if line.startswith("| **total**"))
    assert "$" in total and "nothing was sent" in run.stdout


def _run(correct: list[bool]) -> EvalResult:
    conversation = Conversation([], "x", "answer", Usage(prompt_tokens=100, completion_tokens=10, calls=1))
    results = [TaskResult(f"t{i}", "q", "1", "x", ok, None, conversation) for i, ok in enumerate(correct)]
    return EvalResult(results)


def test_the_papers_number_is_cited_in_its_cell_only():
    settings = Settings(
        ["math-counting_and_probability"], ["tools"], False, "paper", None, None, None, 1, None, None, 16, {}
    )
    outcome = Outcome(
        Cell("math-counting_and_probability", "tools", "full"),
        best_epoch=1,
        epochs=3,
        baseline=Repeats([_run([True, False, False, False])]),
        trained=Repeats([_run([True, True, False, False])]),
        matched=_run([True, False, True, False]),
        samples=4,
        usage_by_role={"agent": Usage(1_000_000, 0, 10), "optimizer": Usage(0, 1_000_000, 3)},
        test_tasks=4,
    )
    llm = LLMSettings(model="a", optimizer_model="o", prices={"a": (1.0, 2.0), "o": (3.0, 4.0)})
    table = render([outcome], settings, llm)
    published = PUBLISHED[("math-counting_and_probability", "tools")]
    assert f"| 72.5 → 76.3 ({published.source}) |" in table and "Table 1" in published.source
    assert "| 2,000,000 | $5.00 |" in table  # 1M prompt tokens at $1 + 1M completion tokens at $4
    assert "| 1 of 3 | 25.0 [4.6, 69.9] | 50.0 [15.0, 85.0] | 50.0 (4) |" in table
    ablation = Outcome(**{**outcome.__dict__, "cell": Cell("math-counting_and_probability", "tools", "one_shot")})
    assert "72.5 → 76.3" not in render([ablation], settings, llm)  # the paper's number is for the full protocol
