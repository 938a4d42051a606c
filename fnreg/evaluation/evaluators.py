"""Answer checkers: does a model's final response match the gold answer?

An :data:`Evaluator` takes the model's final response text and the gold answer (a string)
and says whether the answer is accepted. :func:`get_evaluator` maps a task set's
``evaluator`` setting to one:

- ``math``: math-verify (LaTeX and plain expressions, fractions, intervals, tuples, sets),
  with a numeric fallback where math-verify cannot parse.
- ``numeric``: one number, units, ``%``, ``$`` and thousands separators ignored.
- ``exact``: normalised string equality.
- ``package.module:function``: any callable ``(response, gold) -> bool``.

Evaluators are thread-safe. The work is split by concern: :mod:`.extraction` finds the final
answer, :mod:`.comparison` compares it with the gold one, :mod:`.math_pool` bounds
math-verify in worker processes, :mod:`.lookup` maps a setting to an evaluator. This module
is their public face.
"""

from fnreg.evaluation.comparison import exact_equal, math_equal, numeric_equal
from fnreg.evaluation.extraction import extract_final_answer
from fnreg.evaluation.lookup import BUILTIN_EVALUATORS, Evaluator, check_evaluator_spec, get_evaluator
from fnreg.evaluation.math_pool import DEFAULT_TIMEOUT, EvaluatorError

__all__ = [
    "BUILTIN_EVALUATORS",
    "DEFAULT_TIMEOUT",
    "Evaluator",
    "EvaluatorError",
    "check_evaluator_spec",
    "exact_equal",
    "extract_final_answer",
    "get_evaluator",
    "math_equal",
    "numeric_equal",
]
