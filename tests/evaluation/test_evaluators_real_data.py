"""The evaluators on the paper's real gold answers (../shared/datasets; skipped when absent).

Every row of every file is checked (about 13,500 rows, 27,000 checks, ~20 s on 2 cores): the
gold presented as ``The answer is \\boxed{<gold>}.`` must be accepted and a perturbed answer
(number + 1, a digit changed, ``+1`` appended) rejected, each for at least 99% of rows.
``bench/check_evaluators.py`` prints the same figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.evaluation.realdata import check_file, perturb

CATEGORIES = ["algebra", "counting_and_probability", "intermediate_algebra", "number_theory", "prealgebra"]
MIN_RATE = 0.99

CASES = [(f"math/{c}.train.jsonl", "math") for c in CATEGORIES]  # LaTeX gold answers
CASES += [(f"math/{c}.test.jsonl", e) for c in CATEGORIES for e in ("math", "numeric")]  # numeric golds
CASES += [("tabmwp/tabmwp_1000.jsonl", e) for e in ("math", "numeric")]


@pytest.mark.slow
@pytest.mark.parametrize(("relative", "evaluator"), CASES, ids=[f"{r}-{e}" for r, e in CASES])
def test_gold_accepted_and_perturbed_rejected(shared_datasets: Path, relative: str, evaluator: str) -> None:
    result = check_file(shared_datasets / relative, evaluator)
    summary = (
        f"{relative} [{evaluator}]: accepted {result.accept_rate:.2%}, rejected {result.reject_rate:.2%} "
        f"of {result.rows} rows; {result.failure_patterns()}"
    )
    assert result.accept_rate >= MIN_RATE, summary
    assert result.reject_rate >= MIN_RATE, summary


@pytest.mark.parametrize(
    ("gold", "perturbed"),
    [
        ("12", "13"),
        ("-3", "-2"),
        ("0.43", "1.43"),
        ("\\frac{1}{2}", "\\frac{1}{3}"),
        ("(3, -1)", "(3, -2)"),
        ("1011100_2", "1011101_2"),  # the base is not the digit to change
        ("1323_{4}", "1324_{4}"),
        ("\\text{H, E}", "\\text{H, E}+1"),
        ("x^2 - x - 9", "x^2 - x - 8"),
    ],
)
def test_perturbation_changes_the_value(gold: str, perturbed: str) -> None:
    assert perturb(gold) == perturbed
