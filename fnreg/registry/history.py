"""The commit messages fnreg writes, and the training log read back from them.

The history of a run branch *is* the training log: action commits, an empty commit per
evaluation, roll-back commits, and the best tag. Everything a report or a resume needs
is in the subjects and trailers below (and in the notes the trainer attaches).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from fnreg.registry.git import CommitInfo, Git

if TYPE_CHECKING:
    from fnreg.registry.actions import Action

RUN = "Fnreg-Run"
TOOLSET = "Fnreg-Toolset"
EPOCH = "Fnreg-Epoch"
ACTION = "Fnreg-Action"
FUNCTION = "Fnreg-Function"
SCORE = "Fnreg-Score"
TASKS = "Fnreg-Tasks"
BEST = "Fnreg-Best"
DECISION = "Fnreg-Decision"
ROLLBACK_OF = "Fnreg-Rollback-Of"
#: "test" on the commit recording the best functions' test score (it is not an epoch).
SPLIT = "Fnreg-Split"
#: The best set's score on the epoch's tasks (differs from the best epoch's with batch training).
BEST_SCORE = "Fnreg-Best-Score"
#: The task set a run trains on.
TASK_SET = "Fnreg-Task-Set"
#: The epoch's score on the validation split, when the task set has one.
VAL_SCORE = "Fnreg-Val-Score"
#: The best set's validation score, which the epoch's was compared with.
BEST_VAL_SCORE = "Fnreg-Best-Val-Score"
#: Which split's score decided keep or roll-back: "train", or "val" when the task set has one.
DECIDED_BY = "Fnreg-Decided-By"
#: Why a run ended, in its best tag's message ("epochs", "early_stop", "budget").
STOP = "Fnreg-Stop"

_ROLLBACK_OF, _ACTION, _SPLIT, _SCORE, _VAL_SCORE, _EPOCH, _TOOLSET, _RUN = (
    key.lower() for key in (ROLLBACK_OF, ACTION, SPLIT, SCORE, VAL_SCORE, EPOCH, TOOLSET, RUN)
)

EntryKind = Literal["action", "epoch", "test", "rollback", "other"]


def format_message(subject: str, body: str | None = None, trailers: Iterable[tuple[str, Any]] = ()) -> str:
    """A commit message: subject, optional body, then ``Key: value`` trailers."""
    parts = [subject.strip()]
    if body and body.strip():
        parts.append(body.strip())
    lines = [f"{key}: {value}" for key, value in trailers if value is not None]
    if lines:
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _run_trailers(toolset: str, run: str | None, epoch: int | None) -> list[tuple[str, Any]]:
    return [(RUN, run), (TOOLSET, toolset), (EPOCH, epoch)]


def action_message(action: Action, toolset: str, *, run: str | None = None, epoch: int | None = None) -> str:
    """``add_function evaluate_expression`` with the optimizer's reason as the body."""
    trailers = _run_trailers(toolset, run, epoch) + [(ACTION, action.kind), (FUNCTION, action.name)]
    return format_message(action.summary(), action.reason, trailers)


def percent(score: float) -> str:
    return f"{score * 100:.1f}%"


def epoch_message(
    toolset: str,
    run: str,
    epoch: int,
    *,
    score: float,
    tasks: int,
    best: bool,
    decision: str,
    split: str = "train",
    val_score: float | None = None,
    extra: Iterable[tuple[str, Any]] = (),
) -> str:
    """``epoch 3: train 55.0% (best)``, or ``epoch 3: train 55.0%, val 60.0% (best)``: one evaluation."""
    measured = f"{split} {percent(score)}" + (f", val {percent(val_score)}" if val_score is not None else "")
    subject = f"epoch {epoch}: {measured}" + (" (best)" if best else "")
    trailers = _run_trailers(toolset, run, epoch) + [
        (SCORE, f"{score:.6f}"),
        (TASKS, tasks),
        (BEST, "yes" if best else "no"),
        (DECISION, decision),
        (VAL_SCORE, f"{val_score:.6f}" if val_score is not None else None),
        *extra,
    ]
    return format_message(subject, None, trailers)


def rollback_message(
    toolset: str,
    run: str | None,
    epoch: int,
    *,
    score: float,
    best_score: float,
    reverted: Sequence[str],
    unit: str = "epoch",
    split: str | None = "train",
    relation: str | None = None,
) -> str:
    """``roll back epoch 3: train 40.0% < best 55.0%``, one trailer per reverted commit.

    ``unit``, ``split`` and ``relation`` (default ``<`` or ``=``) name things the caller's way:
    the AG2 layer writes ``roll back step 3: 40.0% <= best 55.0%``.
    """
    relation = relation or ("<" if score < best_score else "=")
    measured = f"{split} {percent(score)}" if split else percent(score)
    subject = f"roll back {unit} {epoch}: {measured} {relation} best {percent(best_score)}"
    trailers = _run_trailers(toolset, run, epoch) + [(ROLLBACK_OF, sha) for sha in reverted]
    return format_message(subject, None, trailers)


@dataclass(frozen=True)
class LogEntry:
    """One fnreg commit, classified."""

    commit: CommitInfo
    kind: EntryKind
    toolset: str | None
    run: str | None
    epoch: int | None
    tags: tuple[str, ...] = field(default=())

    @property
    def sha(self) -> str:
        return self.commit.sha

    @property
    def subject(self) -> str:
        return self.commit.subject

    @property
    def score(self) -> float | None:
        value = self.commit.last_values.get(_SCORE)
        return float(value) if value is not None else None

    @property
    def val_score(self) -> float | None:
        value = self.commit.last_values.get(_VAL_SCORE)
        return float(value) if value is not None else None

    @property
    def best(self) -> bool:
        return self.commit.trailer(BEST) == "yes"

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.sha,
            "kind": self.kind,
            "subject": self.subject,
            "toolset": self.toolset,
            "run": self.run,
            "epoch": self.epoch,
            "score": self.score,
            "val_score": self.val_score,
            "tags": list(self.tags),
            "trailers": self.commit.trailers,  # JSON writes the pairs as arrays
        }


def classify(commit: CommitInfo, tags: Iterable[str] = ()) -> LogEntry:
    values = commit.last_values  # read for every commit of a long history: one dict, no method calls
    if _ROLLBACK_OF in values:
        kind: EntryKind = "rollback"
    elif _ACTION in values:
        kind = "action"
    elif values.get(_SPLIT) == "test":
        kind = "test"
    elif _SCORE in values:
        kind = "epoch"
    else:
        kind = "other"
    epoch = values.get(_EPOCH)
    return LogEntry(
        commit=commit,
        kind=kind,
        toolset=values.get(_TOOLSET),
        run=values.get(_RUN),
        epoch=int(epoch) if epoch and epoch.isdigit() else None,
        tags=tuple(tags),
    )


def read_log(
    git: Git, revisions: Sequence[str] = ("HEAD",), *, toolset: str | None = None, run: str | None = None
) -> list[LogEntry]:
    """fnreg's commits reachable from ``revisions``, newest first."""
    return list(iter_log(git, revisions, toolset=toolset, run=run))


def iter_log(
    git: Git, revisions: Sequence[str] = ("HEAD",), *, toolset: str | None = None, run: str | None = None
) -> Iterator[LogEntry]:
    """:func:`read_log`, one entry at a time while git still walks the history."""
    tags_by_commit: dict[str, list[str]] = {}
    for tag, sha in git.tags("fnreg").items():
        tags_by_commit.setdefault(sha, []).append(tag)
    for commit in git.iter_log(revisions):
        if _TOOLSET not in commit.last_values:
            continue
        entry = classify(commit, tags_by_commit.get(commit.sha, ()))
        if toolset is not None and entry.toolset != toolset:
            continue
        if run is not None and entry.run != run:
            continue
        yield entry


def training_record(commit: CommitInfo) -> str | None:
    """``epoch 2 of run r1: train 100.0%, val 75.0% (val decided)`` for an epoch commit; else None.

    A best tag points at its epoch commit, so a review of ``fnreg/<toolset>/<run>/best`` can say
    what training measured there, beside what the review measures.
    """
    if commit.trailer(SCORE) is None or commit.trailer(EPOCH) is None or commit.trailer(SPLIT) == "test":
        return None
    score = float(commit.trailer(SCORE) or 0)
    val = commit.trailer(VAL_SCORE)
    measured = f"train {percent(score)}" + (f", val {percent(float(val))}" if val else "")
    decided = commit.trailer(DECIDED_BY) or "train"
    return f"epoch {commit.trailer(EPOCH)} of run {commit.trailer(RUN)}: {measured} ({decided} decided)"
