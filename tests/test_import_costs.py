"""Commands load only what they use: read paths never load libcst, black or jsonschema.

Each command runs in a fresh interpreter that reports, as it exits, which of the heavy
libraries it imported. Timings are in ``python -m bench`` (bench/cli_startup.py), not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fnreg.registry import Registry

HEAVY = ["libcst", "black", "jsonschema", "pydantic", "openai", "rich", "git", "fnreg.llm.client", "matplotlib"]
PROBE = (
    "import atexit, json, sys\n"
    "atexit.register(lambda: sys.stderr.write('LOADED ' + json.dumps([m for m in {heavy!r} if m in sys.modules]) + '\\n'))\n"
    "{body}"
)


def loaded(cwd: Path, body: str) -> list[str]:
    code = PROBE.format(heavy=HEAVY, body=body)
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    line = next((line for line in proc.stderr.splitlines() if line.startswith("LOADED ")), None)
    assert line is not None, proc.stderr
    return json.loads(line[len("LOADED ") :])


def fnreg(cwd: Path, *args: str) -> list[str]:
    return loaded(cwd, f"from fnreg.main import main\nmain({list(args)!r})\n")


ADD = {
    "action": "add_function",
    "name": "double",
    "description": "Double a number.",
    "arguments": '{"x": {"type": "number", "description": "The number."}}',
    "packages": "",
    "code": "return 2 * x",
}


@pytest.fixture
def applied_repo(git_repo: Path) -> Path:
    """A repository where fnreg applied an action (and so keeps its derivations in .fnreg/)."""
    (git_repo / "pyproject.toml").write_text('[tool.fnreg]\npackage = "registry"\n')
    registry = Registry(git_repo)
    registry.keep_derived(registry.apply(ADD, toolset="math").module, create=True)
    return git_repo


@pytest.mark.parametrize(
    "statement",
    ["import fnreg", "import fnreg.sandbox", "import fnreg.registry", "import fnreg.errors, fnreg.config"],
)
def test_importing_the_package_or_a_low_layer_loads_nothing_heavy(tmp_path: Path, statement: str) -> None:
    assert loaded(tmp_path, statement + "\n") == []


def test_version_loads_only_click(tmp_path: Path) -> None:
    assert fnreg(tmp_path, "--version") == []


@pytest.mark.parametrize(
    "command",
    [
        ["list", "--json"],
        ["list", "--toolset", "math", "--ref", "HEAD", "--json"],
        ["tools", "--toolset", "math"],
        ["show", "double", "--toolset", "math"],
        ["log", "--json"],
    ],
)
def test_read_commands_load_no_parser_formatter_or_validator(applied_repo: Path, command: list[str]) -> None:
    assert fnreg(applied_repo, *command) == []


def test_the_log_opens_no_database(applied_repo: Path) -> None:
    body = "from fnreg.main import main\nmain(['log', '--json'])\n"
    code = PROBE.format(heavy=["sqlite3"], body=body)  # the schema cache is for listing, not history
    proc = subprocess.run([sys.executable, "-c", code], cwd=applied_repo, capture_output=True, text=True, timeout=120)
    assert "LOADED []" in proc.stderr, proc.stderr


@pytest.mark.parametrize("command", [["list"], ["log"]])
def test_plain_text_for_a_person_loads_nothing_heavy(applied_repo: Path, command: list[str]) -> None:
    assert fnreg(applied_repo, *command) == []  # lines cut to 80 columns by fnreg itself, not rich


def test_a_diff_for_a_person_loads_rich_and_nothing_else(applied_repo: Path) -> None:
    assert fnreg(applied_repo, "diff", "HEAD~1", "HEAD") == ["rich"]


def test_content_never_derived_before_loads_only_the_parser(applied_repo: Path) -> None:
    module = applied_repo / "registry" / "math" / "double.py"
    module.write_text(module.read_text().replace("Double a number.", "Double a number, by hand."))
    assert fnreg(applied_repo, "list", "--json") == ["libcst"]
    assert fnreg(applied_repo, "list", "--json") == []  # kept in .fnreg/ for the next read


def test_a_package_setting_that_needs_checking_loads_the_schema(applied_repo: Path) -> None:
    (applied_repo / "pyproject.toml").write_text('[tool.fnreg]\npackage = "my-registry"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "fnreg", "list"], cwd=applied_repo, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().endswith(
        "pyproject.toml: [tool.fnreg] package = 'my-registry' is not a Python package name; use letters, digits and _"
    )
