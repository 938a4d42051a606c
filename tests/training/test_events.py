"""Events print as one short, readable line (the README's ``print(event)``)."""

from __future__ import annotations

from fnreg.llm import Usage
from fnreg.training.events import ActionRejected, EpochFinished, EvaluationStarted, RunFinished, RunStarted


def test_events_read_as_one_short_line() -> None:
    events = [
        RunStarted("r1", "math", "fnreg/math/r1", "/tmp/w", False, 0),
        EvaluationStarted(1, "candidate", 1),
        ActionRejected(2, "add_function", ("first try", "add_function f: code is nested " + "very " * 80 + "deep")),
        EpochFinished(3, 0.75, 1.0, "rolled_back", "abc", 1, Usage(10, 5)),
        RunFinished("r1", "early_stop", 2, 1.0, "c", "fnreg/math/r1/best", "b", "/tmp/w", Usage(1000, 5), 0.9),
    ]
    lines = [str(event) for event in events]
    assert lines == [
        "run r1 started: toolset math on branch fnreg/math/r1",
        "epoch 1 candidate: evaluating 1 task",
        lines[2],
        "epoch 3: train 75.0% (best 100.0%), rolled back, patience 1",
        "run r1 finished (early stop): best epoch 2, train 100.0%, test 90.0%; tag fnreg/math/r1/best; 1,005 tokens",
    ]
    assert lines[2].startswith("epoch 2: add_function rejected after 2 tries: add_function f: code is nested very")
    assert lines[2].endswith("…") and len(lines[2]) < 160
    assert all("\n" not in line for line in lines)
    assert repr(events[3]).startswith("EpochFinished(epoch=3, score=0.75")  # repr keeps every field


def test_a_kept_tie_and_a_validation_score_read_as_such() -> None:
    kept = EpochFinished(2, 0.5, 0.5, "kept", "abc", 1, Usage(10, 5), val_score=0.6, best_val_score=0.6)
    assert str(kept) == "epoch 2: train 50.0%, val 60.0% (best 50.0%), no improvement, kept, patience 1"
    finished = RunFinished("r1", "epochs", 1, 0.5, "c", "t", "b", "/tmp/w", Usage(1, 1), best_val_score=0.75)
    assert str(finished).startswith("run r1 finished (epochs): best epoch 1, train 50.0%, val 75.0%; tag t")
