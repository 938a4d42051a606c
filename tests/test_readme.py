"""The README's Python blocks, run as a reader would paste them, against the loopback server.

Each block runs in a fresh interpreter in a repository prepared with the names the README uses
(toolset ``math`` with ``evaluate_expression`` and ``solve``, a run tag ``fnreg/math/RUN/best``,
a task set ``math-algebra``), with the openai SDK's environment pointing at a loopback server
that plays the scripted demo model. A block that starts with ``# pip install -e ".[extra]"``
needs that extra; where it is not installed, that block is skipped and says so.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fnreg.registry import Registry
from fnreg.testing.demo import DEMO_TASK
from fnreg.testing.scripted_model import scripted_policy
from tests.conftest import REPO_ROOT, git

BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
EXTRA = re.compile(r'^# pip install -e "\.\[(?P<extra>[\w-]+)\]"')
#: What each extra installs, by import name.
EXTRA_MODULES = {"openai-agents": "agents", "ag2": "autogen"}
EVALUATE = {
    "action": "add_function",
    "name": "evaluate_expression",
    "description": "Evaluate arithmetic or symbolic expressions given as strings.",
    "arguments": '{"expression": {"type": "string", "description": "The expression to evaluate."}}',
    "packages": "sympy",
    "code": "import sympy\nreturn str(sympy.sympify(expression))",
}
SOLVE = EVALUATE | {
    "name": "solve",
    "description": "Solve an equation for x.",
    "arguments": '{"equation": {"type": "string", "description": "An equation in x."}}',
    "code": "import sympy\nx = sympy.Symbol('x')\nleft, right = equation.split('=')\n"
    "return str(sympy.solve(sympy.sympify(left) - sympy.sympify(right), x))",
}


def readme_blocks() -> list[str]:
    return BLOCK.findall((REPO_ROOT / "README.md").read_text(encoding="utf-8"))


BLOCKS = readme_blocks()


def _block_id(block: str) -> str:
    for line in block.splitlines():
        if line.startswith(("from ", "import ")) and not line.startswith(("import os", "from __future__")):
            return line.split()[1]
    return "block"


def _repository(repo: Path) -> None:
    registry = Registry(repo)
    registry.apply(EVALUATE, toolset="math")
    registry.apply(SOLVE, toolset="math")
    git(repo, "tag", "fnreg/math/RUN/best")
    task = repo / "tasks" / "math-algebra"
    shutil.copytree(DEMO_TASK, task)
    toml = (task / "task.toml").read_text(encoding="utf-8")
    (task / "task.toml").write_text(
        toml.replace('name = "demo"', 'name = "math-algebra"').replace('toolset = "demo"', 'toolset = "math"'),
        encoding="utf-8",
    )
    (repo / ".gitignore").write_text(".fnreg/\n__pycache__/\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the task set")


def test_the_readme_has_the_blocks_this_test_prepares_for() -> None:
    assert any("prepare_run(" in block for block in BLOCKS)
    assert any("from registry.math import" in block for block in BLOCKS)
    for block in BLOCKS:
        extra = EXTRA.match(block)
        assert extra is None or extra["extra"] in EXTRA_MODULES, f"an extra this test does not know: {extra}"


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{i}-{_block_id(b)}" for i, b in enumerate(BLOCKS)])
def test_a_python_block_of_the_readme_runs(block: str, git_repo: Path, serve) -> None:
    extra = EXTRA.match(block)
    if extra and importlib.util.find_spec(EXTRA_MODULES[extra["extra"]]) is None:
        pytest.skip(f"the {extra['extra']} extra is not installed: pip install -e '.[{extra['extra']}]'")
    _repository(git_repo)
    server = serve(scripted_policy)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "FNREG_"))}
    env |= {"OPENAI_API_KEY": "sk-loopback", "OPENAI_BASE_URL": server.base_url, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", block], cwd=git_repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"README block failed:\n{block}\n{done.stderr}"
    lines = done.stdout.splitlines()
    if "from registry.math import" in block:
        assert lines == ["1024"]
    if "prepare_run(" in block:
        assert "'name': 'evaluate_expression'" in done.stdout and "'name': 'solve'" in done.stdout  # at the tag
        events = [line for line in lines if line.startswith(("run ", "epoch "))]
        assert events[0].startswith("run ") and " started: toolset math" in events[0]
        assert events[-1].startswith("run ") and " finished (" in events[-1]
        assert max(len(line) for line in events) <= 160  # short lines, not whole conversations
        assert "remove_function solve" in git(git_repo, "log", "-1", "--format=%s", "main")
        assert server.requests and {r["model"] for r in server.requests} == {"gpt-4o-mini"}
