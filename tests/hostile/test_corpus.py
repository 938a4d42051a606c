"""The hostile corpus through three paths: the library, the `fnreg apply` CLI and an optimizer step.

Each case ends in a clean, reviewable module or in a one-line rejection with the repository
exactly as it was (HEAD, status, every file). See ``corpus.py`` for the cases and how to add one.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import black
import pytest

from fnreg.errors import FnregError
from fnreg.llm import LLMClient, LLMSettings
from fnreg.optimizer import AgentOptimizer, OptimizerInputs
from fnreg.optimizer.optimizer import ECHO_CHARS
from fnreg.registry import Registry, parse_action
from fnreg.testing.server import ChatServer, FunctionCall, Message, text
from tests.conftest import git
from tests.hostile.conftest import GIT_IDENTITY, TOOLSET, Prepared, repo_state
from tests.hostile.corpus import CASES, Case
from tests.optimizer.test_step import HISTORY

PATHS = ("library", "cli", "optimizer")
CLI_DRIVER = Path(__file__).with_name("cli_driver.py")
# Module-level calls an accepted module may keep (the builder's own list, checked independently here).
SAFE_CONSTANT_CALLS = {"re.compile", "compile", "frozenset", "set", "tuple", "dict", "list", "Decimal", "Fraction"}


# ----------------------------------------------------------------------------- checks


def check_rejected(run: Prepared, message: str) -> None:
    case = run.case
    assert "\n" not in message and message.strip() == message, f"not one line: {message!r}"
    assert case.error in message, f"expected {case.error!r} in {message!r}"
    assert repo_state(run.repo) == run.before, "a rejected action changed the repository"
    assert not run.marker.exists(), "code from a rejected action ran"


def check_accepted(run: Prepared, *, import_toolset: bool = False) -> None:
    case, repo = run.case, run.repo
    assert git(repo, "rev-parse", "HEAD~1") == run.before.head, "an accepted action must be exactly one commit"
    assert git(repo, "log", "-1", "--format=%s") == f"{case.tool} {case.name}"
    assert git(repo, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""
    assert not run.marker.exists(), "code of the module ran in fnreg's process"
    toolset = Registry(repo).toolset(TOOLSET, ref="HEAD")
    assert not toolset.problems, toolset.problems
    path = repo / "registry" / TOOLSET / f"{case.name}.py"
    init = (repo / "registry" / TOOLSET / "__init__.py").read_text(encoding="utf-8")
    check_black(init)
    if case.tool == "remove_function":
        assert not path.exists() and case.name not in toolset
    else:
        source = path.read_text(encoding="utf-8")
        check_module(source, case)
        parameters = toolset[case.name].parameters
        if case.schema is not None:
            assert {"properties": parameters["properties"], "required": parameters["required"]} == case.schema
    if import_toolset:
        check_imports(run, sorted(toolset.names))


def check_black(source: str) -> None:
    """What `black --check` does: format (with the AST safety check) and compare."""
    try:
        black.format_file_contents(source, fast=False, mode=black.Mode())
    except black.NothingChanged:
        return
    raise AssertionError(f"black would reformat:\n{source}")


def check_module(source: str, case: Case) -> None:
    check_black(source)
    compile(source, f"{case.name}.py", "exec", dont_inherit=True)
    for needle in case.contains:
        assert needle in source, f"{needle!r} not in\n{source}"
    for needle in case.absent:
        assert needle not in source, f"{needle!r} in\n{source}"
    tree = ast.parse(source)
    public = [
        node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_")
    ]
    assert [(type(node), node.name) for node in public] == [(ast.FunctionDef, case.name)], source
    for index, node in enumerate(tree.body):
        assert is_inert(node, first=index == 0), f"module-level statement runs code on import:\n{ast.unparse(node)}"


def is_inert(node: ast.stmt, *, first: bool) -> bool:
    """True for top-level statements that only define things (imports aside)."""
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return not is_dunder(node.name)  # a module-level __getattr__ or __dir__ runs on attribute lookup
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if first and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return isinstance(node.value.value, str)  # the module docstring
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        allowed = [n for n in names if n == "__requires__" or not is_dunder(n)]  # fnreg writes __requires__
        return len(allowed) == len(targets) and is_constant(node.value)
    if isinstance(node, ast.Try):
        blocks = [node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)]
        return all(isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass)) for block in blocks for s in block)
    return False  # `if` blocks included: `if __name__ == "__main__":` runs on import once __name__ is rebound


def is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def is_constant(value: ast.expr) -> bool:
    """Literals, arithmetic on them, type unions of names, and the safe constructors with constant arguments."""
    try:
        ast.literal_eval(value)
        return True
    except ValueError:
        pass
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr):
        return all(isinstance(side, ast.Name) or is_constant(side) for side in (value.left, value.right))
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub, ast.Mult)):
        return is_constant(value.left) and is_constant(value.right)
    if isinstance(value, ast.Tuple):
        return all(isinstance(element, ast.Name) or is_constant(element) for element in value.elts)
    return (
        isinstance(value, ast.Call)
        and ast.unparse(value.func) in SAFE_CONSTANT_CALLS
        and all(is_constant(arg) for arg in value.args)
        and all(is_constant(keyword.value) for keyword in value.keywords)
    )


def check_imports(run: Prepared, names: list[str]) -> None:
    """Import the toolset in a fresh interpreter (no fnreg, no bytecode): it works and runs nothing."""
    code = (
        "import json, registry.math as toolset\n"
        "print(json.dumps({'all': toolset.__all__, 'callable': [callable(getattr(toolset, n)) for n in toolset.__all__]}))"
    )
    result = subprocess.run(
        [sys.executable, "-B", "-E", "-S", "-c", code], cwd=run.repo, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"all": names, "callable": [True] * len(names)}
    assert not run.marker.exists(), "importing the accepted module ran its code"
    assert git(run.repo, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""


# ----------------------------------------------------------------------------- the three paths


def run_library(run: Prepared) -> None:
    case = run.case
    registry = Registry(run.repo)
    try:
        applied = registry.apply(parse_action(run.raw, kind=case.tool), toolset=TOOLSET)
    except FnregError as exc:
        if case.accepted:
            pytest.fail(f"rejected: {exc}")
        check_rejected(run, str(exc))
        return
    assert case.accepted, f"accepted, but expected: {case.error}"
    assert applied.action.summary() == f"{case.tool} {case.name}"
    check_accepted(run, import_toolset=True)


def cli_file_text(tool: str, raw: str) -> str:
    """The ACTION.json for `fnreg apply`: the arguments plus "action", encoded as many times as ``raw``.

    Raw text that is no JSON object (truncated, an array, too deeply encoded) is written as is.
    """
    value: Any = raw
    layers = 0
    while isinstance(value, str) and layers < 3:
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # not JSON, nested too deeply, a number too long
            return raw
        layers += 1
    if not isinstance(value, dict):
        return raw
    encoded = json.dumps(dict(value, action=tool))
    for _ in range(layers - 1):
        encoded = json.dumps(encoded)
    return encoded


def check_cli(run: Prepared, returncode: int, stdout: str, stderr: str) -> None:
    case = run.case
    assert "Traceback" not in stderr, stderr
    if case.accepted:
        assert returncode == 0, stderr
        assert f"{case.tool} {case.name}" in stdout
        check_accepted(run)
    else:
        assert returncode != 0, f"exit 0, expected: {case.error}\n{stdout}"
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), stderr
        check_rejected(run, lines[0].removeprefix("error: "))


def run_optimizer(run: Prepared) -> None:
    case = run.case
    call = Message(tool_calls=[FunctionCall(case.tool, run.raw, id="call_hostile")])
    with ChatServer(script=[call, text("TERMINATE")]) as server:
        settings = LLMSettings(base_url=server.base_url, model="scripted-model", backoff_base=0.001, timeout=30.0)
        client = LLMClient(settings)
        try:
            registry = Registry(run.repo)
            inputs = OptimizerInputs(registry.toolset(TOOLSET, ref="HEAD").sources(), 0.5, HISTORY)
            result = AgentOptimizer(client, max_actions=2).step(registry, TOOLSET, inputs, run="hostile", epoch=1)
        finally:
            client.close()
    # The proposal, then one more request (the next action or the re-ask), answered TERMINATE.
    assert result.terminated and result.requests == 2 == len(server.requests)
    if case.accepted:
        assert result.rejected == [], result.rejected
        assert [a.action.summary() for a in result.applied] == [f"{case.tool} {case.name}"]
        check_accepted(run)
        return
    assert result.applied == []
    [rejection] = result.rejected
    assert rejection.tool == case.tool and rejection.arguments == run.raw
    [error] = rejection.errors
    check_rejected(run, error)
    # The re-ask carried the proposal back and the exact error as its tool result.
    *_, assistant, reply = server.requests[1]["messages"]
    echoed = assistant["tool_calls"][0]["function"]
    assert echoed["name"] == case.tool
    if len(run.raw) <= ECHO_CHARS:
        assert echoed["arguments"] == run.raw
    assert reply["role"] == "tool" and reply["tool_call_id"] == "call_hostile"
    assert reply["content"].startswith(f"error: {error}\n")


@pytest.fixture(scope="module")
def cli_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, prepare_case):
    """Every selected case through `fnreg apply`, in one batch of forked CLI processes."""
    wanted = {
        item.callspec.params["case"].id
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_case" and item.callspec.params.get("path") == "cli"
    }
    root = tmp_path_factory.mktemp("hostile-cli")
    prepared, jobs = {}, []
    for case in CASES:
        if case.id not in wanted:
            continue
        folder = root / case.id
        run = prepare_case(case, folder)
        action_file = folder / "action.json"
        action_file.write_text(cli_file_text(case.tool, run.raw), encoding="utf-8")
        prepared[case.id] = run
        jobs.append(
            {
                "id": case.id,
                "cwd": str(run.repo),
                "argv": ["apply", str(action_file), "--toolset", TOOLSET],
                "stdout": str(folder / "stdout"),
                "stderr": str(folder / "stderr"),
            }
        )
    (root / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    env = os.environ | GIT_IDENTITY | {"PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, str(CLI_DRIVER), str(root / "jobs.json"), str(root / "results.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    codes = json.loads((root / "results.json").read_text())
    return {
        case_id: (
            run,
            codes[case_id],
            (root / case_id / "stdout").read_text(encoding="utf-8"),
            (root / case_id / "stderr").read_text(encoding="utf-8"),
        )
        for case_id, run in prepared.items()
    }


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
@pytest.mark.parametrize("path", PATHS)
def test_case(path: str, case: Case, request: pytest.FixtureRequest, tmp_path: Path, prepare_case) -> None:
    if path == "cli":
        check_cli(*request.getfixturevalue("cli_runs")[case.id])
    elif path == "library":
        run_library(prepare_case(case, tmp_path))
    else:
        run_optimizer(prepare_case(case, tmp_path))


def test_cli_driver_matches_the_installed_command(tmp_path: Path, prepare_case) -> None:
    """The forked batch is faithful: the real `python -m fnreg apply` gives the same outcome."""
    cases = {case.id: case for case in CASES}
    processes = []
    for case in (cases["top-level-os-system"], cases["crlf-and-tabs"]):
        run = prepare_case(case, tmp_path / case.id)
        action_file = tmp_path / case.id / "action.json"
        action_file.write_text(cli_file_text(case.tool, run.raw), encoding="utf-8")
        command = [sys.executable, "-m", "fnreg", "apply", str(action_file), "--toolset", TOOLSET]
        processes.append((run, subprocess.Popen(command, cwd=run.repo, stdout=-1, stderr=-1, text=True)))
    for run, process in processes:
        stdout, stderr = process.communicate(timeout=120)
        check_cli(run, process.returncode, stdout, stderr)


def test_corpus_covers_the_brief() -> None:
    assert len(CASES) >= 60
    by_category = Counter(case.category for case in CASES)
    for category in (
        "json",
        "fields",
        "names",
        "code",
        "nesting",
        "accepted",
        "side-effect",
        "schema",
        "packages",
        "lifecycle",
    ):
        assert by_category[category] >= 3, category
    assert Counter(case.outcome for case in CASES)["accepted"] >= 15
    assert all(case.error for case in CASES if not case.accepted)
