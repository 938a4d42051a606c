"""The registry on real git repositories: one commit per action, reads at any ref."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fnreg.errors import ActionError, GitError
from fnreg.registry import Registry
from fnreg.registry.history import ACTION, EPOCH, FUNCTION, RUN, TOOLSET
from tests.conftest import git

ADD = {
    "action": "add_function",
    "name": "evaluate_expression",
    "description": "Evaluate arithmetic or symbolic expressions given as strings.",
    "arguments": '{"expression": {"type": "string", "description": "The expression to evaluate."}}',
    "packages": "sympy",
    "code": "import sympy\nreturn str(sympy.sympify(expression))",
}
REVISE = ADD | {
    "action": "revise_function",
    "description": "Evaluate expressions exactly, simplifying the result.",
    "code": "import sympy\nreturn str(sympy.simplify(sympy.sympify(expression)))",
    "reason": "simplify so that answers compare equal",
}
REMOVE = {"action": "remove_function", "name": "evaluate_expression"}


def _black_check(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--quiet", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, f"black --check failed for {path}: {result.stderr}"


def test_add_revise_remove_makes_three_commits(git_repo: Path):
    registry = Registry(git_repo)
    start = git(git_repo, "rev-parse", "HEAD")
    added = registry.apply(ADD, toolset="math", run="run-1", epoch=1)
    module = git_repo / "registry/math/evaluate_expression.py"
    init = git_repo / "registry/math/__init__.py"
    assert "from .evaluate_expression import evaluate_expression" in init.read_text()
    assert '__all__ = ["evaluate_expression"]' in init.read_text()
    assert '__requires__ = ["sympy"]' in module.read_text()
    for path in (module, init, git_repo / "registry/__init__.py"):
        _black_check(path)

    registry.apply(REVISE, toolset="math")
    assert "sympy.simplify" in module.read_text()
    _black_check(module)
    registry.apply(REMOVE, toolset="math")
    assert not module.exists()
    assert "__all__: list[str] = []" in init.read_text()
    _black_check(init)

    commits = git(git_repo, "rev-list", f"{start}..HEAD").splitlines()
    assert len(commits) == 3
    subjects = git(git_repo, "log", "--format=%s", f"{start}..HEAD").splitlines()
    assert subjects == [
        "remove_function evaluate_expression",
        "revise_function evaluate_expression",
        "add_function evaluate_expression",
    ]
    trailers = git(git_repo, "log", "-1", "--format=%(trailers:only,unfold)", added.commit)
    assert f"{RUN}: run-1" in trailers and f"{EPOCH}: 1" in trailers
    assert f"{TOOLSET}: math" in trailers and f"{ACTION}: add_function" in trailers
    assert f"{FUNCTION}: evaluate_expression" in trailers
    body = git(git_repo, "log", "-1", "--format=%b", "HEAD~1")
    assert "simplify so that answers compare equal" in body
    assert git(git_repo, "status", "--porcelain") == ""


def test_toolset_at_old_ref_is_read_without_checkout(git_repo: Path):
    registry = Registry(git_repo)
    registry.apply(ADD, toolset="math")
    registry.apply(REVISE, toolset="math")
    registry.apply(REMOVE, toolset="math")
    assert registry.toolset("math").names == []
    old = registry.toolset("math", "HEAD~2")
    assert old.names == ["evaluate_expression"]
    assert old["evaluate_expression"].description.startswith("Evaluate arithmetic")
    assert registry.toolset("math", "HEAD~1")["evaluate_expression"].description.startswith(
        "Evaluate expressions exactly"
    )
    assert git(git_repo, "status", "--porcelain") == ""  # nothing was checked out


def test_openai_tools_have_required_list(git_repo: Path):
    registry = Registry(git_repo)
    registry.apply(ADD, toolset="math")
    (tool,) = registry.toolset("math").openai_tools()
    assert tool["function"]["parameters"]["required"] == ["expression"]


def test_hand_written_code_survives_revise_of_another_function(git_repo: Path):
    registry = Registry(git_repo)
    registry.apply(ADD, toolset="math")
    registry.apply(
        ADD | {"name": "double", "arguments": '{"x": {"type": "number"}}', "code": "return 2 * x", "packages": ""},
        toolset="math",
    )
    module = git_repo / "registry/math/double.py"
    edited = (
        module.read_text().replace("    return 2 * x", "    # reviewed by a human in a PR\n    return _twice(x)")
        + "\n\ndef _twice(value):\n    # helper written by hand\n    return value + value\n"
    )
    module.write_text(edited)
    git(git_repo, "commit", "-q", "-am", "hand edit")
    registry.apply(REVISE, toolset="math")
    assert module.read_text() == edited
    assert "_twice" in registry.toolset("math")["double"].source


def test_user_changes_outside_the_toolset_are_untouched(git_repo: Path):
    registry = Registry(git_repo)
    (git_repo / "README.md").write_text("edited, not staged\n")
    (git_repo / "notes.txt").write_text("staged\n")
    git(git_repo, "add", "notes.txt")
    (git_repo / "scratch.py").write_text("untracked\n")
    before = git(git_repo, "status", "--porcelain")
    registry.apply(ADD, toolset="math")
    assert git(git_repo, "status", "--porcelain") == before
    assert git(git_repo, "show", "--name-only", "--format=", "HEAD").splitlines() == [
        "registry/__init__.py",
        "registry/math/__init__.py",
        "registry/math/evaluate_expression.py",
    ]


def test_uncommitted_change_to_the_target_module_is_refused(git_repo: Path):
    registry = Registry(git_repo)
    registry.apply(ADD, toolset="math")
    module = git_repo / "registry/math/evaluate_expression.py"
    module.write_text(module.read_text() + "# my edit\n")
    head = git(git_repo, "rev-parse", "HEAD")
    with pytest.raises(GitError, match="uncommitted changes"):
        registry.apply(REVISE, toolset="math")
    assert git(git_repo, "rev-parse", "HEAD") == head
    assert module.read_text().endswith("# my edit\n")


def test_refuses_detached_head_and_merge_in_progress(git_repo: Path):
    registry = Registry(git_repo)
    git(git_repo, "checkout", "-q", "--detach")
    with pytest.raises(GitError, match="detached"):
        registry.apply(ADD, toolset="math")
    git(git_repo, "checkout", "-q", "main")
    (Path(git_repo) / ".git" / "MERGE_HEAD").write_text(git(git_repo, "rev-parse", "HEAD") + "\n")
    with pytest.raises(GitError, match="merge is in progress"):
        registry.apply(ADD, toolset="math")


def test_not_a_repository(tmp_path: Path):
    with pytest.raises(GitError, match="not a git repository"):
        Registry(tmp_path)


def test_add_existing_and_revise_missing(git_repo: Path):
    registry = Registry(git_repo)
    registry.apply(ADD, toolset="math")
    with pytest.raises(ActionError, match="already exists"):
        registry.apply(ADD, toolset="math")
    with pytest.raises(ActionError, match="no function `nope`"):
        registry.apply(REMOVE | {"name": "nope"}, toolset="math")


def test_revive_after_remove_and_remove_last(git_repo: Path):
    registry = Registry(git_repo)
    registry.apply(ADD, toolset="math")
    registry.apply(REMOVE, toolset="math")
    assert registry.toolset("math").names == []
    registry.apply(ADD, toolset="math")
    assert registry.toolset("math").names == ["evaluate_expression"]


def test_identical_revision_is_rejected(git_repo: Path):
    registry = Registry(git_repo)
    registry.apply(ADD, toolset="math")
    with pytest.raises(ActionError, match="identical"):
        registry.apply(ADD | {"action": "revise_function"}, toolset="math")


def test_log_and_diff(git_repo: Path):
    registry = Registry(git_repo)
    registry.apply(ADD, toolset="math", run="r1", epoch=1)
    registry.apply(REVISE, toolset="math", run="r1", epoch=1)
    entries = registry.log(toolset="math")
    assert [e.kind for e in entries] == ["action", "action"]
    assert entries[0].run == "r1" and entries[0].epoch == 1
    changes = registry.diff("HEAD~2", "HEAD")["math"]
    assert [(c.name, c.status) for c in changes] == [("evaluate_expression", "added")]
    revised = registry.diff("HEAD~1", "HEAD", "math")["math"]
    assert revised[0].status == "revised" and "+    return str(sympy.simplify" in revised[0].diff


def test_black_config_of_the_repository_is_respected(git_repo: Path):
    (git_repo / "pyproject.toml").write_text("[tool.black]\nline-length = 60\n")
    git(git_repo, "add", "pyproject.toml")
    git(git_repo, "commit", "-qm", "black config")
    registry = Registry(git_repo)
    long_code = "return str(expression) + '----------------------------------------------------------'"
    registry.apply(ADD | {"code": long_code, "packages": ""}, toolset="math")
    result = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--quiet", "registry"], cwd=git_repo, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_a_missing_package_breaks_only_its_own_function(git_repo: Path):
    registry = Registry(git_repo)
    registry.apply(
        ADD
        | {"name": "needs_missing", "packages": "not_a_real_package", "code": "import not_a_real_package\nreturn 1"},
        toolset="math",
    )
    registry.apply(
        ADD | {"name": "double", "arguments": '{"x": {"type": "number"}}', "code": "return 2 * x", "packages": ""},
        toolset="math",
    )
    script = (
        "from registry.math import double, needs_missing\n"
        "print(double(2))\n"
        "try:\n    needs_missing(expression='x')\nexcept ImportError as error:\n    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=git_repo, capture_output=True, text=True)
    assert result.stdout.splitlines() == [
        "4",
        "needs_missing is unavailable: No module named 'not_a_real_package'",
    ], result.stderr


def test_derivation_cache_follows_the_content(git_repo: Path):
    (git_repo / ".fnreg").mkdir()
    registry = Registry(git_repo)
    registry.apply(ADD, toolset="math")
    assert registry.toolset("math")["evaluate_expression"].description == ADD["description"]
    assert (git_repo / ".fnreg" / "cache" / "derived.sqlite").is_file()
    module = git_repo / "registry/math/evaluate_expression.py"
    module.write_text(module.read_text().replace(ADD["description"], "Edited by hand."))
    fresh = Registry(git_repo)  # a new process would see the same
    assert fresh.toolset("math")["evaluate_expression"].description == "Edited by hand."
    assert fresh.toolset("math", "HEAD")["evaluate_expression"].description == ADD["description"]


def test_large_toolset_reads_the_same_from_git_objects_as_from_files(git_repo: Path):
    registry = Registry(git_repo)
    for i in range(40):  # above the size where reading switches to one `git cat-file --batch`
        registry.apply(
            ADD | {"name": f"tool_{i}", "code": f"return expression + {'x' * i!r}", "packages": ""}, toolset="math"
        )
    at_head, on_disk = registry.toolset("math", "HEAD"), registry.toolset("math")
    assert len(at_head) == 40 and at_head.sources() == on_disk.sources()
    assert registry.toolset("math", "HEAD~1").names == sorted(f"tool_{i}" for i in range(39))
