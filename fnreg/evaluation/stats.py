"""How sure a score is: Wilson intervals for an accuracy, a paired bootstrap for a difference,
and what repeating an evaluation shows (mean ± sd, pass@k, pass^k).

With 20 to 100 tasks an accuracy moves in steps of 1 to 5 points, so a change is worth
reporting only with its interval. Both toolsets of a comparison answer the *same* tasks, so
their difference is judged per task (paired), which is far tighter than comparing two
independent accuracies.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95% interval, all as fractions (0.25 = 25%)."""

    value: float
    low: float
    high: float

    def as_points(self, signed: bool = False) -> str:
        """``+5.0 pts [−2.5, +12.5]`` for a difference; ``55.0% [34.2%, 74.2%]`` for an accuracy."""
        if signed:
            return f"{self.value * 100:+.1f} pts [{self.low * 100:+.1f}, {self.high * 100:+.1f}]"
        return f"{self.value * 100:.1f}% [{self.low * 100:.1f}%, {self.high * 100:.1f}%]"


def wilson_interval(correct: int, total: int, z: float = Z_95) -> Interval:
    """The Wilson score interval of ``correct`` successes in ``total`` trials."""
    if total <= 0:
        return Interval(0.0, 0.0, 1.0)
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def paired_bootstrap_interval(
    base: Sequence[bool] | Sequence[float],
    head: Sequence[bool] | Sequence[float],
    *,
    samples: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """The difference of accuracy ``head − base`` over the same tasks, with a paired bootstrap interval.

    Resampling tasks with replacement keeps each task's pair together. A task's value is its
    verdict (True/False) or, over repeats, the share of repeats it passed. With verdicts only
    three kinds of task matter (fixed, broken, unchanged), so each resample is one multinomial
    draw. Seeded: the same results always give the same interval.
    """
    if len(base) != len(head):
        raise ValueError("a paired comparison needs the same tasks on both sides")
    n = len(base)
    if n == 0:
        return Interval(0.0, 0.0, 0.0)
    if any(float(v) not in (0.0, 1.0) for v in [*base, *head]):
        return _bootstrap_shares(base, head, samples=samples, seed=seed, level=level)
    fixed = sum(1 for b, h in zip(base, head) if h and not b)
    broken = sum(1 for b, h in zip(base, head) if b and not h)
    draws = np.random.default_rng(seed).multinomial(n, [fixed / n, broken / n, (n - fixed - broken) / n], samples)
    differences = (draws[:, 0] - draws[:, 1]) / n
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return Interval((fixed - broken) / n, float(low), float(high))


def _bootstrap_shares(
    base: Sequence[float], head: Sequence[float], *, samples: int, seed: int, level: float
) -> Interval:
    differences = np.asarray(head, dtype=float) - np.asarray(base, dtype=float)
    n = len(differences)
    rng = np.random.default_rng(seed)
    means = np.empty(samples)
    for start in range(0, samples, 1_000):  # bounded memory for large task sets
        stop = min(samples, start + 1_000)
        means[start:stop] = differences[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(differences.mean()), float(low), float(high))


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for fewer than two values)."""
    if not values:
        return 0.0, 0.0
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` of the ``n`` attempts passes, given ``c`` passed (unbiased)."""
    _check_k(n, c, k)
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k: probability that all of ``k`` of the ``n`` attempts pass, given ``c`` passed (unbiased)."""
    _check_k(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


def _check_k(n: int, c: int, k: int) -> None:
    if not (1 <= k <= n and 0 <= c <= n):
        raise ValueError(f"need 1 <= k <= n and 0 <= c <= n, got n={n}, c={c}, k={k}")
