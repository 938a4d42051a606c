"""Functions written by hand are first-class: importable, described, trained from, never clobbered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fnreg.testing.server import ChatServer
from tests.conftest import git
from tests.training.conftest import fnreg

MULTIPLY = '''"""Multiply two numbers."""


def multiply(a: float, b: float) -> float:
    """Multiply two numbers.

    Args:
        a: The first factor.
        b: The second factor.
    """
    return a * b
'''

ADD = {
    "action": "add_function",
    "name": "add",
    "description": "Add two numbers.",
    "arguments": json.dumps({"a": {"type": "number"}, "b": {"type": "number"}}),
    "packages": "",
    "code": "return a + b",
}


@pytest.fixture
def arith(git_repo: Path, tmp_path: Path) -> Path:
    """A repository with a learned `add` and a hand-written, committed `multiply` module."""
    assert fnreg(git_repo, "init").returncode == 0
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "fnreg init")
    action = tmp_path / "add.json"
    action.write_text(json.dumps(ADD))
    applied = fnreg(git_repo, "apply", str(action), "--toolset", "arith")
    assert applied.returncode == 0, applied.stderr
    (git_repo / "registry" / "arith" / "multiply.py").write_text(MULTIPLY)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "multiply, by hand")
    return git_repo


def call(repo: Path, code: str) -> str:
    ran = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.strip()


def test_sync_makes_a_hand_written_module_importable_as_a_function(arith: Path):
    assert call(arith, "from registry.arith import multiply; print(type(multiply).__name__)") == "module"
    synced = fnreg(arith, "sync", "--toolset", "arith")
    assert synced.returncode == 0 and "regenerated" in synced.stdout
    assert git(arith, "log", "-1", "--format=%s") == "sync registry/arith/__init__.py with its function modules"
    assert git(arith, "status", "--porcelain") == ""
    assert call(arith, "from registry.arith import multiply; print(multiply(3, 4))") == "12"
    assert "up to date" in fnreg(arith, "sync").stdout  # nothing to do the second time: no commit
    assert git(arith, "log", "-1", "--format=%s").startswith("sync ")


def test_the_next_apply_picks_up_the_hand_written_module_too(arith: Path, tmp_path: Path):
    action = tmp_path / "revise.json"
    action.write_text(json.dumps({**ADD, "action": "revise_function", "code": "return b + a"}))
    assert fnreg(arith, "apply", str(action), "--toolset", "arith").returncode == 0
    assert call(arith, "from registry.arith import add, multiply; print(add(1, 2), multiply(2, 5))") == "3 10"


def test_google_docstring_parameters_reach_the_tool_schema(arith: Path):
    tools = json.loads(fnreg(arith, "tools", "--toolset", "arith").stdout)
    multiply = next(t["function"] for t in tools if t["function"]["name"] == "multiply")
    assert multiply["parameters"]["properties"]["a"] == {"type": "number", "description": "The first factor."}
    assert multiply["parameters"]["properties"]["b"]["description"] == "The second factor."


def test_a_hand_written_init_is_never_overwritten(arith: Path, tmp_path: Path):
    init = arith / "registry" / "arith" / "__init__.py"
    init.write_text('"""My own init."""\nfrom .add import add\n')
    git(arith, "commit", "-qam", "my own init")
    before = git(arith, "rev-parse", "HEAD")
    action = tmp_path / "remove.json"
    action.write_text(json.dumps({"action": "remove_function", "name": "add"}))
    for args in (("apply", str(action), "--toolset", "arith"), ("sync", "--toolset", "arith")):
        refused = fnreg(arith, *args)
        assert refused.returncode == 1
        assert "registry/arith/__init__.py was written by hand" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert git(arith, "rev-parse", "HEAD") == before and init.read_text().startswith('"""My own init."""')


def test_training_starts_from_committed_hand_written_functions(user_repo: Path, tmp_path: Path):
    from fnreg.testing.scripted_model import scripted_policy

    folder = user_repo / "registry" / "demo"
    folder.mkdir(parents=True)
    (folder / "multiply.py").write_text(MULTIPLY)
    git(user_repo, "add", "registry")
    git(user_repo, "commit", "-qm", "a hand-written function")
    with ChatServer(policy=scripted_policy) as server:
        ran = fnreg(user_repo, "train", "demo", "--base-url", server.base_url, "--epochs", "1", "--run-id", "r1")
        assert ran.returncode == 0, ran.stdout + ran.stderr
        offered = {t["function"]["name"] for t in server.requests[0].get("tools", [])}
    assert "multiply" in offered
    subjects = git(user_repo, "log", "--format=%s", "main..fnreg/demo/r1").splitlines()
    assert subjects[-2:] == ["sync registry/demo/__init__.py with its function modules", "create the registry package"]
    assert git(user_repo, "status", "--porcelain") == " M README.md\n?? notes.txt"  # the user's own edits, untouched


def test_training_refuses_a_hand_written_init_before_any_llm_call(user_repo: Path):
    folder = user_repo / "registry" / "demo"
    folder.mkdir(parents=True)
    (folder / "multiply.py").write_text(MULTIPLY)
    (folder / "__init__.py").write_text("from .multiply import multiply\n")
    git(user_repo, "add", "registry")
    git(user_repo, "commit", "-qm", "hand-written toolset")
    with ChatServer() as server:
        refused = fnreg(user_repo, "train", "demo", "--base-url", server.base_url, "--epochs", "1")
        assert server.requests == []
    assert refused.returncode == 1 and "was written by hand" in refused.stderr
    assert git(user_repo, "branch", "--list", "fnreg/*") == ""
