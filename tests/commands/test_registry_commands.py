"""The registry commands, run as a user runs them: the real `fnreg` entry point in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git
from tests.registry.test_registry import ADD, REMOVE, REVISE


def fnreg(cwd: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fnreg", *args], cwd=cwd, input=input, capture_output=True, text=True, timeout=120
    )


def apply_json(repo: Path, action: dict | str, toolset: str = "math") -> subprocess.CompletedProcess:
    text = action if isinstance(action, str) else json.dumps(action)
    path = repo.parent / "action.json"
    path.write_text(text)
    return fnreg(repo, "apply", str(path), "--toolset", toolset)


@pytest.fixture
def repo(git_repo: Path) -> Path:
    assert fnreg(git_repo, "init").returncode == 0
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "fnreg init")
    return git_repo


def test_init_is_idempotent(git_repo: Path):
    first = fnreg(git_repo, "init")
    assert first.returncode == 0, first.stderr
    assert (git_repo / "registry/__init__.py").exists() and (git_repo / "tasks").is_dir()
    assert ".fnreg/" in (git_repo / ".gitignore").read_text().splitlines()
    snapshot = {p: p.read_bytes() for p in git_repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    second = fnreg(git_repo, "init")
    assert second.returncode == 0 and "nothing to do" in second.stdout
    assert snapshot == {p: p.read_bytes() for p in git_repo.rglob("*") if p.is_file() and ".git" not in p.parts}


def test_init_outside_a_repository(tmp_path: Path):
    result = fnreg(tmp_path, "init")
    assert result.returncode != 0
    assert result.stderr.strip().startswith("error: not a git repository")


def test_apply_list_show_tools_log_diff(repo: Path):
    assert apply_json(repo, ADD).returncode == 0
    assert apply_json(repo, REVISE).returncode == 0
    assert (
        apply_json(
            repo,
            ADD | {"name": "double", "arguments": '{"x": {"type": "number"}}', "code": "return 2*x", "packages": ""},
        ).returncode
        == 0
    )
    assert apply_json(repo, REMOVE).returncode == 0

    listed = json.loads(fnreg(repo, "list", "--json").stdout)
    assert [f["name"] for f in listed["math"]] == ["double"]
    old = json.loads(fnreg(repo, "list", "--toolset", "math", "--ref", "HEAD~2", "--json").stdout)
    assert [f["name"] for f in old["math"]] == ["evaluate_expression"]
    assert old["math"][0]["description"].startswith("Evaluate expressions exactly")
    assert old["math"][0]["requires"] == ["sympy"]
    assert old["math"][0]["path"] == "registry/math/evaluate_expression.py"

    table = fnreg(repo, "list").stdout
    assert table.splitlines() == ["math (1 function)", "  double(x: number)", f"    {ADD['description']}"]

    tools = json.loads(fnreg(repo, "tools", "--toolset", "math").stdout)
    assert tools == [
        {
            "type": "function",
            "function": {
                "name": "double",
                "description": ADD["description"],
                "parameters": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]},
            },
        }
    ]
    shown = fnreg(repo, "show", "evaluate_expression", "--toolset", "math", "--ref", "HEAD~2")
    assert "def evaluate_expression(" in shown.stdout
    missing = fnreg(repo, "show", "evaluate_expression", "--toolset", "math")
    assert missing.returncode != 0 and "no function 'evaluate_expression'" in missing.stderr

    log = json.loads(fnreg(repo, "log", "--json").stdout)
    assert [e["subject"] for e in log] == [
        "remove_function evaluate_expression",
        "add_function double",
        "revise_function evaluate_expression",
        "add_function evaluate_expression",
    ]
    diff = fnreg(repo, "diff", "HEAD~4", "HEAD", "--toolset", "math")
    assert "+ math.double (added)" in diff.stdout
    assert "evaluate_expression" not in diff.stdout  # added then removed: no net change
    diff = fnreg(repo, "diff", "HEAD~3", "HEAD~2")
    assert "~ math.evaluate_expression (revised)" in diff.stdout and "+    return str(sympy.simplify" in diff.stdout


NEW = ADD | {"name": "fresh_tool"}
BAD_INPUTS = {
    "malformed JSON": ('{"action": "add_function", "name": "f",', "not valid JSON"),
    "not an object": ("[1, 2]", "must be a JSON object"),
    "unknown action": (ADD | {"action": "rename_function"}, "unknown action 'rename_function'"),
    "syntax error": (NEW | {"code": "return (1 +"}, "syntax error"),
    "def name differs": (NEW | {"code": "def evaluate(expression):\n    return expression\n"}, "no `def fresh_tool`"),
    "not an identifier": (ADD | {"name": "evaluate-expression"}, "not allowed"),
    "keyword name": (ADD | {"name": "lambda"}, "keyword"),
    "builtin name": (ADD | {"name": "print"}, "shadows"),
    "stdlib module name": (ADD | {"name": "json"}, "shadows"),
    "arguments not an object": (NEW | {"arguments": '["expression"]'}, "must be a JSON object"),
    "arguments malformed": (NEW | {"arguments": '{"expression": {"type": "string"'}, "`arguments` is not valid JSON"),
    "schema property not an object": (NEW | {"arguments": '{"expression": "string"}'}, "must map to a schema object"),
    "revise missing": (REVISE | {"name": "nothing_here"}, "no function `nothing_here`"),
    "remove missing": (REMOVE | {"name": "nothing_here"}, "no function `nothing_here`"),
    "add existing": (ADD, "already exists"),
    "no callable": (NEW | {"code": "import math\n"}, "defines nothing callable"),
    "class instead": (NEW | {"code": "class fresh_tool:\n    pass\n"}, "is a class"),
    "missing field": (
        {"action": "add_function", "name": "g", "description": "d", "code": "return 1"},
        "missing field 'arguments'",
    ),
}


@pytest.mark.parametrize("action,message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_changes_nothing(repo: Path, action, message):
    assert apply_json(repo, ADD).returncode == 0
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")
    result = apply_json(repo, action)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == status


def test_apply_reads_stdin(repo: Path):
    result = fnreg(repo, "apply", "-", "--toolset", "math", input=json.dumps(ADD))
    assert result.returncode == 0, result.stderr
    assert "add_function evaluate_expression" in result.stdout


def test_installed_registry_is_importable(git_repo: Path, tmp_path: Path):
    """`fnreg init` + `pip install -e .` makes `from registry.math import ...` work."""
    assert fnreg(git_repo, "init").returncode == 0
    assert apply_json(git_repo, ADD | {"packages": "", "code": "return str(eval(expression, {}, {}))"}).returncode == 0
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(git_repo)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    run = subprocess.run(
        [str(python), "-c", "from registry.math import evaluate_expression; print(evaluate_expression('6*7'))"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.stdout.strip() == "42", run.stderr
