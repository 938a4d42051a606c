"""Self-consistency: the majority of K sampled answers, votes grouped by the task set's evaluator."""

from __future__ import annotations

import pytest

from fnreg.agents.base import Conversation
from fnreg.evaluation import get_evaluator
from fnreg.evaluation.consistency import evaluator_same, majority, vote
from fnreg.evaluation.runner import EvalResult, TaskResult
from fnreg.llm import Usage

NUMERIC = evaluator_same(get_evaluator("numeric"))


@pytest.mark.parametrize(
    ("answers", "winner", "votes"),
    [
        (["\\boxed{2}", "\\boxed{3}", "\\boxed{2}"], 0, 2),
        (["\\boxed{3}", "\\boxed{2}", "\\boxed{2}"], 1, 2),
        (["\\boxed{0.75}", "3/4", "\\boxed{1}"], 0, 2),  # the evaluator's equality, not the text's
        (["\\boxed{1}", "\\boxed{2}"], 0, 1),  # a tie goes to the group sampled first
        (["\\boxed{2}", None, "", "\\boxed{5}", "\\boxed{5}"], 3, 2),  # no answer, no vote
        ([None, "  "], None, 0),
    ],
)
def test_majority(answers, winner, votes):
    outcome = majority(answers, NUMERIC)
    assert (outcome.winner, outcome.votes, outcome.samples) == (winner, votes, len(answers))


def _result(task: str, answer: str | None, gold: str, tokens: int) -> TaskResult:
    check = get_evaluator("numeric")
    correct = bool(answer) and check(answer, gold)
    conversation = Conversation([], answer, "answer", Usage(prompt_tokens=tokens, completion_tokens=1, calls=1))
    return TaskResult(task, task, gold, answer, correct, None if correct else "wrong_answer", conversation)


def test_vote_takes_the_majority_per_task_and_counts_every_samples_tokens():
    samples = [
        EvalResult([_result("a", "\\boxed{1}", "2", 10), _result("b", "\\boxed{7}", "7", 10)]),
        EvalResult([_result("a", "\\boxed{2}", "2", 20), _result("b", "\\boxed{8}", "7", 10)]),
        EvalResult([_result("a", "\\boxed{2}", "2", 30), _result("b", "\\boxed{8}", "7", 10)]),
    ]
    voted = vote(samples, get_evaluator("numeric"))
    assert [(r.task_id, r.answer, r.correct) for r in voted.results] == [
        ("a", "\\boxed{2}", True),
        ("b", "\\boxed{8}", False),  # the majority is wrong: the vote is wrong
    ]
    assert voted.meta["votes"] == {"a": [2, 3], "b": [2, 3]} and voted.meta["self_consistency"] == 3
    assert voted.usage.prompt_tokens == 90 and voted.usage.calls == 6
