"""Bad input beyond optimizer actions, through the library and the CLI: one line, nothing changed.

Each case ends in a one-line error (the CLI: the last line on stderr, exit status non-zero, 2
for bad usage), spends nothing (the loopback server sees no request) and leaves the repository
exactly as it was: HEAD, status, every file, ignored ones (``.fnreg/``) included. Optimizer
actions have their own corpus (``corpus.py``), run through the library, the CLI and an
optimizer step.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fnreg.errors import ConfigError, FnregError, HookRejected, InputError, TaskSetError
from fnreg.evaluation import EvalResult, TaskSetAdapter, load_task_set
from fnreg.llm import LLMClient, LLMSettings
from fnreg.optimizer import AgentOptimizer, OptimizerInputs
from fnreg.registry import Registry
from fnreg.testing.scripted_model import scripted_policy
from fnreg.training import TrainConfig, prepare_run
from tests.conftest import git
from tests.hostile.conftest import repo_state
from tests.hostile.corpus import SQUARE
from tests.optimizer.test_step import HISTORY

ADD_SQUARE = dict(SQUARE, action="add_function")


def run_cli(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "FNREG_"))}
    return subprocess.run(
        [sys.executable, "-m", "fnreg", *args],
        cwd=repo,
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(done: subprocess.CompletedProcess, needle: str, *, status: int | None = None) -> str:
    """The error is the last line on stderr, alone; what comes before it is someone else's output."""
    assert done.returncode != 0, done.stdout
    if status is not None:
        assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.rstrip("\n").splitlines()[-1]
    assert last.startswith("error: ") and needle in last, done.stderr
    return last


@pytest.fixture
def repo(user_repo: Path) -> Path:
    """The demo task set committed, a toolset `math` with `square`, and the user's uncommitted work."""
    Registry(user_repo).apply(ADD_SQUARE, toolset="math")
    return user_repo


# ----------------------------------------------------------------------------- toolsets


@pytest.mark.parametrize(
    "args",
    [
        ["tools", "--toolset", "nosuch"],
        ["list", "--toolset", "nosuch"],
        ["show", "square", "--toolset", "nosuch"],
        ["log", "--toolset", "nosuch"],
        ["diff", "HEAD~1", "HEAD", "--toolset", "nosuch"],
        ["package", "--toolset", "nosuch", "--ref", "HEAD"],
        ["requirements", "--toolset", "nosuch"],
    ],
    ids=lambda args: args[0],
)
def test_an_unknown_toolset_is_bad_usage(repo: Path, args: list[str]) -> None:
    before = repo_state(repo)
    done = run_cli(repo, *args)
    one_line(done, "no toolset 'nosuch'", status=2)
    assert done.stdout == "" and repo_state(repo) == before


def test_a_keyword_toolset_is_refused_by_the_library_the_cli_and_an_optimizer_step(repo: Path, serve) -> None:
    before = repo_state(repo)
    with pytest.raises(InputError, match="'class' is a Python keyword"):
        Registry(repo).apply(ADD_SQUARE, toolset="class")
    action = repo.parent / "action.json"
    action.write_text(json.dumps(ADD_SQUARE))
    one_line(run_cli(repo, "apply", str(action), "--toolset", "class"), "'class' is a Python keyword", status=2)
    server = serve(scripted_policy)
    with LLMClient(LLMSettings(base_url=server.base_url, model="m")) as client:
        with pytest.raises(InputError, match="Python keyword"):
            AgentOptimizer(client).step(Registry(repo), "class", OptimizerInputs({}, 0.5, HISTORY))
    assert server.requests == []
    action.unlink()
    assert repo_state(repo) == before


def test_show_needs_no_toolset_when_one_toolset_has_the_function(repo: Path) -> None:
    Registry(repo).apply(dict(ADD_SQUARE, name="cube", code="return x * x * x"), toolset="geometry")
    shown = run_cli(repo, "show", "square")
    assert shown.returncode == 0 and "def square(" in shown.stdout
    Registry(repo).apply(ADD_SQUARE, toolset="geometry")
    before = repo_state(repo)
    one_line(run_cli(repo, "show", "square"), "is in toolsets geometry, math; pick one with --toolset", status=2)
    one_line(run_cli(repo, "show", "nothing"), "no function 'nothing' in any toolset", status=2)
    one_line(run_cli(repo, "show", "cube", "--toolset", "math"), "no function 'cube' in toolset 'math'", status=2)
    assert run_cli(repo, "show", "square", "--toolset", "geometry").returncode == 0
    assert repo_state(repo) == before


# ----------------------------------------------------------------------------- files that are not what they claim


def _break(repo: Path, relative: str, data: bytes) -> None:
    (repo / relative).write_bytes(data)
    git(repo, "commit", "-qam", f"break {relative}")


@pytest.mark.parametrize(
    ("relative", "data", "needle"),
    [
        ("tasks/demo/train.jsonl", b'{"question": "caf\xe9 prices?", "answer": "1"}\n', "not UTF-8 text (byte 0xe9"),
        ("tasks/demo/task.toml", b'name = "d\xe9mo"\n', "not UTF-8 text (byte 0xe9"),
        ("tasks/demo/train.jsonl", b'{"question": ' + b"[" * 5000 + b"]" * 5000 + b"}\n", "nested more than 100"),
    ],
    ids=["jsonl-latin-1", "task-toml-latin-1", "jsonl-nested"],
)
def test_task_files_that_cannot_be_read(repo: Path, serve, relative: str, data: bytes, needle: str) -> None:
    _break(repo, relative, data)
    before = repo_state(repo)
    with pytest.raises(TaskSetError, match=re.escape(needle)):
        load_task_set("demo", repo).split("train")
    server = serve(scripted_policy)
    one_line(run_cli(repo, "eval", "demo", "--split", "train", "--base-url", server.base_url), needle)
    assert server.requests == [] and repo_state(repo) == before


def test_an_evaluator_with_the_wrong_signature_is_refused_before_anything_is_spent(repo: Path, serve) -> None:
    toml = (repo / "tasks/demo/task.toml").read_text().replace('evaluator = "numeric"', 'evaluator = "os:system"')
    _break(repo, "tasks/demo/task.toml", toml.encode())
    before = repo_state(repo)
    server = serve(scripted_policy)
    with LLMClient(LLMSettings(base_url=server.base_url, model="m")) as client:
        with pytest.raises(TaskSetError, match=r"evaluator 'os:system' takes \(command"):
            TaskSetAdapter(load_task_set("demo", repo), client)
    for command in (["eval", "demo"], ["review", "demo", "--base", "HEAD"]):
        one_line(run_cli(repo, *command, "--base-url", server.base_url), "an evaluator is called as (response, gold)")
    assert server.requests == [] and repo_state(repo) == before


@pytest.mark.parametrize("content", [b"not json at all\n", b"\xff\xfe binary", b'{"results": 3}', b"[" * 5000], ids=str)
def test_eval_merge_of_something_that_is_not_results(repo: Path, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "shard.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match="is not a results file of `fnreg eval -o`"):
        EvalResult.read(path)
    before = repo_state(repo)
    one_line(run_cli(repo, "eval-merge", str(path)), "is not a results file of `fnreg eval -o`", status=2)
    assert repo_state(repo) == before


# ----------------------------------------------------------------------------- training that cannot start


def test_a_failed_prepare_run_leaves_nothing_behind(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's library scenario, without an endpoint: one ConfigError, no branch, worktree or file."""
    for name in [k for k in os.environ if k.startswith(("OPENAI_", "FNREG_"))]:
        monkeypatch.delenv(name)
    before = repo_state(repo)
    with pytest.raises(ConfigError, match="no LLM endpoint configured"):
        prepare_run(repo, "demo", TrainConfig(epochs=1), llm=LLMSettings(model="gpt-4o-mini"))
    with pytest.raises(ConfigError, match="no LLM endpoint configured"):
        prepare_run(repo, "demo", TrainConfig(epochs=1))  # the CLI's settings, by default
    assert repo_state(repo) == before and git(repo, "branch", "--list", "fnreg/*") == ""
    one_line(run_cli(repo, "train", "demo", "--epochs", "1"), "no LLM endpoint configured")
    assert repo_state(repo) == before


def test_prepare_run_finds_the_exported_key_and_endpoint(repo: Path, serve, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's library scenario with OPENAI_API_KEY exported: LLMSettings(model=...) reaches the endpoint."""
    server = serve(scripted_policy, api_key="sk-exported")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-exported")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    trainer = prepare_run(repo, "demo", TrainConfig(epochs=1), llm=LLMSettings(model="gpt-4o-mini"))
    events = list(trainer.run())
    assert str(events[-1]).startswith(f"run {trainer.run_id} finished (epochs): best epoch")
    assert server.requests and all(r["model"] == "gpt-4o-mini" for r in server.requests)


def test_max_cost_without_a_price_is_refused_before_any_call(repo: Path, serve) -> None:
    server = serve(scripted_policy)
    before = repo_state(repo)
    settings = LLMSettings(base_url=server.base_url, model="fnreg-scripted")
    needle = "--max-cost needs the price of the agent model 'fnreg-scripted'"
    with pytest.raises(InputError, match=needle) as error:
        prepare_run(repo, "demo", TrainConfig(epochs=1, max_cost=1.0), llm=settings)
    assert '"fnreg-scripted" = [' in str(error.value) and "[tool.fnreg.prices]" in str(error.value)
    args = ["train", "demo", "--max-cost", "1", "--base-url", server.base_url, "--model", "fnreg-scripted"]
    one_line(run_cli(repo, *args), needle, status=2)
    assert server.requests == [] and repo_state(repo) == before


def test_max_cost_with_prices_from_pyproject_runs(repo: Path, serve) -> None:
    (repo / "pyproject.toml").write_text('[tool.fnreg.prices]\n"fnreg-scripted" = [1.0, 2.0]\n')
    git(repo, "add", "pyproject.toml")
    git(repo, "commit", "-qm", "prices")
    server = serve(scripted_policy)
    args = ["train", "demo", "--epochs", "1", "--max-cost", "100", "--base-url", server.base_url]
    done = run_cli(repo, *args, "--model", "fnreg-scripted")
    assert done.returncode == 0, done.stderr
    assert "cost unknown" not in done.stdout and "$" in done.stdout


# ----------------------------------------------------------------------------- git hooks


def _hook(repo: Path, name: str, script: str) -> None:
    path = repo / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


@pytest.mark.parametrize("hook", ["pre-commit", "commit-msg"])
def test_a_failing_hook_rejects_apply_and_shows_its_output(repo: Path, hook: str) -> None:
    _hook(repo, hook, 'echo "house rule: no cubes here" >&2\necho "see CONTRIBUTING.md"\nexit 1\n')
    cube = dict(ADD_SQUARE, name="cube", code="return x * x * x")
    before = repo_state(repo)
    with pytest.raises(HookRejected, match=f"the repository's {hook} hook rejected the commit") as error:
        Registry(repo).apply(cube, toolset="math")
    assert error.value.details == "house rule: no cubes here\nsee CONTRIBUTING.md"  # git sends hooks' stdout to stderr
    assert repo_state(repo) == before
    action = repo.parent / "cube.json"
    action.write_text(json.dumps(cube))
    done = run_cli(repo, "apply", str(action), "--toolset", "math")
    one_line(done, f"{hook} hook rejected the commit (its output is above); nothing was committed")
    assert done.stderr.splitlines()[:-1] == ["house rule: no cubes here", "see CONTRIBUTING.md"]
    action.unlink()
    assert repo_state(repo) == before


def test_a_passing_hook_runs_on_apply_and_sync_but_not_in_training_runs(repo: Path, serve) -> None:
    log = repo.parent / "hook.log"
    _hook(repo, "pre-commit", f'echo ran >> "{log}"\n')
    Registry(repo).apply(dict(ADD_SQUARE, name="cube", code="return x * x * x"), toolset="math")
    assert log.read_text() == "ran\n"
    (repo / "registry" / "math" / "halve.py").write_text(
        'def halve(x: float) -> float:\n    """Halve."""\n    return x / 2\n'
    )
    git(repo, "add", "registry/math/halve.py")
    git(repo, "commit", "-qm", "a hand-written function", "--no-verify")
    assert run_cli(repo, "sync", "--toolset", "math").returncode == 0
    assert log.read_text() == "ran\nran\n"
    server = serve(scripted_policy)
    done = run_cli(repo, "train", "demo", "--epochs", "1", "--base-url", server.base_url, "--model", "fnreg-scripted")
    assert done.returncode == 0, done.stderr
    assert "add_function" in git(repo, "log", "--format=%s", "fnreg/demo/" + _run_id(repo))
    assert log.read_text() == "ran\nran\n"  # the run's commits skipped the hook, by decision


def _run_id(repo: Path) -> str:
    branches = git(repo, "branch", "--list", "fnreg/demo/*", "--format=%(refname:short)").splitlines()
    return branches[0].split("/")[-1]


def test_the_error_types_are_fnreg_errors() -> None:
    assert issubclass(HookRejected, FnregError) and InputError.exit_code == 2


def test_an_optimizer_step_against_an_endpoint_sending_deep_json(repo: Path, serve) -> None:
    """The body cannot be read: retried, then one MalformedCompletion line; nothing committed."""
    from fnreg.llm import MalformedCompletion
    from fnreg.testing.server import Fault

    server = serve(lambda request: Fault(body='{"choices": ' + "[" * 20_000 + "]" * 20_000 + "}"))
    before = repo_state(repo)
    settings = LLMSettings(base_url=server.base_url, model="m", max_retries=1, backoff_base=0.001)
    with LLMClient(settings) as client:
        inputs = OptimizerInputs(Registry(repo).toolset("math", ref="HEAD").sources(), 0.5, HISTORY)
        with pytest.raises(MalformedCompletion, match="sent no usable chat completion in 2 attempts") as error:
            AgentOptimizer(client).step(Registry(repo), "math", inputs)
    assert "\n" not in str(error.value) and len(server.requests) == 2
    assert repo_state(repo) == before
