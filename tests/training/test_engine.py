"""A scripted training run produces exactly the history DESIGN.md describes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fnreg.errors import LockError
from fnreg.llm import LLMSettings
from fnreg.registry import Registry
from fnreg.training import RunOptions, TrainConfig, prepare_run
from fnreg.training.events import EvaluationStarted, RunFinished
from tests.conftest import git
from tests.training.conftest import fnreg

EXPECTED_HISTORY = [
    "create the registry package",
    "epoch 0: train 37.5% (best)",
    "add_function convert_units",
    "add_function mean_of",
    "epoch 1: train 75.0% (best)",
    "revise_function convert_units",
    "remove_function mean_of",
    "epoch 2: train 100.0% (best)",
    "revise_function convert_units",
    "epoch 3: train 75.0%",
    "roll back epoch 3: train 75.0% < best 100.0%",
    "add_function percent_of",
    "epoch 4: train 100.0%",
    "roll back epoch 4: train 100.0% = best 100.0%",
    "test: 100.0% with epoch 2's functions",
]


def train(repo: Path, server, config: TrainConfig, run: str = "r1", **kwargs):
    settings = LLMSettings(
        base_url=server.base_url, model="fnreg-scripted", cache_path=repo / ".fnreg" / "cache.sqlite"
    )
    trainer = prepare_run(repo, "demo", config, llm=settings, options=RunOptions(max_actions=3), run=run, **kwargs)
    events = list(trainer.run())
    return trainer, events


def test_scripted_run_history(user_repo: Path, server):
    head, status = git(user_repo, "rev-parse", "HEAD"), git(user_repo, "status", "--porcelain")
    trainer, events = train(user_repo, server, TrainConfig(epochs=10, patience=2, test=True))
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.reason == "early_stop"
    subjects = git(user_repo, "log", "--reverse", "--format=%s", "main..fnreg/demo/r1").splitlines()
    assert subjects == EXPECTED_HISTORY

    # The best tag sits on the best epoch commit, and the tip's functions equal the best set.
    tagged = git(user_repo, "rev-parse", "fnreg/demo/r1/best^{commit}")
    assert git(user_repo, "log", "-1", "--format=%s", tagged) == "epoch 2: train 100.0% (best)"
    registry = Registry(user_repo)
    tip, best = registry.toolset("demo", "fnreg/demo/r1"), registry.toolset("demo", "fnreg/demo/r1/best")
    assert tip.sources() == best.sources() and tip.names == ["convert_units"]
    assert "revision 2:" in tip["convert_units"].source
    tag_message = git(user_repo, "tag", "-l", "--format=%(contents)", "fnreg/demo/r1/best")
    assert "train 100.0% on 8 tasks" in tag_message and "early stop" in tag_message and "test: 100.0%" in tag_message

    # Trailers and notes hold what a report or a resume needs.
    trailers = git(user_repo, "log", "-1", "--format=%(trailers:only,unfold)", tagged)
    for expected in (
        "Fnreg-Run: r1",
        "Fnreg-Toolset: demo",
        "Fnreg-Epoch: 2",
        "Fnreg-Score: 1.000000",
        "Fnreg-Tasks: 8",
        "Fnreg-Best: yes",
        "Fnreg-Decision: improved",
    ):
        assert expected in trailers
    rollback = git(user_repo, "log", "-1", "--format=%(trailers:only,unfold)", "fnreg/demo/r1~1")
    assert rollback.count("Fnreg-Rollback-Of:") == 1
    note = json.loads(git(user_repo, "notes", "--ref=fnreg", "show", tagged))
    assert [a["name"] for a in note["actions"]] == ["convert_units", "mean_of"]
    assert len(note["results"]["results"]) == 8 and note["results"]["score"] == 1.0
    assert all(r["conversation"]["messages"] for r in note["results"]["results"])

    # The user's checkout was never touched.
    assert git(user_repo, "rev-parse", "HEAD") == head
    assert git(user_repo, "status", "--porcelain") == status
    assert git(user_repo, "branch", "--show-current") == "main"
    assert git(user_repo, "fsck", "--no-progress") == ""


def test_epochs_end_the_run_when_patience_does_not(user_repo: Path, server):
    _, events = train(user_repo, server, TrainConfig(epochs=2, patience=5))
    assert events[-1].reason == "epochs" and events[-1].best_epoch == 2
    assert git(user_repo, "log", "-1", "--format=%s", "fnreg/demo/r1") == "epoch 2: train 100.0% (best)"


def test_batch_training_compares_on_the_same_batch(user_repo: Path, server):
    _, events = train(user_repo, server, TrainConfig(epochs=2, patience=5, batch_size=4, seed=7))
    phases = [(e.epoch, e.phase, e.tasks) for e in events if isinstance(e, EvaluationStarted)]
    assert phases == [(0, "baseline", 4), (1, "best", 4), (1, "candidate", 4), (2, "best", 4), (2, "candidate", 4)]
    notes = [json.loads(git(user_repo, "notes", "--ref=fnreg", "show", f"fnreg/demo/r1~{n}")) for n in (0,)]
    candidate = [r["task_id"] for r in notes[0]["results"]["results"]]
    best = [r["task_id"] for r in notes[0]["best_results"]["results"]]
    assert candidate == best  # the same four tasks for both sets


def test_budget_ends_the_run_cleanly_with_a_tag(user_repo: Path, server):
    _, events = train(user_repo, server, TrainConfig(epochs=10, patience=5, max_tokens=10_000))
    finished = events[-1]
    assert finished.reason == "budget"
    assert git(user_repo, "rev-parse", "fnreg/demo/r1/best^{commit}") == finished.best_commit


def test_a_second_run_on_the_same_toolset_is_refused(user_repo: Path, server):
    settings = LLMSettings(base_url=server.base_url, model="fnreg-scripted")
    first = prepare_run(user_repo, "demo", TrainConfig(epochs=1), llm=settings, run="first")
    second = prepare_run(user_repo, "demo", TrainConfig(epochs=1), llm=settings, run="second")
    running = first.run()
    next(running)  # holds the lock now
    with pytest.raises(LockError, match="run 'first'"):
        next(second.run())
    running.close()


def test_cli_train_refuses_while_locked(user_repo: Path, server):
    from fnreg.file_lock import toolset_lock

    with toolset_lock(user_repo / ".fnreg" / "locks", "demo", "run 'busy-run'"):
        result = fnreg(user_repo, "train", "demo", "--base-url", server.base_url, "--epochs", "1")
    assert result.returncode != 0
    assert "locked by run 'busy-run'" in result.stderr


def test_cli_dry_run_spends_nothing(user_repo: Path, server):
    result = fnreg(user_repo, "train", "demo", "--dry-run", "--base-url", server.base_url)
    assert result.returncode == 0, result.stderr
    assert "projected" in result.stdout and "optimizer" in result.stdout
    assert server.requests == []
    assert git(user_repo, "branch", "--list", "fnreg/*") == ""


def test_scripted_model_keeps_working_when_the_prompt_is_reworded(user_repo: Path, server, monkeypatch):
    import fnreg.optimizer.prompt as prompt

    monkeypatch.setattr(prompt, "SYSTEM_PROMPT", "Improve the assistant's tools. Choose one action per reply.")
    monkeypatch.setattr(
        prompt, "instructions", lambda taken: f"## Now act\nActions so far: {taken}. One more, or TERMINATE."
    )
    original_list_b = prompt.render_list_b
    monkeypatch.setattr(
        prompt,
        "render_list_b",
        lambda best, current, taken: original_list_b(best, current, taken).replace("identical", "the same as"),
    )
    train(user_repo, server, TrainConfig(epochs=10, patience=2, test=True))
    assert any("Improve the assistant's tools" in r["messages"][0]["content"] for r in server.requests)
    subjects = git(user_repo, "log", "--reverse", "--format=%s", "main..fnreg/demo/r1").splitlines()
    assert subjects == EXPECTED_HISTORY


def test_training_leaves_git_status_clean_without_fnreg_init(git_repo: Path, server):
    import shutil

    from fnreg.testing.demo import DEMO_TASK

    shutil.copytree(DEMO_TASK, git_repo / "tasks" / "demo")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "task set, no .gitignore entry for .fnreg")
    train(git_repo, server, TrainConfig(epochs=1, patience=1))
    assert (git_repo / ".fnreg" / "cache.sqlite").is_file()  # fnreg kept state there...
    assert git(git_repo, "status", "--porcelain") == ""  # ...and git status does not show it
