"""Comparing an answer with the gold answer: the same number, the same text, the same mathematics.

``math_equal`` runs math-verify (with its timeouts off) in the worker processes of
:mod:`~fnreg.evaluation.math_pool`, which bound the time and memory a pathological answer
(``9^{9^{9}}``) may take; plain numbers are compared here, without a round trip.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import NamedTuple

from fnreg.evaluation.extraction import last_boxed
from fnreg.evaluation.math_pool import DEFAULT_TIMEOUT, verify

__all__ = ["DEFAULT_TIMEOUT", "exact_equal", "math_equal", "numeric_equal"]

# Two decimals that should be equal may differ by float noise (0.30000000000000004 printed by Python).
_FLOAT_NOISE = 1e-9
_MAX_EXPONENT = 400
_MAX_NUMERIC_ANSWER = 200


# --------------------------------------------------------------------------- numeric

_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?\.\d+(?:[eE][-+]?\d+)?")
_TEXT_COMMANDS = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_LATEX_NOISE = [
    (re.compile(r"\\[!,;: ]|\\quad|\\qquad|\\left|\\right|\\displaystyle"), ""),
    (re.compile(r"\{,\}"), ","),
    (re.compile(r"\\[dt]frac"), r"\\frac"),
    (re.compile(r"\^\s*\{?\\circ\}?|°|\\circ|\\degree"), ""),
    (re.compile(r"\\%"), "%"),
    (re.compile(r"\\\$|\$|€|£|¥|\\\(|\\\)|\\\[|\\\]"), ""),
    (re.compile(r"−"), "-"),
]
_ASSIGNMENT = re.compile(r"^[A-Za-z]\w*\s*(?:=|≈|\\approx)\s*")
_DECIMAL = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?"
_FRAC_ARG = rf"\{{\s*[-+]?\s*(?:{_DECIMAL})\s*\}}|\d"
_NUMERIC = re.compile(
    rf"""^(?P<sign>[-+]?)\s*
    (?:
        (?P<whole>\d+)?\s*\\frac\s*(?P<fnum>{_FRAC_ARG})\s*(?P<fden>{_FRAC_ARG})   # \frac{3}{4}, 2\frac{1}{4}
      | (?P<num>{_DECIMAL})\s*(?:/\s*(?P<den>{_DECIMAL}))?                         # 1,234.5  3/4
    )
    \s*(?P<unit>%|[A-Za-z][A-Za-z\s./\-]*(?:\^\s*\{{?\d\}}?|[²³])?)?\s*\.?$""",
    re.X,
)


class _Number(NamedTuple):
    value: Fraction  # exact, so 1/29322216 and 1/29322217 differ
    places: int | None  # decimals as written (0 for 12); None for fractions and exponents


def numeric_equal(prediction: str, gold: str, *, rel_tol: float = 1e-4, abs_tol: float = 1e-6) -> bool:
    """Whether two answers state the same number (units, %, $, commas and LaTeX ignored).

    The tolerances absorb rounding, but never span more than half a unit in the last decimal
    place of the less precise of the two: a relative tolerance alone would accept 10001 for 10000.
    """
    predicted, expected = _to_number(str(prediction)), _to_number(str(gold))
    if predicted is None or expected is None:
        return False
    if predicted.value == expected.value:
        return True
    if not math.isclose(float(predicted.value), float(expected.value), rel_tol=rel_tol, abs_tol=abs_tol):
        return False
    places = [p for p in (predicted.places, expected.places) if p is not None]
    return not places or abs(predicted.value - expected.value) < Fraction(1, 2 * 10 ** min(places))


@functools.lru_cache(maxsize=65536)
def _to_number(text: str) -> _Number | None:
    """The number an answer states, or None when it is not exactly one number."""
    text = text.strip()
    if len(text) > _MAX_NUMERIC_ANSWER:  # one number and a unit; also keeps regex backtracking small
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        text = boxed
    text = _TEXT_COMMANDS.sub(r" \1", text)
    for pattern, replacement in _LATEX_NOISE:
        text = pattern.sub(replacement, text)
    text = _ASSIGNMENT.sub("", text.strip())
    match = _NUMERIC.match(text.strip())
    if not match:
        return None
    try:
        number = _numeric_value(match)
    except (InvalidOperation, ZeroDivisionError, OverflowError, ValueError):
        return None
    return number._replace(value=-number.value) if match["sign"] == "-" else number


def _numeric_value(match: re.Match[str]) -> _Number:
    if match["fnum"] is not None:
        fraction = _fraction(match["fnum"]) / _fraction(match["fden"])
        whole = _fraction(match["whole"]) if match["whole"] else Fraction(0)
        return _Number(whole + fraction, None)  # 2\frac{1}{4} is a mixed number
    if match["den"] is not None:
        return _Number(_fraction(match["num"]) / _fraction(match["den"]), None)
    return _Number(_fraction(match["num"]), _places(match["num"]))


def _fraction(text: str) -> Fraction:
    number = Decimal(text.strip("{} ").replace(",", "").replace(" ", ""))
    if abs(number.as_tuple().exponent) > _MAX_EXPONENT:  # type: ignore[arg-type]
        raise ValueError("exponent too large")  # 1e999999999 would take forever to make exact
    return Fraction(number)


def _places(text: str) -> int | None:
    if "e" in text.lower():
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


_OUTER_PUNCTUATION = " \t\n.,;:!?\"'`*"


def exact_equal(prediction: str, gold: str) -> bool:
    """Whether two answers are the same text, ignoring case, spacing, outer punctuation, LaTeX text."""
    predicted, expected = _normalise_text(str(prediction)), _normalise_text(str(gold))
    return bool(expected) and predicted == expected


def _normalise_text(text: str) -> str:
    boxed = last_boxed(text)
    if boxed is not None:
        text = boxed
    text = _TEXT_COMMANDS.sub(r"\1", text)
    text = re.sub(r"(?<!\\)\$|\\\(|\\\)", "", text)
    text = " ".join(text.lower().split()).strip(_OUTER_PUNCTUATION)
    if text.startswith("(") and text.endswith(")") and "(" not in text[1:-1] and ")" not in text[1:-1]:
        text = text[1:-1].strip(_OUTER_PUNCTUATION)  # "(C)" is "C"
    return text


# --------------------------------------------------------------------------- math

_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
_HAS_MATH_MARKUP = re.compile(r"\\boxed|\\fbox|\\\(|\\\[")
_EXPONENT_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE](?P<exp>[-+]?\d+)")
# Plain-text maths that LaTeX reads differently: 2^10 is 2^1 times 0, pi is p times i.
_PLAIN_TO_LATEX = [
    (re.compile(r"\*\*\s*(\([^()]*\)|-?[\w.]+)"), r"^{\1}"),
    (re.compile(r"\^\s*(\([^()]*\)|-?\d+(?:\.\d+)?)"), r"^{\1}"),
    (re.compile(r"(?<=[\d)])\s+(?=sqrt\()"), "*"),  # "3 sqrt(2)"
    (re.compile(r"\b(pi|exp|log|ln|sin|cos|tan|infty)\b"), r"\\\1"),
    (re.compile(r"\boo\b|\binf(?:inity)?\b"), r"\\infty"),
]


def math_equal(prediction: str, gold: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Whether a predicted answer equals the gold answer mathematically (math-verify).

    Both are answer strings (LaTeX, with or without ``$``, or plain expressions such as
    ``3*sqrt(2)``). Anything that takes longer than ``timeout`` seconds is rejected.
    """
    predicted, expected = _as_math(prediction), _as_math(gold)
    if not predicted or not expected:
        return False
    fast = _plain_numbers_equal(predicted, expected)
    if fast is not None:
        return fast
    accepted, parsed = _verify_cached(_wrap(expected), _wrap(predicted), timeout)
    if accepted:
        return True
    # math-verify found no expression on one side (a unit it does not know, odd markup).
    return not parsed and numeric_equal(prediction, gold, rel_tol=_FLOAT_NOISE, abs_tol=0.0)


def _as_math(text: str) -> str:
    text = str(text).strip()
    exponent = _EXPONENT_NUMBER.fullmatch(text)
    if exponent and abs(int(exponent["exp"])) <= _MAX_EXPONENT:
        # 6.72e-05 in LaTeX is 6.72 e - 5; write the gold float out in positional form.
        text = format(Decimal(text), "f")
    return text


def _plain_numbers_equal(prediction: str, gold: str) -> bool | None:
    """Compare two plain decimals without a round trip to math-verify; None if either is not one."""
    if not (_PLAIN_NUMBER.fullmatch(prediction) and _PLAIN_NUMBER.fullmatch(gold)):
        return None
    # Unlike math-verify, which rounds floats to 6 decimals (accepting 6.73e-05 for 6.72e-05),
    # only float noise is forgiven.
    return numeric_equal(prediction, gold, rel_tol=_FLOAT_NOISE, abs_tol=0.0)


def _wrap(text: str) -> str:
    """Make ``text`` something math-verify parses whole (a bare ``3*sqrt(2)`` parses as 3)."""
    dollars = len(_UNESCAPED_DOLLAR.findall(text))
    if dollars >= 2 and dollars % 2 == 0 or _HAS_MATH_MARKUP.search(text):
        return text
    text = _UNESCAPED_DOLLAR.sub(r"\\$", text)  # a lone $ is currency: "$9,473"
    if "\\" not in text.replace("\\$", ""):
        for pattern, replacement in _PLAIN_TO_LATEX:
            text = pattern.sub(replacement, text)
    return f"${text}$"


_verdicts: dict[tuple[str, str], tuple[bool, bool]] = {}
_verdicts_lock = threading.Lock()
_MAX_VERDICTS = 100_000


def _verify_cached(gold: str, prediction: str, timeout: float) -> tuple[bool, bool]:
    # Re-evaluating the best toolset on a batch repeats many checks. Timeouts are not cached:
    # a busy machine should not turn a right answer into a permanent wrong one.
    key = (gold, prediction)
    with _verdicts_lock:
        if key in _verdicts:
            return _verdicts[key]
    verdict = verify(gold, prediction, timeout)
    if verdict is not None:
        with _verdicts_lock:
            if len(_verdicts) >= _MAX_VERDICTS:
                _verdicts.clear()
            _verdicts[key] = verdict
    return verdict or (False, True)
