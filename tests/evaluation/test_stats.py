"""Intervals match known values: Wilson's for an accuracy, a paired bootstrap for a difference."""

from __future__ import annotations

import math

import pytest

from fnreg.evaluation.stats import mean_sd, paired_bootstrap_interval, pass_at_k, pass_hat_k, wilson_interval


@pytest.mark.parametrize(
    ("correct", "total", "low", "high"),
    [  # published Wilson 95% intervals (e.g. Newcombe 1998, Table I; R's binom.confint "wilson")
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (20, 20, 0.8389, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_interval_matches_published_values(correct: int, total: int, low: float, high: float):
    interval = wilson_interval(correct, total)
    assert interval.value == correct / total
    assert interval.low == pytest.approx(low, abs=5e-4) and interval.high == pytest.approx(high, abs=5e-4)


def test_wilson_interval_of_no_tasks_is_everything():
    interval = wilson_interval(0, 0)
    assert (interval.low, interval.high) == (0.0, 1.0)


def test_paired_bootstrap_of_identical_results_is_zero():
    same = [True, False, True, True] * 5
    assert paired_bootstrap_interval(same, same).as_points(signed=True) == "+0.0 pts [+0.0, +0.0]"


def test_paired_bootstrap_agrees_with_the_normal_approximation():
    # 40 tasks: 6 fixed, 2 broken, 32 unchanged; the difference is +10 points.
    base = [False] * 6 + [True] * 2 + [True] * 16 + [False] * 16
    head = [True] * 6 + [False] * 2 + [True] * 16 + [False] * 16
    interval = paired_bootstrap_interval(base, head)
    assert interval.value == pytest.approx(0.10)
    se = math.sqrt((0.2 - 0.01) / 40)
    assert interval.low == pytest.approx(0.10 - 1.96 * se, abs=0.03)
    assert interval.high == pytest.approx(0.10 + 1.96 * se, abs=0.03)
    assert paired_bootstrap_interval(base, head) == interval  # seeded: the same every time


def test_pairing_is_tighter_than_comparing_two_independent_accuracies():
    base = [True] * 20 + [False] * 20
    head = [True] * 22 + [False] * 18  # two more right, nothing broken
    paired = paired_bootstrap_interval(base, head)
    independent = 1.96 * math.sqrt(2 * 0.5 * 0.5 / 40)
    assert paired.high - paired.low < independent


def test_a_paired_comparison_needs_the_same_tasks():
    with pytest.raises(ValueError, match="same tasks"):
        paired_bootstrap_interval([True], [True, False])


@pytest.mark.parametrize(
    ("n", "c", "k", "at", "hat"),
    [  # by hand: pass@k = 1 - C(n-c, k) / C(n, k); pass^k = C(c, k) / C(n, k)
        (5, 2, 1, 0.4, 0.4),
        (5, 2, 2, 0.7, 0.1),
        (5, 0, 3, 0.0, 0.0),
        (5, 5, 5, 1.0, 1.0),
        (3, 1, 3, 1.0, 0.0),
        (10, 3, 2, 1 - 21 / 45, 3 / 45),
    ],
)
def test_pass_at_k_and_pass_hat_k(n, c, k, at, hat):
    assert pass_at_k(n, c, k) == pytest.approx(at) and pass_hat_k(n, c, k) == pytest.approx(hat)


def test_pass_at_k_refuses_impossible_counts():
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(3, 1, 4)


def test_mean_sd():
    assert mean_sd([0.5, 0.6, 0.7]) == pytest.approx((0.6, 0.1))
    assert mean_sd([0.4]) == (0.4, 0.0) and mean_sd([]) == (0.0, 0.0)


def test_paired_bootstrap_of_shares_agrees_with_the_normal_approximation():
    # 40 tasks over 4 repeats: head passes each task a quarter more often on 16 of them.
    base = [0.25] * 16 + [0.5] * 24
    head = [0.5] * 16 + [0.5] * 24
    interval = paired_bootstrap_interval(base, head)
    differences = [h - b for b, h in zip(base, head)]
    mean = sum(differences) / 40
    se = math.sqrt(sum((d - mean) ** 2 for d in differences) / 40 / 40)
    assert interval.value == pytest.approx(0.10)
    assert interval.low == pytest.approx(mean - 1.96 * se, abs=0.01)
    assert interval.high == pytest.approx(mean + 1.96 * se, abs=0.01)
    assert paired_bootstrap_interval(base, head) == interval  # seeded


def test_paired_bootstrap_of_whole_shares_is_the_verdict_bootstrap():
    base = [0.0] * 6 + [1.0] * 34
    head = [1.0] * 6 + [1.0] * 34
    assert paired_bootstrap_interval(base, head) == paired_bootstrap_interval(
        [b == 1.0 for b in base], [h == 1.0 for h in head]
    )
