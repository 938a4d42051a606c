"""Keep or roll back: the trainer's rule and its revert commit, shared with the AG2 layer.

The paper's pseudocode keeps a candidate set only on strict improvement; a tie or a drop is
rolled back with one ``git revert`` commit whose trailers name every reverted action. Its
experiments ran the reference implementation, which rolls back only a drop: ``ties="keep"``
does the same. ``rollback=False`` keeps every step (the paper's "without roll-back" ablation).
Scores are compared as the trailers record them (6 decimals), so a resumed run decides alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from fnreg.registry import Git
from fnreg.registry.history import rollback_message

Verdict = Literal["improved", "kept", "rolled_back"]
Ties = Literal["rollback", "keep"]


def decide(score: float, best_score: float, *, ties: Ties = "rollback", rollback: bool = True) -> Verdict:
    """``improved`` on strict improvement; ``kept`` for a tie with ``ties="keep"`` or any step
    without ``rollback``; else ``rolled_back``. A kept set becomes the new best, like an improved one."""
    score, best_score = round(score, 6), round(best_score, 6)
    if score > best_score:
        return "improved"
    if not rollback or (ties == "keep" and score == best_score):
        return "kept"
    return "rolled_back"


def roll_back(
    git: Git,
    actions: Sequence[str],
    *,
    toolset: str,
    run: str | None,
    epoch: int,
    score: float,
    best_score: float,
    **naming: str,
) -> str:
    """Revert ``actions`` (oldest first, as they were committed) in one commit; its sha.

    ``naming``: ``unit``, ``split``, ``relation`` of :func:`~fnreg.registry.history.rollback_message`.
    """
    newest_first = list(reversed(actions))
    message = rollback_message(toolset, run, epoch, score=score, best_score=best_score, reverted=newest_first, **naming)
    return git.revert(newest_first, message)
