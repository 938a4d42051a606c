"""Answer checkers: extraction, math/numeric/exact equality, timeouts, threads, custom specs."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fnreg.errors import FnregError, TaskSetError
from fnreg.evaluation.evaluators import (
    exact_equal,
    extract_final_answer,
    get_evaluator,
    math_equal,
    numeric_equal,
)


@pytest.mark.parametrize(
    ("response", "answer"),
    [
        ("So the result is \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
        ("First \\boxed{3}, on reflection \\boxed{\\sqrt{x^{2}+1}}", "\\sqrt{x^{2}+1}"),
        ("\\fbox{42}", "42"),
        ("$\\boxed 7$", "7"),
        ("Final Answer: The final answer is $5$. I hope it is correct.", "$5$"),
        ("**Final Answer:** 12 apples", "12 apples"),
        ("Therefore the answer is 3.5.", "3.5"),
        ("We get 2 groups and a share of 7/8", "7/8"),
        ("It costs 1,234.5 dollars in total", "1,234.5"),
        ("  blue  ", "blue"),
        # A reply cut off inside its box: the earlier complete box counts.
        ("\\boxed{4} ... so \\boxed{\\frac{1}{", "4"),
    ],
)
def test_extract_final_answer(response: str, answer: str) -> None:
    assert extract_final_answer(response) == answer


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        ("3*sqrt(2)", "3\\sqrt{2}"),  # a bare expression is not cut to its first number
        ("3\\sqrt{2}", "3*sqrt(2)"),
        ("\\frac{1}{2}", "0.5"),
        ("1/2", "0.5"),
        ("(3,-1)", "(3, -1)"),
        ("[0,3)", "[0,3)"),
        ("(-\\infty,3] \\cup [4,\\infty)", "(-\\infty, 3]\\cup[4, \\infty)"),
        ("x^2+2x+1", "(x+1)^2"),
        ("2^10", "1024"),  # plain text: 2^10 is not 2^1 times 0
        ("2**10", "1024"),
        ("pi/4", "\\frac{\\pi}{4}"),
        ("$9,473", "9473"),  # a lone $ is currency
        ("\\$23{,}000", "23000"),
        ("112,\\!875", "112875"),
        ("x = 5", "5"),
        ("7", "7.0"),  # gold floats as written by json
        ("0.0000672", "6.72e-05"),
        ("0.30000000000000004", "0.3"),  # float noise printed by Python
        ("\\dfrac{1}{29,\\!322,\\!216}", "\\frac{1}{29322216}"),
        ("2\\frac{1}{4}", "\\frac94"),
    ],
)
def test_math_equal_accepts_equal_values(prediction: str, gold: str) -> None:
    assert math_equal(prediction, gold)


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        ("3", "3*sqrt(2)"),
        ("(3,-2)", "(3, -1)"),
        ("[0,3]", "[0,3)"),
        ("\\frac{1}{3}", "0.5"),
        ("99940010", "99940009"),  # big integers are not compared as rounded floats
        ("0.0000673", "6.72e-05"),  # nor small decimals to 6 places
        ("\\dfrac{1}{29,\\!322,\\!217}", "\\frac{1}{29322216}"),
        ("", "5"),
        ("5", ""),
        ("banana", "5"),
    ],
)
def test_math_equal_rejects_different_values(prediction: str, gold: str) -> None:
    assert not math_equal(prediction, gold)


def test_pathological_answer_is_rejected_within_the_timeout_from_a_worker_thread() -> None:
    # sympy would compute 9^(9^9) for minutes; math-verify's SIGALRM timeout cannot run in a thread.
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        accepted = pool.submit(math_equal, "9^{9^{9}}", "1", timeout=1.0).result()
    assert not accepted
    assert time.monotonic() - start < 4.0
    # The stuck worker was replaced: the next check works.
    assert math_equal("\\frac{2}{4}", "0.5")


def test_memory_hungry_answer_is_rejected() -> None:
    start = time.monotonic()
    assert not math_equal("(1+x)^{1000000}-1", "x", timeout=2.0)
    assert time.monotonic() - start < 6.0


def test_evaluators_agree_across_threads() -> None:
    evaluator = get_evaluator("math")
    cases = [(f"\\boxed{{\\frac{{{n}}}{{{n + 1}}}}}", f"{n}/{n + 1}", True) for n in range(1, 40)]
    cases += [(f"The answer is \\boxed{{({n}, {n + 2})}}", f"({n},{n + 1})", False) for n in range(1, 40)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        verdicts = list(pool.map(lambda case: evaluator(case[0], case[1]), cases))
    assert verdicts == [expected for _, _, expected in cases]


@pytest.mark.parametrize(
    ("prediction", "gold", "equal"),
    [
        ("1,234.5", "1234.5", True),
        ("$3.50 per hour", "3.5", True),
        ("\\$1,028", "1028", True),
        ("-\\frac{3}{4}", "-0.75", True),
        ("\\dfrac{3}{4}", "0.75", True),
        ("3/4", "0.75", True),
        ("2\\frac{1}{4}", "2.25", True),
        ("50%", "50", True),
        ("5\\text{ cm}^2", "5", True),
        ("117^\\circ", "117", True),
        ("x = -5", "-5", True),
        ("0.33333", "0.333333", True),  # within the relative tolerance
        ("12", "13", False),
        ("10001", "10000", False),  # the tolerance never spans a whole unit of an integer
        ("13561.5", "13560.5", False),
        ("12 apples and 3 pears", "12", False),  # not one number
        ("-5", "5", False),
        ("", "5", False),
    ],
)
def test_numeric_equal(prediction: str, gold: str, equal: bool) -> None:
    assert numeric_equal(prediction, gold) is equal


@pytest.mark.parametrize(
    ("prediction", "gold", "equal"),
    [
        ("The Answer.", "the answer", True),
        ("\\text{(C)}", "C", True),
        ("  Yes ", "yes", True),
        ("New   York", "new york", True),
        ("no", "yes", False),
        ("", "", False),
    ],
)
def test_exact_equal(prediction: str, gold: str, equal: bool) -> None:
    assert exact_equal(prediction, gold) is equal


@pytest.mark.parametrize(
    ("spec", "response", "gold", "accepted"),
    [
        ("math", "so \\boxed{\\frac{6}{4}}", "1.5", True),
        ("numeric", "Final Answer: $1,200", "1200.0", True),
        ("numeric", "The answer is 1201.", "1200", False),
        ("exact", "The answer is Paris.", "paris", True),
    ],
)
def test_builtin_evaluators_extract_then_compare(spec: str, response: str, gold: str, accepted: bool) -> None:
    assert get_evaluator(spec)(response, gold) is accepted


@pytest.mark.parametrize("spec", ["math", "numeric", "exact"])
def test_a_float_gold_is_tolerated(spec: str) -> None:
    # Callers should pass Task.answer (a string), but a raw JSON float must not crash a run.
    assert get_evaluator(spec)("The answer is \\boxed{12}.", 12)  # type: ignore[arg-type]
    assert get_evaluator(spec)("The answer is \\boxed{0.5}.", 0.5)  # type: ignore[arg-type]


def _write_module(root: Path, package: str, source: str) -> None:
    (root / package).mkdir()
    (root / package / "__init__.py").write_text("")
    (root / package / "checks.py").write_text(source)


def test_custom_evaluator_from_search_path(tmp_path: Path) -> None:
    package = f"custom_{tmp_path.name.replace('-', '_')}"
    _write_module(tmp_path, package, "def last_word(response, gold):\n    return response.split()[-1] == gold\n")
    evaluator = get_evaluator(f"{package}.checks:last_word", search_path=tmp_path)
    assert evaluator("it is blue", "blue") is True
    assert evaluator("it is red", "blue") is False


@pytest.mark.parametrize(
    ("spec", "source", "message"),
    [
        ("nowhere_{id}.checks:f", None, "cannot import 'nowhere_{id}'; put 'nowhere_{id}.checks' in"),
        ("{package}.checks:missing", "def f(response, gold):\n    return True\n", "has no 'missing'; define it there"),
        ("{package}.checks:VALUE", "VALUE = 3\n", "'VALUE' is not a function"),
        (
            "{package}.checks:f",
            "raise RuntimeError('boom')\n",
            "importing '{package}.checks' failed: RuntimeError: boom",
        ),
        ("{package}.checks:f", "def f(:\n", "importing '{package}.checks' failed: SyntaxError"),
    ],
)
def test_custom_evaluator_errors_say_what_to_fix(tmp_path: Path, spec: str, source: str | None, message: str) -> None:
    package = f"custom_{tmp_path.name.replace('-', '_')}"
    names = {"package": package, "id": package}
    if source is not None:
        _write_module(tmp_path, package, source)
    with pytest.raises(TaskSetError) as excinfo:
        get_evaluator(spec.format(**names), search_path=tmp_path)
    assert message.format(**names) in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize("spec", ["fuzzy", "module.only", "a:b:c", ""])
def test_unknown_evaluator_names_the_choices(spec: str) -> None:
    with pytest.raises(TaskSetError, match=r"use math, numeric, exact or 'package\.module:function'"):
        get_evaluator(spec)


def test_custom_evaluator_errors_are_fnreg_errors() -> None:
    # The CLI prints FnregError messages; anything else would be a traceback.
    assert issubclass(TaskSetError, FnregError)


def test_import_does_not_leave_search_path_on_sys_path(tmp_path: Path) -> None:
    package = f"custom_{tmp_path.name.replace('-', '_')}"
    _write_module(tmp_path, package, "def f(response, gold):\n    return True\n")
    get_evaluator(f"{package}.checks:f", search_path=tmp_path)
    assert str(tmp_path) not in sys.path
