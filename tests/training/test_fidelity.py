"""The paper's choices where fnreg's defaults differ, each behind a setting; the validation split.

Every run here trains a scripted agent and a scripted optimizer (tests/training/scripted.py)
on the loopback server, through the real client, git and sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fnreg.llm import LLMSettings
from fnreg.registry import Registry
from fnreg.training.report import build_report, render_markdown
from fnreg.training import RunOptions, TrainConfig, prepare_run, settings_from_project
from fnreg.training.decision import decide
from fnreg.training.events import EpochFinished, EvaluationStarted, RunFinished
from fnreg.testing.server import Message, text
from tests.conftest import git
from tests.training.conftest import fnreg
from tests.training.scripted import Script, actions_taken, function_call, row, subjects, write_task_set

# With lookup_table, a and b are answered; without it, neither.
HELPED = [row("a", 0, 7, 7), row("b", 0, 8, 8)]


def run(repo: Path, serve, script: Script, config: TrainConfig, *, cache: bool = True, options=None, run_id="r1"):
    server = serve(policy=script)
    settings = LLMSettings(
        base_url=server.base_url,
        model="scripted",
        cache_path=repo / ".fnreg" / "cache.sqlite" if cache else None,
    )
    trainer = prepare_run(repo, "lookup", config, llm=settings, options=options or RunOptions(), run=run_id)
    return server, list(trainer.run())


def note(repo: Path, ref: str) -> dict:
    return json.loads(git(repo, "notes", "--ref=fnreg", "show", ref))


def epoch_note(repo: Path, epoch: int, run: str = "r1") -> dict:
    commit = git(repo, "log", "--format=%H", f"--grep=^epoch {epoch}:", f"fnreg/lookup/{run}").split()[0]
    return note(repo, commit)


# ----------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("score", "best", "ties", "rollback", "verdict"),
    [
        (0.6, 0.5, "rollback", True, "improved"),
        (0.5, 0.5, "rollback", True, "rolled_back"),
        (0.5, 0.5, "keep", True, "kept"),
        (0.4, 0.5, "keep", True, "rolled_back"),
        (0.4, 0.5, "rollback", False, "kept"),
        (1 / 3, 0.333333, "rollback", True, "rolled_back"),  # compared as the trailers record them
        (1 / 3, 0.333333, "keep", True, "kept"),
    ],
)
def test_decide(score, best, ties, rollback, verdict):
    assert decide(score, best, ties=ties, rollback=rollback) == verdict


# ----------------------------------------------------------------------------- ties


def _tie_script() -> Script:
    # Step 1 adds the helpful function; step 2 adds one that changes no answer: a tie.
    return Script({1: [function_call("lookup_table")], 2: [function_call("unused_helper")]})


def test_a_tie_is_rolled_back_by_default(git_repo: Path, serve):
    write_task_set(git_repo, HELPED)
    _, events = run(git_repo, serve, _tie_script(), TrainConfig(epochs=2, patience=5))
    assert subjects(git_repo)[-3:] == [
        "add_function unused_helper",
        "epoch 2: train 100.0%",
        "roll back epoch 2: train 100.0% = best 100.0%",
    ]
    assert events[-1].best_epoch == 1


def test_a_tie_is_kept_with_ties_keep(git_repo: Path, serve):
    write_task_set(git_repo, HELPED)
    _, events = run(git_repo, serve, _tie_script(), TrainConfig(epochs=2, patience=5, ties="keep"))
    assert subjects(git_repo)[-2:] == ["add_function unused_helper", "epoch 2: train 100.0% (best)"]
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.best_epoch == 2
    trailers = git(git_repo, "log", "-1", "--format=%(trailers:only,unfold)", "fnreg/lookup/r1/best")
    assert "Fnreg-Decision: kept" in trailers and "Fnreg-Best: yes" in trailers
    files = git(git_repo, "ls-tree", "--name-only", "fnreg/lookup/r1", "registry/lookup/").split()
    assert "registry/lookup/unused_helper.py" in files  # the tip holds the kept set


def test_fnreg_train_ties_keep_keeps_a_tie(git_repo: Path, serve):
    write_task_set(git_repo, HELPED)
    server = serve(policy=_tie_script())
    args = ["train", "lookup", "--epochs", "2", "--patience", "5", "--base-url", server.base_url]
    default = fnreg(git_repo, *args, "--run-id", "default")
    assert default.returncode == 0, default.stderr
    assert subjects(git_repo, "default")[-1] == "roll back epoch 2: train 100.0% = best 100.0%"
    kept = fnreg(git_repo, *args, "--ties", "keep", "--run-id", "kept")
    assert kept.returncode == 0, kept.stderr
    assert subjects(git_repo, "kept")[-1] == "epoch 2: train 100.0% (best)"
    files = git(git_repo, "ls-tree", "--name-only", "fnreg/lookup/kept/best", "registry/lookup/").split()
    assert "registry/lookup/unused_helper.py" in files


# ----------------------------------------------------------------------------- a step that changes nothing


def test_a_step_that_changes_nothing_does_not_freeze_the_run(git_repo: Path, serve):
    """The optimizer terminates at once in step 1. Step 2's request must differ (step number, what
    happened), or the temperature-0 cache replays TERMINATE for every remaining epoch."""

    def step_two(prompt: str):
        return function_call("lookup_table") if "replied TERMINATE without an action" in prompt else text("TERMINATE")

    script = Script({1: [text("TERMINATE")], 2: step_two})
    write_task_set(git_repo, HELPED)
    server, events = run(git_repo, serve, script, TrainConfig(epochs=3, patience=3))
    decisions = [e.decision for e in events if isinstance(e, EpochFinished)]
    assert decisions[:3] == ["baseline", "no_change", "improved"]
    assert len(script.optimizer_prompts) >= 2 and script.optimizer_prompts[0] != script.optimizer_prompts[1]
    assert "This is step 1 of 3." in script.optimizer_prompts[0]
    assert "This is step 2 of 3." in script.optimizer_prompts[1]
    assert "step 1) you replied TERMINATE without an action" in script.optimizer_prompts[1]
    assert events[-1].best_epoch == 2
    first = epoch_note(git_repo, 1)  # recorded: recorded, nothing re-evaluated
    assert first["decision"] == "no_change" and first["terminated"] is True


def test_a_step_whose_proposals_are_all_invalid_does_not_freeze_the_run(git_repo: Path, serve):
    def step_one(prompt: str):
        return function_call("broken", body="return (")  # a syntax error, on every trial

    def step_two(prompt: str):
        told = "none of your proposals became valid (add_function" in prompt
        return function_call("lookup_table") if told and actions_taken(prompt) == 0 else text("TERMINATE")

    script = Script({1: step_one, 2: step_two})
    write_task_set(git_repo, HELPED)
    _, events = run(git_repo, serve, script, TrainConfig(epochs=2, patience=3))
    decisions = [e.decision for e in events if isinstance(e, EpochFinished)]
    assert decisions == ["baseline", "no_change", "improved"]
    first = epoch_note(git_repo, 1)
    assert first["decision"] == "no_change" and first["rejected"]
    assert not any(s.startswith("add_function broken") for s in subjects(git_repo))
    assert events[-1].best_epoch == 2


# ----------------------------------------------------------------------------- ablations


def _useless_steps() -> Script:
    return Script({step: [function_call(f"helper_{step}")] for step in range(1, 5)})


def test_without_rollback_and_early_stop_every_step_is_kept_and_every_epoch_runs(git_repo: Path, serve):
    write_task_set(git_repo, HELPED)
    _, stopped = run(git_repo, serve, _useless_steps(), TrainConfig(epochs=4, patience=1), run_id="default")
    assert stopped[-1].reason == "early_stop" and stopped[-1].best_epoch == 0

    _, events = run(
        git_repo,
        serve,
        _useless_steps(),
        TrainConfig(epochs=4, patience=1, rollback=False, early_stop=False),
        run_id="ablation",
    )
    finished = events[-1]
    assert finished.reason == "epochs" and finished.best_epoch == 4
    decisions = [e.decision for e in events if isinstance(e, EpochFinished)]
    assert decisions == ["baseline", "kept", "kept", "kept", "kept"]
    assert not any(s.startswith("roll back") for s in subjects(git_repo, "ablation"))
    files = git(git_repo, "ls-tree", "--name-only", "fnreg/lookup/ablation", "registry/lookup/").split()
    assert {f"registry/lookup/helper_{n}.py" for n in range(1, 5)} <= set(files)
    tag = git(git_repo, "tag", "-l", "--format=%(contents)", "fnreg/lookup/ablation/best")
    assert "no roll-back, no early stop" in tag


def test_one_shot_update_takes_all_actions_in_one_reply(git_repo: Path, serve):
    both = Message(tool_calls=[function_call("helper_a"), function_call("lookup_table")])
    script = Script({1: [both]})
    write_task_set(git_repo, HELPED)
    _, events = run(git_repo, serve, script, TrainConfig(epochs=1), options=RunOptions(update="one_shot"))
    assert len(script.optimizer_prompts) == 1  # one request for the whole step
    assert "take up to 3 actions on List B now, all in this one reply" in script.optimizer_prompts[0]
    assert subjects(git_repo)[-3:] == [
        "add_function helper_a",
        "add_function lookup_table",
        "epoch 1: train 100.0% (best)",
    ]


def test_fnreg_train_ablation_switches(git_repo: Path, serve):
    # Steps 1 and 2 add functions that change nothing; step 3 adds two at once, one of them helpful.
    both = Message(tool_calls=[function_call("helper_3"), function_call("lookup_table")])
    script = Script({1: [function_call("helper_1")], 2: [function_call("helper_2")], 3: [both]})
    write_task_set(git_repo, HELPED)
    server = serve(policy=script)
    args = ["train", "lookup", "--epochs", "3", "--patience", "1", "--base-url", server.base_url]
    stopped = fnreg(git_repo, *args, "--run-id", "default")
    assert stopped.returncode == 0, stopped.stderr
    assert [s for s in subjects(git_repo, "default") if s.startswith("epoch")] == [
        "epoch 0: train 0.0% (best)",
        "epoch 1: train 0.0%",
    ]  # patience 1: the tie of step 1 is rolled back and the run stops

    prompts = len(script.optimizer_prompts)
    ablation = fnreg(git_repo, *args, "--no-rollback", "--no-early-stop", "--one-shot", "--run-id", "ablation")
    assert ablation.returncode == 0, ablation.stderr
    assert len(script.optimizer_prompts) - prompts == 3  # one request per step
    assert subjects(git_repo, "ablation")[-7:] == [
        "add_function helper_1",
        "epoch 1: train 0.0% (best)",
        "add_function helper_2",
        "epoch 2: train 0.0% (best)",
        "add_function helper_3",
        "add_function lookup_table",
        "epoch 3: train 100.0% (best)",
    ]
    settings = epoch_note(git_repo, 0, "ablation")["settings"]
    assert (settings["rollback"], settings["early_stop"], settings["update"]) == (False, False, "one_shot")


# ----------------------------------------------------------------------------- batches


def test_the_paper_batch_rule_compares_with_the_recorded_best_score(git_repo: Path, serve):
    rows = [row(f"t{n}", 0, n, n) for n in range(1, 7)]
    write_task_set(git_repo, rows)
    script = Script({1: [function_call("lookup_table")], 2: [function_call("unused_helper")]})
    _, events = run(git_repo, serve, script, TrainConfig(epochs=2, patience=5, batch_size=3, batch_rule="paper"))
    phases = [(e.epoch, e.phase) for e in events if isinstance(e, EvaluationStarted)]
    assert phases == [(0, "baseline"), (1, "candidate"), (2, "candidate")]  # the best set is never re-run
    epoch_one = epoch_note(git_repo, 1)
    assert "best_results" not in epoch_one and len(epoch_one["results"]["results"]) == 3


# ----------------------------------------------------------------------------- what the optimizer sees


def test_the_optimizer_sees_answers_and_ground_truth_when_asked(git_repo: Path, serve):
    write_task_set(git_repo, HELPED)
    hidden = Script({1: [text("TERMINATE")]})
    run(git_repo, serve, hidden, TrainConfig(epochs=1), run_id="hidden")
    assert "[correct answer]" not in hidden.optimizer_prompts[0]
    shown = Script({1: [text("TERMINATE")]})
    run(git_repo, serve, shown, TrainConfig(epochs=1), options=RunOptions(show_answers=True), run_id="shown")
    assert "[final answer] The answer is \\boxed{0}.\n[correct answer] 7" in shown.optimizer_prompts[0]


# ----------------------------------------------------------------------------- validation


def _overfit(git_repo: Path, *, with_val: bool) -> None:
    # lookup_table answers the training questions and breaks the validation ones.
    train = [row("a", 0, 7, 7), row("b", 0, 8, 8)]
    val = [row("c", 5, 9, 5), row("d", 6, 1, 6)]
    write_task_set(git_repo, train, val=val if with_val else None)


def test_a_function_that_fits_train_but_not_val_is_rolled_back_when_val_decides(git_repo: Path, serve):
    _overfit(git_repo, with_val=True)
    _, events = run(git_repo, serve, Script({1: [function_call("lookup_table")]}), TrainConfig(epochs=1))
    assert subjects(git_repo)[-4:] == [
        "epoch 0: train 0.0%, val 100.0% (best)",
        "add_function lookup_table",
        "epoch 1: train 100.0%, val 0.0%",
        "roll back epoch 1: val 0.0% < best 100.0%",
    ]
    trailers = git(git_repo, "log", "-1", "--format=%(trailers:only,unfold)", "fnreg/lookup/r1~1")
    for expected in ("Fnreg-Score: 1.000000", "Fnreg-Val-Score: 0.000000", "Fnreg-Best-Val-Score: 1.000000"):
        assert expected in trailers
    assert "Fnreg-Decided-By: val" in trailers
    assert events[-1].best_epoch == 0 and events[-1].best_val_score == 1.0
    epoch_one = epoch_note(git_repo, 1)
    assert epoch_one["decided_by"] == "val" and epoch_one["val_results"]["score"] == 0.0
    log = json.loads(fnreg(git_repo, "log", "--run", "r1", "--json").stdout)
    epochs = [e for e in log if e["kind"] == "epoch"]
    assert epochs[0]["subject"] == "epoch 1: train 100.0%, val 0.0%"
    assert (epochs[0]["score"], epochs[0]["val_score"]) == (1.0, 0.0)
    runs = json.loads(fnreg(git_repo, "runs", "--json").stdout)
    assert (runs[0]["best_train"], runs[0]["best_val"]) == (0.0, 1.0)
    report = build_report(Registry(git_repo), "r1")
    text = render_markdown(report, image=None)
    assert "| epoch | actions | train | val | best before |" in text
    assert "| 1 | add `lookup_table` | 100.0% | 0.0% | 0.0% / val 100.0% | rolled back (val 0.0% < 100.0%) |" in text
    assert "keep or roll back decided by the validation split" in text
    assert "validation accuracy **100.0%**" in text
    server = serve(policy=Script())
    review = fnreg(
        git_repo,
        "review",
        "lookup",
        "--base",
        "main",
        "--head",
        "fnreg/lookup/r1~1",
        "--split",
        "val",
        "--base-url",
        server.base_url,
        "-o",
        "review.md",
    )
    assert review.returncode == 0, review.stderr
    markdown = (git_repo / "review.md").read_text()
    assert "(val split, 2 tasks)" in markdown
    assert "Training recorded at head: epoch 1 of run r1: train 100.0%, val 0.0% (val decided)." in markdown
    assert "### Tasks that flipped: 0 fixed, 2 broken" in markdown


def test_the_same_function_is_kept_without_a_validation_split(git_repo: Path, serve):
    _overfit(git_repo, with_val=False)
    _, events = run(git_repo, serve, Script({1: [function_call("lookup_table")]}), TrainConfig(epochs=1))
    assert subjects(git_repo)[-1] == "epoch 1: train 100.0% (best)"
    trailers = git(git_repo, "log", "-1", "--format=%(trailers:only,unfold)", "fnreg/lookup/r1")
    assert "Fnreg-Decided-By: train" in trailers and "Fnreg-Val-Score" not in trailers
    assert events[-1].best_epoch == 1


def test_val_conversations_never_reach_the_optimizer(git_repo: Path, serve):
    _overfit(git_repo, with_val=True)
    script = Script({1: [text("TERMINATE")]})
    run(git_repo, serve, script, TrainConfig(epochs=1))
    assert "(task a)" in script.optimizer_prompts[0] and "(task c)" not in script.optimizer_prompts[0]


# ----------------------------------------------------------------------------- the paper preset


def _settings(repo: Path, pyproject: str, **flags):
    (repo / "pyproject.toml").write_text(f"[tool.fnreg]\n{pyproject}", encoding="utf-8")
    return settings_from_project(repo, **flags)


def test_protocol_paper_sets_the_papers_choices(tmp_path: Path):
    config, options = _settings(tmp_path, "", protocol="paper")
    assert (config.epochs, config.patience, config.ties, config.batch_rule, config.protocol) == (
        10,
        10,
        "keep",
        "paper",
        "paper",
    )
    assert (options.max_actions, options.clip, options.show_answers) == (3, "over_budget", True)
    default, default_options = _settings(tmp_path, "")
    assert (default.patience, default.ties, default.batch_rule) == (3, "rollback", "paired")
    assert (default_options.clip, default_options.show_answers, default_options.update) == (
        "always",
        False,
        "progressive",
    )


def test_protocol_precedence(tmp_path: Path):
    # A flag beside the preset wins; the preset from a flag beats the file; the file's own keys beat its preset.
    assert _settings(tmp_path, "", protocol="paper", patience=2)[0].patience == 2
    assert _settings(tmp_path, "patience = 5\n", protocol="paper")[0].patience == 10
    assert _settings(tmp_path, 'protocol = "paper"\npatience = 5\n')[0].patience == 5
    assert _settings(tmp_path, 'protocol = "paper"\n')[0].ties == "keep"
    assert _settings(tmp_path, 'ties = "keep"\n')[0].ties == "keep"


def test_cli_protocol_paper_records_its_settings(git_repo: Path, serve):
    write_task_set(git_repo, HELPED)
    server = serve(policy=Script({1: [function_call("lookup_table")]}))
    result = fnreg(
        git_repo,
        "train",
        "lookup",
        "--protocol",
        "paper",
        "--epochs",
        "1",
        "--run-id",
        "p",
        "--base-url",
        server.base_url,
    )
    assert result.returncode == 0, result.stderr
    baseline = epoch_note(git_repo, 0, "p")
    settings = baseline["settings"]
    assert (settings["protocol"], settings["ties"], settings["batch_rule"], settings["patience"]) == (
        "paper",
        "keep",
        "paper",
        10,
    )
    assert settings["show_answers"] is True and settings["clip"] == "over_budget" and settings["epochs"] == 1
    tag = git(git_repo, "tag", "-l", "--format=%(contents)", "fnreg/lookup/p/best")
    assert "protocol: paper (ties keep, batch rule paper; decided by train)" in tag


def test_the_readme_lists_every_choice_of_the_paper_preset():
    from fnreg.training.config import PAPER_PROTOCOL, TrainingConfig
    from fnreg.optimizer.config import OptimizerConfig
    from tests.conftest import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| setting | fnreg's default | `--protocol paper` |") :].split("\n\n")[0]
    for key, value in PAPER_PROTOCOL.items():
        model = TrainingConfig if key in TrainingConfig.model_fields else OptimizerConfig
        default = model.model_fields[key].default

        def shown(v):
            return f"`{str(v).lower()}`" if isinstance(v, (bool, str)) else str(v)

        assert f"| `{key}` | {shown(default)} | {shown(value)} |" in table, key
