"""The same tasks evaluated several times: every repeat's score, mean ± sd, pass@k and pass^k.

One evaluation of 20 to 100 tasks says little about a model that answers differently from one
run to the next (an endpoint at temperature 0 is not always deterministic, and sampling at
temperature > 0 never is). Repeats show that spread; pass@k (at least one of k attempts passes)
and pass^k (all k pass) say how reliable each task is. Both use the unbiased estimators over the
``n`` attempts made, so k runs from 1 to n.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fnreg.errors import FnregError
from fnreg.evaluation.runner import EvalResult, TaskResult
from fnreg.evaluation.stats import Interval, mean_sd, pass_at_k, pass_hat_k, wilson_interval
from fnreg.llm import Usage


@dataclass(frozen=True)
class TaskRepeats:
    """How one task did over the repeats."""

    task_id: str
    passed: int
    attempts: int

    @property
    def share(self) -> float:
        return self.passed / self.attempts if self.attempts else 0.0

    def to_json(self) -> dict[str, Any]:
        n = self.attempts
        return {
            "task_id": self.task_id,
            "passed": self.passed,
            "attempts": n,
            f"pass@{n}": pass_at_k(n, self.passed, n),
            f"pass^{n}": pass_hat_k(n, self.passed, n),
        }


@dataclass
class Repeats:
    """``runs[i]``: repeat ``i`` of one evaluation, every run on the same tasks, in task order."""

    runs: list[EvalResult]

    def __post_init__(self) -> None:
        if not self.runs:
            raise FnregError("repeats need at least one evaluation")
        ids = sorted(r.task_id for r in self.runs[0].results)
        if any(sorted(r.task_id for r in run.results) != ids for run in self.runs[1:]):
            raise FnregError("every repeat must cover the same tasks")

    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def scores(self) -> list[float]:
        return [run.score for run in self.runs]

    @property
    def mean(self) -> float:
        return mean_sd(self.scores)[0]

    @property
    def sd(self) -> float:
        return mean_sd(self.scores)[1]

    @property
    def tasks(self) -> list[TaskRepeats]:
        """Per task, in the first run's order: how many of the repeats passed."""
        passed: dict[str, int] = {r.task_id: 0 for r in self.runs[0].results}
        for run in self.runs:
            for result in run.results:
                passed[result.task_id] += result.correct
        return [TaskRepeats(task_id, count, self.n) for task_id, count in passed.items()]

    @property
    def shares(self) -> list[float]:
        """Each task's share of passed repeats (its accuracy over the repeats), in task order."""
        return [task.share for task in self.tasks]

    def pass_at(self, k: int) -> float:
        """pass@k averaged over the tasks."""
        tasks = self.tasks
        return sum(pass_at_k(self.n, t.passed, k) for t in tasks) / len(tasks) if tasks else 0.0

    def pass_hat(self, k: int) -> float:
        """pass^k averaged over the tasks."""
        tasks = self.tasks
        return sum(pass_hat_k(self.n, t.passed, k) for t in tasks) / len(tasks) if tasks else 0.0

    @property
    def pooled(self) -> Interval:
        """The accuracy over every attempt, with the Wilson interval of all of them together."""
        correct = sum(run.correct for run in self.runs)
        return wilson_interval(correct, sum(run.total for run in self.runs))

    @property
    def usage(self) -> Usage:
        return sum((run.usage for run in self.runs), Usage())

    def summary(self) -> dict[str, Any]:
        tasks = self.tasks
        return {
            "repeats": self.n,
            "scores": self.scores,
            "mean": self.mean,
            "sd": self.sd,
            "wilson": [wilson_interval(run.correct, run.total).__dict__ for run in self.runs],
            "pass_at_k": {str(k): self.pass_at(k) for k in range(1, self.n + 1)},
            "pass_hat_k": {str(k): self.pass_hat(k) for k in range(1, self.n + 1)},
            "always_passed": sum(t.passed == self.n for t in tasks),
            "never_passed": sum(t.passed == 0 for t in tasks),
            "tasks": [t.to_json() for t in tasks],
            "usage": self.usage.to_json(),
        }

    def to_json(self) -> dict[str, Any]:
        return {"kind": "repeats", "summary": self.summary(), "runs": [run.to_json() for run in self.runs]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Repeats:
        return cls([EvalResult.from_json(run) for run in data["runs"]])


def collect(
    finished: Iterable[tuple[int, TaskResult]], order: list[str], repeats: int, **meta: Any
) -> list[EvalResult]:
    """Results as :meth:`TaskSetAdapter.evaluate_repeats` yields them, as one EvalResult per repeat in task order."""
    position = {task_id: i for i, task_id in enumerate(order)}
    runs: list[list[TaskResult]] = [[] for _ in range(repeats)]
    for repeat, result in finished:
        runs[repeat].append(result)
    return [
        EvalResult(
            sorted(results, key=lambda r: position[r.task_id]), meta={**meta, **({"repeat": i} if repeats > 1 else {})}
        )
        for i, results in enumerate(runs)
    ]
