"""Epoch notes: one versioned type, written and read in one place; notes of fnreg 0.1.0 still read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fnreg.errors import FnregError
from fnreg.llm import Usage
from fnreg.registry import Git
from fnreg.training.notes import NOTE_VERSION, EpochNote, NotedAction, read_note, write_note
from tests.conftest import git

# A note exactly as fnreg 0.1.0 wrote it on an epoch commit (no version key), trimmed to one task.
NOTE_0_1_0 = {
    "epoch": 1,
    "decision": "improved",
    "results": {
        "phase": "candidate",
        "epoch": 1,
        "score": 1.0,
        "correct": 1,
        "total": 1,
        "interrupted": False,
        "wall_time": 0.412,
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "calls": 2, "cached_calls": 0, "cost_usd": None},
        "results": [
            {
                "task_id": "t1",
                "prompt": "Convert 2 km to m.",
                "gold": "2000",
                "answer": "2000",
                "correct": True,
                "failure": None,
                "conversation": {
                    "messages": [
                        {"role": "user", "content": "Convert 2 km to m."},
                        {"role": "assistant", "content": "\\boxed{2000}"},
                    ],
                    "final_answer": "2000",
                    "stop_reason": "answer",
                    "usage": {"prompt_tokens": 120, "completion_tokens": 30, "calls": 2},
                    "tool_calls": 0,
                    "tool_errors": 0,
                    "duration": 0.41,
                },
            }
        ],
    },
    "actions": [{"commit": "a" * 40, "kind": "add_function", "name": "convert_units", "reason": "units"}],
    "rejected": [{"tool": "add_function", "errors": ["add_function x: code is empty"]}],
    "terminated": True,
    "usage": {
        "total": {"prompt_tokens": 900, "completion_tokens": 80, "calls": 3},
        "agent": {"prompt_tokens": 120, "completion_tokens": 30, "calls": 2},
        "optimizer": {"prompt_tokens": 780, "completion_tokens": 50, "calls": 1},
    },
}
# fnreg 0.1.0's note on the test evaluation's commit: results only.
TEST_NOTE_0_1_0 = {"results": {**NOTE_0_1_0["results"], "phase": "test"}}


def test_a_note_written_by_fnreg_0_1_0_still_reads() -> None:
    note = EpochNote.from_json(NOTE_0_1_0)
    assert (note.epoch, note.decision, note.terminated) == (1, "improved", True)
    assert note.results.score == 1.0 and note.results.results[0].conversation.final_answer == "2000"
    assert note.actions == (NotedAction("a" * 40, "add_function", "convert_units", "units"),)
    assert note.rejected[0].errors == ("add_function x: code is empty",)
    assert note.total_usage == Usage(prompt_tokens=900, completion_tokens=80, calls=3)
    assert note.usage["optimizer"].prompt_tokens == 780
    test = EpochNote.from_json(TEST_NOTE_0_1_0)
    assert test.epoch is None and test.decision is None and test.results.total == 1


def test_round_trip_keeps_every_field_and_adds_the_version() -> None:
    note = EpochNote.from_json(NOTE_0_1_0)
    data = json.loads(note.text())
    assert data["version"] == NOTE_VERSION
    assert EpochNote.from_json(data) == note
    # Everything fnreg 0.1.0 wrote is still there under the same keys, for readers of the old format.
    assert {k: v for k, v in data.items() if k != "version"}.keys() == NOTE_0_1_0.keys()
    assert data["actions"] == NOTE_0_1_0["actions"] and data["rejected"] == NOTE_0_1_0["rejected"]


def test_a_baseline_note_has_no_step_fields() -> None:
    note = EpochNote.from_json({k: v for k, v in NOTE_0_1_0.items() if k not in ("actions", "rejected", "terminated")})
    baseline = EpochNote(note.results, 0, "baseline", usage=note.usage)
    assert "actions" not in baseline.to_json() and baseline.actions == ()


def test_a_note_from_a_newer_fnreg_is_refused_not_misread() -> None:
    with pytest.raises(FnregError, match="newer than this fnreg reads; upgrade fnreg"):
        EpochNote.parse(json.dumps({**NOTE_0_1_0, "version": NOTE_VERSION + 1}))


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", '{"epoch": 1}', '{"results": {"results": [{}]}}'])
def test_unreadable_notes_are_none(text: str) -> None:
    assert EpochNote.parse(text) is None


def test_written_on_a_commit_and_read_back(git_repo: Path) -> None:
    repo = Git(git_repo)
    head = repo.head()
    assert head is not None and read_note(repo, head) is None
    note = EpochNote.from_json(NOTE_0_1_0)
    write_note(repo, head, note)
    assert read_note(repo, head) == note
    # It is an ordinary git note under refs/notes/fnreg, readable without fnreg.
    stored = json.loads(git(git_repo, "notes", "--ref=fnreg", "show", head))
    assert stored["decision"] == "improved" and stored["version"] == NOTE_VERSION


def test_version_2_keeps_the_validation_results_what_decided_and_the_settings() -> None:
    old = EpochNote.from_json({**NOTE_0_1_0, "version": 1})
    assert (old.val_results, old.decided_by, old.settings) == (None, None, {})  # a version-1 note reads
    note = EpochNote(
        old.results,
        0,
        "baseline",
        val_results=old.results,
        decided_by="val",
        settings={"protocol": "paper", "ties": "keep"},
    )
    data = json.loads(note.text())
    assert data["version"] == 2 and data["decided_by"] == "val" and data["settings"]["ties"] == "keep"
    assert data["val_results"]["score"] == 1.0
    assert EpochNote.from_json(data) == note
