"""Training through hostile optimizer replies, as a user runs it: `fnreg train` and `--resume`.

The first optimizer reply is code nested 3,000 parentheses deep: before fnreg bounded nesting,
libcst crashed on it (SIGSEGV) and ended the run, and `--resume` replayed the cached reply and
crashed again, even against a healthy endpoint. Now the reply is a rejected proposal like any
other: the optimizer gets the error back, its second reply is good, and the run learns that.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from fnreg.registry import Registry
from fnreg.testing.scripted_agent import agent_policy
from fnreg.testing.scripted_model import OPTIMIZER_TOOLS
from fnreg.testing.scripted_optimizer import CONVERT_ARGUMENTS, CONVERT_DESCRIPTION, CONVERT_V2
from fnreg.testing.server import Fault, Reply, text, tool_call
from tests.conftest import git
from tests.training.conftest import fnreg


def _add(code: str) -> Reply:
    return tool_call(
        "add_function",
        json.dumps(
            {
                "name": "convert_units",
                "description": CONVERT_DESCRIPTION,
                "arguments": json.dumps(CONVERT_ARGUMENTS),
                "code": code,
            }
        ),
    )


CRASHING = _add("return " + "(" * 3000 + "value" + ")" * 3000)  # SIGSEGV inside libcst, before the fix
GOOD = _add(CONVERT_V2)


class Optimizer:
    """First reply: the crashing proposal; the re-ask (which carries the error): the good one; then TERMINATE.

    Agent requests get the demo's scripted agent. ``down`` makes every optimizer request after the
    first fail with HTTP 500, as an endpoint that went away.
    """

    def __init__(self) -> None:
        self.down = False
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> Reply:
        offered = {tool.get("function", {}).get("name") for tool in request.get("tools") or []}
        if not offered & OPTIMIZER_TOOLS:
            return agent_policy(request)
        with self._lock:
            self.requests.append(request)
        messages = request["messages"]
        if self.down and len(self.requests) > 1:
            return Fault(status=500, message="the endpoint went away")
        if messages[-1].get("role") == "tool":
            return GOOD
        if "revision 2:" in json.dumps(messages):
            return text("TERMINATE")
        return CRASHING


TRAIN = ["train", "demo", "--run-id", "r", "--epochs", "1", "--model", "fnreg-scripted", "--max-retries", "0"]


def _check_learned_the_second_reply(repo: Path, optimizer: Optimizer) -> None:
    # The re-ask carried the rejection back to the model, word for word.
    reasks = [r for r in optimizer.requests if r["messages"][-1].get("role") == "tool"]
    assert reasks and all(
        r["messages"][-1]["content"].startswith(
            "error: add_function convert_units: code is nested more than 100 levels"
        )
        for r in reasks
    )
    subjects = git(repo, "log", "--reverse", "--format=%s", "main..fnreg/demo/r").splitlines()
    assert "add_function convert_units" in subjects and subjects[-1].startswith("epoch 1: train")
    assert "(best)" in subjects[-1]  # the good function was learned and kept
    best = Registry(repo).toolset("demo", "fnreg/demo/r/best")
    assert best.names == ["convert_units"] and "revision 2:" in best["convert_units"].source
    assert git(repo, "fsck", "--no-progress") == ""


def test_a_run_whose_first_optimizer_reply_crashed_finishes_and_learns_the_second(user_repo: Path, serve) -> None:
    optimizer = Optimizer()
    server = serve(optimizer)
    done = fnreg(user_repo, *TRAIN, "--base-url", server.base_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "✗ add_function rejected" not in done.stdout  # corrected within the round: not a skipped action
    _check_learned_the_second_reply(user_repo, optimizer)


def test_a_run_whose_cache_holds_the_crashing_reply_resumes_and_continues(user_repo: Path, serve) -> None:
    optimizer = Optimizer()
    optimizer.down = True  # the crashing reply is answered (and cached), then the endpoint fails
    server = serve(optimizer)
    first = fnreg(user_repo, *TRAIN, "--base-url", server.base_url)
    assert first.returncode == 1, first.stdout + first.stderr
    assert first.stderr.startswith("error: LLM endpoint") and "the endpoint went away" in first.stderr
    assert len(first.stderr.strip().splitlines()) == 1 and "Traceback" not in first.stderr
    assert "epoch 0: train" in git(user_repo, "log", "--format=%s", "fnreg/demo/r")  # the baseline is kept
    assert len(optimizer.requests) == 2  # the crashing reply, then the re-ask that failed

    optimizer.down = False
    resumed = fnreg(user_repo, *TRAIN[:2], "--resume", "r", *TRAIN[4:], "--base-url", server.base_url)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    # The first request of the step is answered from the cache (the crashing reply), not asked again.
    first_request = json.dumps(optimizer.requests[0]["messages"], sort_keys=True)
    assert [json.dumps(r["messages"], sort_keys=True) for r in optimizer.requests].count(first_request) == 1
    _check_learned_the_second_reply(user_repo, optimizer)


DEEP = "[" * 5000 + "]" * 5000


def test_an_agent_call_with_deeply_nested_arguments_is_a_failed_tool_call(user_repo: Path, serve) -> None:
    def policy(request: dict[str, Any]) -> Reply:
        if len(request["messages"]) == 2:  # each task's first turn: a call whose arguments nest 5,000 deep
            return tool_call("python", '{"code": ' + DEEP + "}")
        return agent_policy(request)

    server = serve(policy)
    done = fnreg(user_repo, "eval", "demo", "--split", "train", "--json", "--base-url", server.base_url)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert results and all(r["conversation"]["tool_errors"] >= 1 for r in results)
    errors = [m["content"] for r in results for m in r["conversation"]["messages"] if m["role"] == "tool"]
    assert any("nested more than 100 levels deep" in e for e in errors)


def test_a_deeply_nested_response_body_is_a_malformed_completion(user_repo: Path, serve) -> None:
    server = serve(lambda request: Fault(body='{"choices": ' + DEEP + "}"))
    done = fnreg(user_repo, "eval", "demo", "--split", "train", "--max-retries", "1", "--base-url", server.base_url)
    assert done.returncode == 1
    assert (
        done.stderr.startswith("error: LLM endpoint") and "sent no usable chat completion in 2 attempts" in done.stderr
    )
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
