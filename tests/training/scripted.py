"""A tiny task set whose answers depend on which functions the agent has, and scripted models for it.

Each question says what the agent answers without a function and with ``lookup_table``::

    Q-a. Without tools say 3; with lookup_table say 7.

The scripted agent answers the first number, or the second when ``lookup_table`` is among its
tools; gold decides which is right. So a test chooses, row by row, whether a learned function
helps or hurts. The scripted optimizer follows a plan: per step (read from the request's
"This is step N"), the replies for its first, second... request of that step; TERMINATE after.
Every score these produce describes the script, never a language model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fnreg.testing.server import Reply, text, tool_call
from tests.conftest import git

OPTIMIZER_TOOLS = {"add_function", "revise_function", "remove_function"}
_SAY = re.compile(r"Without tools say (-?\d+); with (\w+) say (-?\d+)")


def row(task_id: str, without: int, with_table: int, gold: int, function: str = "lookup_table") -> dict[str, Any]:
    return {
        "id": task_id,
        "question": f"{task_id}. Without tools say {without}; with {function} say {with_table}.",
        "answer": gold,
    }


def write_task_set(
    repo: Path,
    train: Sequence[Mapping[str, Any]],
    test: Sequence[Mapping[str, Any]] = (),
    *,
    val: Sequence[Mapping[str, Any]] | None = None,
    extra: str = "",
    name: str = "lookup",
) -> str:
    """Commit ``tasks/<name>`` (toolset ``lookup``) into ``repo``; its name."""
    folder = repo / "tasks" / name
    folder.mkdir(parents=True, exist_ok=True)
    files = {"train.jsonl": train, "test.jsonl": test or train, **({"val.jsonl": val} if val is not None else {})}
    for file, rows in files.items():
        (folder / file).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    lines = [
        f'name = "{name}"',
        'toolset = "lookup"',
        'evaluator = "numeric"',
        'train = "train.jsonl"',
        'test = "test.jsonl"',
        *(['val = "val.jsonl"'] if val is not None else []),
        "prompt = '{question}'",
        extra,
    ]
    (folder / "task.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if not (repo / ".gitignore").exists():
        (repo / ".gitignore").write_text(".fnreg/\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"task set {name}")
    return name


def agent_reply(request: dict[str, Any]) -> Reply:
    """The scripted agent: one answer, chosen by whether the named function is among its tools."""
    offered = {t["function"]["name"] for t in request.get("tools") or []}
    question = next(m["content"] for m in request["messages"] if m["role"] == "user")
    match = _SAY.search(question)
    if match is None:
        return text("I do not know.")
    without, function, with_table = match.groups()
    return text(f"The answer is \\boxed{{{with_table if function in offered else without}}}.")


def function_call(name: str, *, tool: str = "add_function", body: str = "return 'table'") -> Reply:
    """An add/revise_function call of a function without parameters."""
    return tool_call(
        tool,
        {
            "name": name,
            "description": f"The {name.replace('_', ' ')}.",
            "arguments": "{}",
            "packages": "",
            "code": f"def {name}() -> str:\n    {body}\n",
        },
    )


def step_of(prompt: str) -> int | None:
    match = re.search(r"This is step (\d+)", prompt)
    return int(match.group(1)) if match else None


def actions_taken(prompt: str) -> int:
    match = re.search(r"already taken (\d+) action", prompt)
    return int(match.group(1)) if match else 0


class Script:
    """Both roles: the agent above, and an optimizer following ``plan`` (step -> replies)."""

    def __init__(self, plan: Mapping[int, Sequence[Reply] | Callable[[str], Reply]] | None = None) -> None:
        self.plan = dict(plan or {})
        self.optimizer_prompts: list[str] = []

    def __call__(self, request: dict[str, Any]) -> Reply:
        offered = {t["function"]["name"] for t in request.get("tools") or []}
        if not offered & OPTIMIZER_TOOLS:
            return agent_reply(request)
        prompt = next(m["content"] for m in request["messages"] if m["role"] == "user")
        self.optimizer_prompts.append(prompt)
        planned = self.plan.get(step_of(prompt) or 0, ())
        if callable(planned):
            return planned(prompt)
        taken = actions_taken(prompt)
        return planned[taken] if taken < len(planned) else text("TERMINATE")


def subjects(repo: Path, run: str = "r1", toolset: str = "lookup") -> list[str]:
    return git(repo, "log", "--reverse", "--format=%s", f"main..fnreg/{toolset}/{run}").splitlines()
