"""Keep or roll back: the trainer's rule and its revert commit, shared with the AG2 layer.

The paper's pseudocode keeps a candidate set only on strict improvement; a tie or a drop is
rolled back with one ``git revert`` commit whose trailers name every reverted action.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from fnreg.registry import Git
from fnreg.registry.history import rollback_message

Verdict = Literal["improved", "rolled_back"]


def decide(score: float, best_score: float) -> Verdict:
    """``improved`` on strict improvement, else ``rolled_back`` (a tie keeps the old best)."""
    return "improved" if score > best_score else "rolled_back"


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
