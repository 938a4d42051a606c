"""How sure a score is: Wilson intervals for an accuracy, a paired bootstrap for a difference.

With 20 to 100 tasks an accuracy moves in steps of 1 to 5 points, so a change is worth
reporting only with its interval. Both toolsets of a comparison answer the *same* tasks, so
their difference is judged per task (paired), which is far tighter than comparing two
independent accuracies.
"""

from __future__ import annotations

import math
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
    base: Sequence[bool], head: Sequence[bool], *, samples: int = 10_000, seed: int = 0, level: float = 0.95
) -> Interval:
    """The difference of accuracy ``head − base`` over the same tasks, with a paired bootstrap interval.

    Resampling tasks with replacement keeps each task's pair together. Only three kinds of
    task matter (fixed, broken, unchanged), so each resample is one multinomial draw.
    Seeded: the same results always give the same interval.
    """
    if len(base) != len(head):
        raise ValueError("a paired comparison needs the same tasks on both sides")
    n = len(base)
    if n == 0:
        return Interval(0.0, 0.0, 0.0)
    fixed = sum(1 for b, h in zip(base, head) if h and not b)
    broken = sum(1 for b, h in zip(base, head) if b and not h)
    draws = np.random.default_rng(seed).multinomial(n, [fixed / n, broken / n, (n - fixed - broken) / n], samples)
    differences = (draws[:, 0] - draws[:, 1]) / n
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return Interval((fixed - broken) / n, float(low), float(high))
