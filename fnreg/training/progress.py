"""What the previous optimizer step did and what came of it, in words for the next request.

The optimizer's request carries the step number and this sentence, so that no two steps send
the same request: after a step that changed nothing (TERMINATE at once, or no valid proposal),
an identical request would get the identical answer from the response cache, and every
remaining epoch would be a cached no-op until patience ran out.
"""

from __future__ import annotations

from fnreg.registry.history import percent
from fnreg.training.notes import EpochNote
from fnreg.training.state import EpochRecord


def describe_step(epoch: EpochRecord, note: EpochNote | None) -> str | None:
    """One or two sentences on ``epoch``'s step and its outcome; None for the baseline."""
    if epoch.decision == "baseline":
        return None
    where = f"(step {epoch.epoch})"
    if epoch.decision == "no_change":
        return f"{where} {_nothing_changed(note)}"
    actions = ", ".join(f"{a.kind} {a.name}" for a in note.actions) if note and note.actions else "actions"
    rejected = len(note.rejected) if note else 0
    took = f"you took {actions}" + (
        f" ({rejected} more proposal{'s were' if rejected != 1 else ' was'} invalid)" if rejected else ""
    )
    score, best = epoch.deciding_score, epoch.deciding_best
    measured = f"{epoch.decided_by} {percent(score)}"
    if epoch.decision == "improved":
        outcome = f"{measured} > best {percent(best)}: kept; that set is List A now."
    elif epoch.decision == "kept":
        relation = "=" if round(score, 6) == round(best, 6) else "<"
        outcome = f"{measured} {relation} best {percent(best)}: kept all the same; that set is List A now."
    else:
        relation = "=" if round(score, 6) == round(best, 6) else "<"
        outcome = f"{measured} {relation} best {percent(best)}: rolled back; it is among the failed sets."
    return f"{where} {took}; {outcome}"


def _nothing_changed(note: EpochNote | None) -> str:
    rejected = note.rejected if note else ()
    if rejected:
        tools = ", ".join(r.tool for r in rejected)
        return (
            f"none of your proposals became valid ({tools}), so the functions did not change. "
            "Try a different, simpler change."
        )
    if note is not None and note.terminated:
        return (
            "you replied TERMINATE without an action, so the functions did not change. Reply TERMINATE again "
            "only if no change can help; otherwise take an action."
        )
    return "the functions did not change."
