"""ServedToolset: a toolset at one ref, described from source, every call checked and sandboxed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from fnreg.errors import ConfigError, FnregError
from fnreg.sandbox import Limits
from fnreg.serve import ServedToolset
from tests.conftest import git
from tests.serve.conftest import WALL_SECONDS, fnreg_cli, write_function


def test_tools_are_those_of_fnreg_tools_at_the_ref(repo: Path):
    with ServedToolset("demo", ref="v1", repo=repo, workers=1) as served:
        assert served.openai_tools() == json.loads(fnreg_cli(repo, "tools", "--toolset", "demo", "--ref", "v1").stdout)
        assert served.name == f"fnreg:demo@{git(repo, 'rev-parse', 'v1')[:7]}"
        assert served.where == f"v1 ({git(repo, 'rev-parse', 'v1')[:7]})"


def test_a_call_returns_what_a_training_agent_sees(repo: Path):
    with ServedToolset("demo", ref="v1", repo=repo, workers=1) as served:
        shout = served.call("shout", {"text": "hi"})
        assert shout.ok and shout.text == "shouting\nHI" and shout.structured is None
        assert served.output_schema("shout") is None


def test_json_return_types_give_structured_results(repo: Path):
    with ServedToolset("demo", ref="v1", repo=repo, workers=1) as served:
        assert served.call("add", {"a": 2, "b": 3}).structured == {"result": 5}
        assert served.output_schema("add") == {
            "type": "object",
            "properties": {"result": {"type": "integer"}},
            "required": ["result"],
        }
        stats = served.call("stats", {"values": [1, 2, 6]})
        assert stats.structured == {"mean": 3.0, "largest": 6}
        assert served.output_schema("stats") == {"type": "object", "additionalProperties": {"type": "number"}}
        lie = served.call("liar")
        assert not lie.ok
        assert lie.error.startswith("TypeError: liar returned 'not a number', which does not match its return")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"a": "two"}, "invalid arguments for add: argument 'a': 'two' is not of type 'integer'"),
        ({"b": 2}, "invalid arguments for add: missing required argument 'a'"),
        ({"a": 1, "b": 2.5}, "invalid arguments for add: argument 'b': 2.5 is not of type 'integer'"),
        ([1, 2], "arguments of add must be a JSON object, not list"),
    ],
)
def test_bad_arguments_are_refused_before_the_sandbox(repo: Path, arguments, message: str):
    with ServedToolset("demo", ref="v1", repo=repo, workers=1) as served:
        result = served.call("add", arguments)
        assert not result.ok and result.error == message
        assert served.call("add", {"a": 1}).structured == {"result": 2}


def test_failures_are_one_line_and_the_next_call_works(repo: Path):
    with ServedToolset("demo", ref="v1", repo=repo, workers=1) as served:
        divide = served.call("divide", {"a": 1, "b": 0})
        assert divide.error == "ZeroDivisionError: division by zero"
        assert "Traceback" in divide.text  # what a training agent saw: the last traceback lines
        crash = served.call("crash")
        assert not crash.ok and "\n" not in crash.error and "SIGKILL" in crash.error
        missing = served.call("needs_package", {"x": 1})
        assert missing.error.startswith("ModuleNotFoundError: No module named 'fnreg_no_such_package'")
        assert "fnreg never installs packages" in missing.error and "\n" not in missing.error
        assert served.call("unknown").error == (
            "unknown tool 'unknown'; tools: add, crash, divide, liar, nap, needs_package, reach, shout and 1 more"
        )
        assert served.call("add", {"a": 41}).structured == {"result": 42}


def test_limits_come_from_tool_fnreg_limits(repo: Path):
    with ServedToolset("demo", ref="v1", repo=repo, workers=1) as served:
        assert served.limits.wall_seconds == WALL_SECONDS
        started = time.monotonic()
        nap = served.call("nap", {"seconds": 60})
        assert time.monotonic() - started < WALL_SECONDS + 20
        assert nap.error.startswith(f"TimeoutError: call exceeded {WALL_SECONDS} s wall clock")


def test_unknown_limit_keys_are_refused(repo: Path):
    (repo / "pyproject.toml").write_text("[tool.fnreg.limits]\nwall_second = 3\n")
    with pytest.raises(ConfigError, match="unknown key 'wall_second' in \\[tool.fnreg.limits\\]"):
        ServedToolset("demo", ref="v1", repo=repo)
    (repo / "pyproject.toml").write_text("[tool.fnreg.limits]\nwall_seconds = -1\n")
    with pytest.raises(ConfigError, match="wall_seconds must be a positive number"):
        ServedToolset("demo", ref="v1", repo=repo)


def test_a_tag_is_served_as_it_was_whatever_happens_to_the_working_tree(repo: Path):
    with ServedToolset("demo", ref="v1", repo=repo, workers=1, limits=Limits(wall_seconds=20)) as served:
        write_function(repo, "add", "def add(a: int, b: int = 1) -> int:\n    '''Subtract.'''\n    return a - b\n")
        git(repo, "commit", "-qam", "add subtracts now")
        git(repo, "tag", "-f", "v1")  # even the tag moving does not change what is served
        assert served.call("add", {"a": 2, "b": 3}).structured == {"result": 5}
        assert served.toolset["add"].description == "Add two integers."


def test_the_working_tree_is_snapshotted_at_start(repo: Path):
    with ServedToolset("demo", repo=repo, workers=1, limits=Limits(wall_seconds=20)) as served:
        assert served.name == "fnreg:demo@working-tree" and served.commit is None
        write_function(repo, "add", "def add(a: int, b: int = 1) -> int:\n    return a - b\n")
        assert served.call("add", {"a": 2, "b": 3}).structured == {"result": 5}
    with ServedToolset("demo", repo=repo, workers=1, limits=Limits(wall_seconds=20)) as served:
        assert served.call("add", {"a": 2, "b": 3}).structured == {"result": -1}


def test_a_missing_toolset_or_ref_is_a_clear_error(repo: Path):
    with pytest.raises(FnregError, match="no toolset 'nope' under registry/ at v1 .* toolsets there: demo"):
        ServedToolset("nope", ref="v1", repo=repo)
    with pytest.raises(FnregError, match="no-such-ref"):
        ServedToolset("demo", ref="no-such-ref", repo=repo)


def test_close_removes_the_exported_files(repo: Path):
    served = ServedToolset("demo", ref="v1", repo=repo, workers=1)
    staged = served._sandbox.root
    assert (staged / "registry" / "demo" / "add.py").is_file()
    served.close()
    assert not staged.exists()
