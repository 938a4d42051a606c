"""AG2's AgentOptimizer API over fnreg: bookkeeping, git-backed functions, sandboxed executors."""

from __future__ import annotations

import gc
import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from fnreg.errors import ConfigError, LLMError
from fnreg.compat import AG2AgentOptimizer, AgentOptimizerCompat, FunctionCallFailed
from fnreg.compat.ag2 import settings_from_llm_config
from fnreg.optimizer import MissingVerdict, NothingRecorded, OptimizerError
from fnreg.testing.server import Fault, text, tool_call
from tests.conftest import git
from tests.optimizer.conftest import MODEL, action

ADD_ONE = action("add_one", "def add_one(x: int) -> int:\n    return x + 1\n")
DOUBLE = action("double", "def double(x: int) -> int:\n    return 2 * x\n")
SQUARE = action("square", "def square(x: int) -> int:\n    return x * x\n")
FAILING = action("reciprocal", "def reciprocal(x: int) -> float:\n    return 1 / x\n")
CHAT = [
    {"role": "user", "content": "What is 5 squared plus one?"},
    {"role": "assistant", "content": "The answer is 26."},
]


def llm_config(server) -> dict:
    return {"config_list": [{"model": MODEL, "base_url": server.base_url, "api_key": "x"}], "temperature": 0}


def compat(server, **kwargs) -> AG2AgentOptimizer:
    return AG2AgentOptimizer(max_actions_per_step=3, llm_config=llm_config(server), optimizer_model=MODEL, **kwargs)


def record(optimizer: AG2AgentOptimizer, verdicts: list[bool]) -> None:
    for satisfied in verdicts:
        optimizer.record_one_conversation(CHAT, is_satisfied=satisfied)


def test_step_returns_schemas_and_an_executor_per_function(serve):
    server = serve(script=[tool_call("add_function", f) for f in (ADD_ONE, DOUBLE, SQUARE)])
    with compat(server) as optimizer:
        record(optimizer, [True, False])
        register_for_llm, register_for_executor = optimizer.step()

        names = [item["func_sig"]["name"] for item in register_for_llm]
        assert names == ["add_one", "double", "square"] and not any(item["is_remove"] for item in register_for_llm)
        signature = register_for_llm[0]["func_sig"]
        assert signature["description"].startswith("Compute add one")
        assert signature["parameters"]["required"] == ["x"]  # the reference's schemas had none
        # The late-binding bug: executors built in a loop must each call their own function.
        results = {name: register_for_executor[name](x=5) for name in names}
        assert results == {"add_one": "6", "double": "10", "square": "25"}
        # The functions are committed source in a real repository.
        root = optimizer.registry.root
        subjects = git(root, "log", "--format=%s").splitlines()
        assert subjects[:3] == ["add_function square", "add_function double", "add_function add_one"]
        assert (root / "registry/agent/square.py").is_file()


def test_a_worse_set_is_rolled_back_and_its_functions_removed(serve):
    server = serve(
        script=[
            tool_call("add_function", ADD_ONE),
            tool_call("add_function", DOUBLE),
            text("TERMINATE"),
            text("TERMINATE"),
        ]
    )
    with compat(server) as optimizer:
        record(optimizer, [True, True, False, False])  # the starting (empty) set: 50%
        optimizer.step()
        assert optimizer.best_performance == 0.5
        record(optimizer, [True, False, False, False])  # with add_one and double: 25%, worse

        register_for_llm, register_for_executor = optimizer.step()

        # Both are reverted in git, and the assistant is told to drop them (the reference never was).
        assert register_for_llm == [
            {"func_sig": {"name": "add_one"}, "is_remove": True},
            {"func_sig": {"name": "double"}, "is_remove": True},
        ]
        assert register_for_executor == {"add_one": None, "double": None}
        root = optimizer.registry.root
        assert git(root, "log", "-1", "--format=%s").startswith("roll back step 1: 25.0% <= best 50.0%")
        assert not (root / "registry/agent/add_one.py").exists()
        # The optimizer sees the failed set with its score, as a diff against List A.
        content = server.requests[-1]["messages"][1]["content"]
        assert "### Failed set 1: success rate 25.0%" in content and "+++ b/add_one.py" in content
        assert optimizer.best_performance == 0.5


def test_ties_are_not_improvements(serve):
    server = serve(script=[tool_call("add_function", ADD_ONE), text("TERMINATE"), text("TERMINATE")])
    with compat(server) as optimizer:
        record(optimizer, [True, False])
        optimizer.step()
        record(optimizer, [False, True])  # same 50%: the paper keeps the old best
        register_for_llm, _ = optimizer.step()
        assert register_for_llm == [{"func_sig": {"name": "add_one"}, "is_remove": True}]


def test_missing_verdict_and_empty_step_are_clear_errors(serve):
    server = serve(script=[])
    with compat(server) as optimizer:
        with pytest.raises(MissingVerdict, match="is_satisfied=True or False"):
            optimizer.record_one_conversation(CHAT)
        with pytest.raises(NothingRecorded, match="record_one_conversation"):
            optimizer.step()
        with pytest.raises(OptimizerError, match="list of chat messages"):
            optimizer.record_one_conversation("not a conversation", is_satisfied=True)  # type: ignore[arg-type]
    assert server.requests == []


def test_reset_forgets_scores_but_keeps_the_functions(serve):
    server = serve(script=[tool_call("add_function", ADD_ONE), text("TERMINATE"), text("TERMINATE")])
    with compat(server) as optimizer:
        record(optimizer, [True])
        optimizer.step()
        record(optimizer, [False])
        optimizer.reset_optimizer()
        assert optimizer.best_performance == -1
        with pytest.raises(NothingRecorded):
            optimizer.step()  # the recorded conversation was forgotten too
        record(optimizer, [False])  # 0% is an improvement on nothing: no roll-back
        register_for_llm, register_for_executor = optimizer.step()
        assert [item["func_sig"]["name"] for item in register_for_llm] == ["add_one"]
        assert register_for_executor["add_one"](x=1) == "2"
        assert "### add_one" in server.requests[-1]["messages"][1]["content"]  # List A


def test_a_failing_function_raises_with_its_error(serve):
    server = serve(script=[tool_call("add_function", FAILING), text("TERMINATE")])
    with compat(server) as optimizer:
        record(optimizer, [False])
        _, register_for_executor = optimizer.step()
        assert register_for_executor["reciprocal"](x=4) == "0.25"
        with pytest.raises(FunctionCallFailed, match="ZeroDivisionError"):
            register_for_executor["reciprocal"](x=0)


def test_an_llm_error_can_be_retried_and_its_partial_step_is_rolled_back_later(serve):
    server = serve(script=[tool_call("add_function", ADD_ONE), Fault(status=400), text("TERMINATE"), text("TERMINATE")])
    with compat(server) as optimizer:
        record(optimizer, [True, False])
        with pytest.raises(LLMError, match="HTTP 400"):
            optimizer.step()  # add_one was committed before the error
        register_for_llm, _ = optimizer.step()  # no new recording needed: retries the optimizer
        assert [item["func_sig"]["name"] for item in register_for_llm] == ["add_one"]
        record(optimizer, [False, False])
        register_for_llm, _ = optimizer.step()
        assert register_for_llm == [{"func_sig": {"name": "add_one"}, "is_remove": True}]
        assert not (optimizer.registry.root / "registry/agent/add_one.py").exists()
        assert len(server.requests) == 4


def test_functions_live_in_the_given_repository(serve):
    repo = Path(tempfile.mkdtemp(prefix="fnreg-compat-test-"))
    try:
        repo.chmod(0o755)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "commit", "-q", "--allow-empty", "-m", "initial")
        server = serve(script=[tool_call("add_function", DOUBLE), text("TERMINATE")])
        with compat(server, registry_path=repo, toolset="math") as optimizer:
            record(optimizer, [True])
            _, register_for_executor = optimizer.step()
            assert register_for_executor["double"](x=21) == "42"
        # Closing keeps a repository the user gave: the learned functions outlive the process.
        assert "def double(" in (repo / "registry/math/double.py").read_text()
        assert git(repo, "status", "--porcelain") == ""
    finally:
        shutil.rmtree(repo, ignore_errors=True)


def test_the_private_repository_is_deleted(serve):
    server = serve(script=[])
    optimizer = compat(server)
    root = optimizer.registry.root
    assert git(root, "log", "--format=%s") == "Start the function registry"
    assert (root / "registry/__init__.py").is_file()
    optimizer.close()
    assert not root.exists()
    other = compat(server)
    root = other.registry.root
    del other
    gc.collect()
    assert not root.exists()


def test_alias_and_llm_config():
    assert AgentOptimizerCompat is AG2AgentOptimizer
    settings = settings_from_llm_config(
        {
            "config_list": [
                {"model": "gpt-3.5-turbo", "api_key": "a"},
                {
                    "model": "gpt-4-1106-preview",
                    "base_url": "http://localhost:1/v1",
                    "api_key": "b",
                    "price": [0.01, 0.03],
                },
            ],
            "temperature": 0.2,
        },
        "gpt-4-1106-preview",
    )
    assert (settings.base_url, settings.api_key, settings.temperature) == ("http://localhost:1/v1", "b", 0.2)
    assert settings.model_for("optimizer") == "gpt-4-1106-preview"
    assert settings.prices["gpt-4-1106-preview"] == (10.0, 30.0)
    with pytest.raises(ConfigError, match=re.escape("no config_list entry for optimizer_model 'gpt-4o'")):
        settings_from_llm_config({"config_list": [{"model": "gpt-3.5-turbo"}]}, "gpt-4o")
    with pytest.raises(ConfigError, match="config_list"):
        AG2AgentOptimizer(3, {"config_list": []})
    with pytest.raises(ConfigError, match="must be a dict"):
        AG2AgentOptimizer(3, json.dumps({}))  # type: ignore[arg-type]
