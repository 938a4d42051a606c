"""The epoch note: everything one evaluation found, kept as a git note on its commit.

Trailers say what happened (score, decision); the note (``refs/notes/fnreg``, JSON) holds the
details a report, a resume or the optimizer's next prompt needs: every task's conversation,
answer and verdict, the actions the step took and those it rejected, and what it cost.
Notes are written and read here only.

Versions: notes written before the format had a number (fnreg 0.1.0) carry no ``version``
key and read as version 0; version 1 has the same fields plus ``version``; version 2 adds the
validation evaluation (``val_results``), which split decided (``decided_by``) and, on the
baseline, the run's settings (``settings``). Older notes read with those empty. A note from a
newer fnreg is refused with a message instead of being misread.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fnreg.errors import FnregError
from fnreg.evaluation.runner import EvalResult
from fnreg.llm import Usage
from fnreg.registry import Git
from fnreg.training.events import Decision

NOTE_VERSION = 2


@dataclass(frozen=True)
class NotedAction:
    """An action the epoch's optimizer step committed."""

    commit: str
    kind: str
    name: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "kind": self.kind, "name": self.name, "reason": self.reason}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NotedAction:
        return cls(commit=data["commit"], kind=data["kind"], name=data["name"], reason=data.get("reason"))


@dataclass(frozen=True)
class NotedRejection:
    """A proposal the step gave up on, with every error it got."""

    tool: str
    errors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"tool": self.tool, "errors": list(self.errors)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NotedRejection:
        return cls(tool=data["tool"], errors=tuple(data.get("errors", ())))


@dataclass(frozen=True)
class EpochNote:
    """The note on an epoch commit (or on the test evaluation's commit)."""

    #: The evaluation: per task, the conversation, answer and verdict.
    results: EvalResult
    #: The epoch (None on a version-0 test note, which did not say).
    epoch: int | None = None
    #: What the trainer decided (None for the test evaluation).
    decision: Decision | None = None
    #: Batch training: the best set evaluated on the same batch.
    best_results: EvalResult | None = None
    actions: tuple[NotedAction, ...] = ()
    rejected: tuple[NotedRejection, ...] = ()
    #: The optimizer replied TERMINATE before using all its actions.
    terminated: bool = False
    #: Tokens and cost of the epoch: ``total`` and each role (``agent``, ``optimizer``).
    usage: Mapping[str, Usage] = field(default_factory=dict)
    #: The test evaluation: the starting functions on the same tasks, for the review in the PR.
    start_results: EvalResult | None = None
    #: The test evaluation: the task set it ran (a report can name it without loading it).
    task_set: str | None = None
    #: The same functions on the validation split (a task set with one), which then decides.
    val_results: EvalResult | None = None
    #: Which split's score decided keep or roll-back: "train" or "val" (None on the test note).
    decided_by: str | None = None
    #: The baseline: the run's settings (protocol, ties, batch rule...), for the report and a reproduction.
    settings: Mapping[str, Any] = field(default_factory=dict)
    version: int = NOTE_VERSION

    @property
    def total_usage(self) -> Usage:
        return self.usage.get("total", Usage())

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": self.version}
        if self.epoch is not None:
            data["epoch"] = self.epoch
        if self.decision is not None:
            data["decision"] = self.decision
        data["results"] = self.results.to_json()
        if self.best_results is not None:
            data["best_results"] = self.best_results.to_json()
        if self.decision not in (None, "baseline"):  # an optimizer step happened
            data["actions"] = [a.to_json() for a in self.actions]
            data["rejected"] = [r.to_json() for r in self.rejected]
            data["terminated"] = self.terminated
        if self.usage:
            data["usage"] = {role: usage.to_json() for role, usage in self.usage.items()}
        if self.start_results is not None:
            data["start_results"] = self.start_results.to_json()
        if self.task_set is not None:
            data["task_set"] = self.task_set
        if self.val_results is not None:
            data["val_results"] = self.val_results.to_json()
        if self.decided_by is not None:
            data["decided_by"] = self.decided_by
        if self.settings:
            data["settings"] = dict(self.settings)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EpochNote:
        """Read a note of any version up to :data:`NOTE_VERSION` (version 0: no ``version`` key)."""
        version = data.get("version", 0)
        if not isinstance(version, int) or version > NOTE_VERSION:
            raise FnregError(f"epoch note version {version!r} is newer than this fnreg reads; upgrade fnreg")
        best, start, val = data.get("best_results"), data.get("start_results"), data.get("val_results")
        return cls(
            results=EvalResult.from_json(data["results"]),
            epoch=data.get("epoch"),
            decision=data.get("decision"),
            best_results=EvalResult.from_json(best) if best is not None else None,
            actions=tuple(NotedAction.from_json(a) for a in data.get("actions", ())),
            rejected=tuple(NotedRejection.from_json(r) for r in data.get("rejected", ())),
            terminated=bool(data.get("terminated", False)),
            usage={role: Usage.from_json(value) for role, value in data.get("usage", {}).items()},
            start_results=EvalResult.from_json(start) if start is not None else None,
            task_set=data.get("task_set"),
            val_results=EvalResult.from_json(val) if val is not None else None,
            decided_by=data.get("decided_by"),
            settings=dict(data.get("settings") or {}),
            version=NOTE_VERSION,
        )

    def text(self) -> str:
        """The note as stored in git."""
        return json.dumps(self.to_json())

    @classmethod
    def parse(cls, text: str) -> EpochNote | None:
        """A stored note, or None when it is not one fnreg can read (hand-edited, truncated).

        Notes merged from two clones (``cat_sort_uniq``, :mod:`fnreg.registry.remote`) may hold
        two notes, one JSON object per line; each is whole, and the first that reads is taken.
        """
        for line in [text, *text.splitlines()]:
            try:
                data = json.loads(line)  # fnreg's own JSON: LLM text inside is strings, not structure
                if isinstance(data, dict) and "results" in data:
                    return cls.from_json(data)
            except (ValueError, KeyError, TypeError, RecursionError):
                continue
        return None


def write_note(git: Git, commit: str, note: EpochNote) -> None:
    """Attach ``note`` to ``commit`` (replacing any note there)."""
    git.add_note(commit, note.text())


def read_note(git: Git, commit: str) -> EpochNote | None:
    """The note on ``commit``, if one was written and reads."""
    text = git.read_note(commit)
    return EpochNote.parse(text) if text else None
