"""Self-consistency: K sampled answers per task, the majority wins (Wang et al., 2023).

The compute-matched baseline of training: instead of spending tokens on learning functions,
spend them on sampling the untrained agent K times at temperature > 0 and voting. Two answers
are the same vote when the task set's own evaluator accepts one as the other (``3/4`` and
``0.75`` for ``numeric``, ``\\frac{1}{2}`` and ``0.5`` for ``math``). The largest group wins; a
tie goes to the group whose first member was sampled first. A sample without an answer does not
vote. The tokens of every sample count.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fnreg.evaluation.extraction import extract_final_answer
from fnreg.evaluation.lookup import Evaluator
from fnreg.evaluation.runner import EvalResult, TaskResult
from fnreg.llm import Usage

Same = Callable[[str, str], bool]


@dataclass(frozen=True)
class Vote:
    """The winning sample of one task and how many samples agreed with it."""

    #: Index of the first sample of the winning group (None: no sample answered).
    winner: int | None
    votes: int
    samples: int


def majority(answers: Sequence[str | None], same: Same) -> Vote:
    """The largest group of equal answers (``same(answer, representative)``); ties: the earliest group."""
    groups: list[list[int]] = []
    for index, answer in enumerate(answers):
        if answer is None or not answer.strip():
            continue
        for group in groups:
            if same(answer, answers[group[0]] or ""):
                group.append(index)
                break
        else:
            groups.append([index])
    if not groups:
        return Vote(None, 0, len(answers))
    best = max(groups, key=len)  # max keeps the first of equal lengths: the earliest group
    return Vote(best[0], len(best), len(answers))


def evaluator_same(check: Evaluator) -> Same:
    """Two responses vote alike when the evaluator accepts one's final answer as the other's."""

    def same(response: str, representative: str) -> bool:
        try:
            return check(response, extract_final_answer(representative))
        except Exception:  # a custom evaluator that cannot compare two answers: different votes
            return False

    return same


def vote(samples: Sequence[EvalResult], check: Evaluator) -> EvalResult:
    """One result per task: the majority answer of the K samples, with every sample's tokens."""
    same = evaluator_same(check)
    by_task: dict[str, list[TaskResult]] = {}
    for sample in samples:
        for result in sample.results:
            by_task.setdefault(result.task_id, []).append(result)
    voted: list[TaskResult] = []
    votes: dict[str, list[int]] = {}
    for task_id, results in by_task.items():
        outcome = majority([r.answer for r in results], same)
        chosen = results[outcome.winner] if outcome.winner is not None else results[0]
        usage = sum((r.conversation.usage for r in results), Usage())
        conversation = dataclasses.replace(chosen.conversation, usage=usage)
        voted.append(dataclasses.replace(chosen, conversation=conversation))
        votes[task_id] = [outcome.votes, outcome.samples]
    meta = {**(samples[0].meta if samples else {}), "self_consistency": len(samples), "votes": votes}
    meta.pop("repeat", None)
    wall = max((s.wall_time for s in samples), default=0.0)
    return EvalResult(voted, wall, any(s.interrupted for s in samples), meta=meta)
