"""Evaluating a task set: concurrency, verdicts, shards, and `fnreg eval` as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fnreg.errors import FnregError
from fnreg.evaluation import EvalResult, TaskSetAdapter, load_task_set, merge_results, shard
from fnreg.llm import LLMClient, LLMSettings
from fnreg.sandbox.jail import jail_support
from fnreg.testing.scripted_agent import agent_policy
from fnreg.testing.server import ChatServer, text, tool_call
from fnreg.testing.demo import DEMO_TASK
from tests.conftest import git


@pytest.fixture
def demo_repo(git_repo: Path) -> Path:
    shutil.copytree(DEMO_TASK, git_repo / "tasks" / "demo")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "demo task set")
    return git_repo


def client_for(server: ChatServer, **settings) -> LLMClient:
    return LLMClient(LLMSettings(base_url=server.base_url, model="scripted", backoff_base=0.001, **settings))


def test_scores_and_failure_reasons(demo_repo: Path):
    task_set = load_task_set("demo", demo_repo)
    with ChatServer(policy=agent_policy) as server:
        adapter = TaskSetAdapter(task_set, client_for(server), concurrency=3)
        results = list(adapter.evaluate(demo_repo, task_set.split("train")))
    verdicts = {r.task_id: r.correct for r in results}
    # Without learned functions the scripted agent gets percentages right and conversions wrong.
    assert verdicts == {f"train-0{i}": i >= 6 for i in range(1, 9)}
    wrong = next(r for r in results if r.task_id == "train-01")
    assert wrong.failure == "wrong_answer" and "\\boxed{8.0}" in wrong.answer
    assert any(m["role"] == "tool" for m in wrong.conversation.messages)


def test_concurrency_limit_is_respected(demo_repo: Path):
    task_set = load_task_set("demo", demo_repo)
    with ChatServer(policy=agent_policy, latency=0.2) as server:
        adapter = TaskSetAdapter(task_set, client_for(server, concurrency=8), concurrency=4)
        started = time.monotonic()
        results = list(adapter.evaluate(demo_repo, task_set.split("train")))
        elapsed = time.monotonic() - started
        assert server.max_in_flight == 4
    assert len(results) == 8
    # 8 tasks x 2 completions x 0.2 s: 3.2 s one at a time, about 0.8 s four at a time.
    assert elapsed < 2.5


def test_an_empty_reply_is_a_failure_with_its_reason(demo_repo: Path):
    task_set = load_task_set("demo", demo_repo)
    with ChatServer(policy=lambda request: text("")) as server:
        adapter = TaskSetAdapter(task_set, client_for(server), concurrency=2)
        results = list(adapter.evaluate(demo_repo, task_set.split("train")[:2]))
    assert [r.failure for r in results] == ["no_answer", "no_answer"]


def test_shards_cover_the_split_once(demo_repo: Path):
    tasks = load_task_set("demo", demo_repo).split("train")
    parts = [shard(tasks, f"{i}/3") for i in (1, 2, 3)]
    assert sorted(t.id for part in parts for t in part) == sorted(t.id for t in tasks)
    assert shard(tasks, "2/3") == shard(tasks, "2/3")
    with pytest.raises(FnregError, match="between 1 and 3"):
        shard(tasks, "4/3")
    with pytest.raises(FnregError, match="must look like"):
        shard(tasks, "half")


def fnreg(cwd: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fnreg", *args], cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs
    )


def test_eval_command_with_shards_and_merge(demo_repo: Path, tmp_path: Path):
    with ChatServer(policy=agent_policy) as server:
        full = fnreg(demo_repo, "eval", "demo", "--split", "train", "--base-url", server.base_url, "--json")
        assert full.returncode == 0, full.stderr
        for i in (1, 2):
            shard_run = fnreg(
                demo_repo,
                "eval",
                "demo",
                "--split",
                "train",
                "--base-url",
                server.base_url,
                "--shard",
                f"{i}/2",
                "--output",
                str(tmp_path / f"shard{i}.json"),
                *(["--sandbox", "process"] if i == 2 else []),
            )
            assert shard_run.returncode == 0, shard_run.stderr
            assert "accuracy" in shard_run.stdout
    report = json.loads(full.stdout)
    assert report["score"] == 3 / 8 and report["total"] == 8
    # Each run records how learned code was isolated: the jail by default where it starts.
    assert report["sandbox"] == {"mode": "jail" if jail_support().available else "process", "network": False}
    assert json.loads((tmp_path / "shard2.json").read_text())["sandbox"] == {"mode": "process", "network": False}
    merged = fnreg(demo_repo, "eval-merge", str(tmp_path / "shard1.json"), str(tmp_path / "shard2.json"), "--json")
    assert merged.returncode == 0, merged.stderr
    merged_report = json.loads(merged.stdout)
    assert merged_report["score"] == report["score"]
    assert sorted(r["task_id"] for r in merged_report["results"]) == sorted(r["task_id"] for r in report["results"])
    twice = fnreg(demo_repo, "eval-merge", str(tmp_path / "shard1.json"), str(tmp_path / "shard1.json"))
    assert twice.returncode != 0 and "more than one shard" in twice.stderr


def test_merge_results_in_process():
    a = EvalResult.from_json({"results": [], "task_set": "x"})
    assert merge_results([a]).score == 0.0


def test_ctrl_c_stops_cleanly_and_reports_what_finished(demo_repo: Path):
    # The fifth request is held until Ctrl-C has been sent, so the interrupt always lands
    # mid-evaluation, however slowly a loaded machine runs either process.
    interrupted = threading.Event()

    def held_after_four(request: dict):
        if len(server.requests) >= 5:
            interrupted.wait(timeout=60)
        return agent_policy(request)

    with ChatServer(policy=held_after_four) as server:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fnreg",
                "eval",
                "demo",
                "--split",
                "train",
                "--base-url",
                server.base_url,
                "--concurrency",
                "1",
                "--json",
            ],
            cwd=demo_repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while len(server.requests) < 5:  # four tasks done, the fifth waiting for its reply
            assert process.poll() is None and time.monotonic() < deadline, "the evaluation never reached task 5"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=60)
        finally:
            interrupted.set()
    assert process.returncode == 130, err
    report = json.loads(out)
    assert report["interrupted"] is True
    assert 0 < report["total"] < 8


def test_eval_at_an_old_ref_reads_git_objects(demo_repo: Path):
    from fnreg.registry import Registry

    registry = Registry(demo_repo)
    registry.apply(
        {
            "action": "add_function",
            "name": "percent_of",
            "description": "Percent of a whole.",
            "arguments": '{"percent": {"type": "number"}, "whole": {"type": "number"}}',
            "packages": "",
            "code": "return percent * whole / 100",
        },
        toolset="demo",
    )
    registry.apply({"action": "remove_function", "name": "percent_of"}, toolset="demo")
    with ChatServer(policy=agent_policy) as server:
        result = fnreg(
            demo_repo, "eval", "demo", "--split", "train", "--ref", "HEAD~1", "--base-url", server.base_url, "--json"
        )
        called = {
            c["function"]["name"] for r in server.requests for m in r["messages"] for c in m.get("tool_calls") or []
        }
    assert result.returncode == 0, result.stderr
    assert "percent_of" in called  # the function existed at HEAD~1 only
    assert os.listdir(demo_repo / "registry" / "demo") == ["__init__.py"]


def test_eval_applies_the_sandbox_limits_of_pyproject(demo_repo: Path):
    from fnreg.registry import Registry

    (demo_repo / "pyproject.toml").write_text("[tool.fnreg.limits]\nwall_seconds = 1\n")
    Registry(demo_repo).apply(
        {
            "action": "add_function",
            "name": "slow",
            "description": "Take a long time.",
            "arguments": "{}",
            "packages": "",
            "code": "import time\ntime.sleep(60)\nreturn 'done'",
        },
        toolset="demo",
    )

    def policy(request: dict) -> object:
        if request["messages"][-1]["role"] == "tool":
            return text("\\boxed{1}")
        return tool_call("slow", {})

    with ChatServer(policy=policy) as server:
        started = time.monotonic()
        result = fnreg(demo_repo, "eval", "demo", "--split", "train", "--shard", "1/8", "--base-url", server.base_url)
        elapsed = time.monotonic() - started
        tool_results = [m["content"] for r in server.requests for m in r["messages"] if m["role"] == "tool"]
    assert result.returncode == 0, result.stderr
    assert tool_results and tool_results[0].startswith("TimeoutError: call exceeded 1 s wall clock")
    assert elapsed < 25  # not the 60 s the function wanted, nor the default 30 s limit
