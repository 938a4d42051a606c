"""Which evaluator a task set names: ``math``, ``numeric``, ``exact`` or ``package.module:function``."""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from fnreg.errors import TaskSetError
from fnreg.evaluation.comparison import exact_equal, math_equal, numeric_equal
from fnreg.evaluation.extraction import extract_final_answer

__all__ = ["BUILTIN_EVALUATORS", "Evaluator", "check_evaluator_spec", "get_evaluator"]

Evaluator = Callable[[str, str], bool]
"""(model's final response text, gold answer) -> accepted."""

BUILTIN_EVALUATORS = ("math", "numeric", "exact")


def _math_evaluator(response: str, gold: str) -> bool:
    return math_equal(extract_final_answer(response), gold)


def _numeric_evaluator(response: str, gold: str) -> bool:
    return numeric_equal(extract_final_answer(response), gold)


def _exact_evaluator(response: str, gold: str) -> bool:
    return exact_equal(extract_final_answer(response), gold)


_BUILTIN: dict[str, Evaluator] = {
    "math": _math_evaluator,
    "numeric": _numeric_evaluator,
    "exact": _exact_evaluator,
}
_CUSTOM_SPEC = re.compile(r"^(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):(?P<function>[A-Za-z_]\w*)$")
_import_lock = threading.Lock()


def check_evaluator_spec(spec: str) -> str | None:
    """Why ``spec`` is not a valid evaluator setting, or None if it is (nothing is imported)."""
    if spec in _BUILTIN or _CUSTOM_SPEC.match(spec):
        return None
    return f"unknown evaluator {spec!r}; use math, numeric, exact or 'package.module:function'"


def get_evaluator(spec: str, *, search_path: Path | None = None) -> Evaluator:
    """The evaluator a task set names: ``math``, ``numeric``, ``exact`` or ``package.module:function``.

    A custom module is imported from ``search_path`` (e.g. the repository root) or sys.path.
    """
    if spec in _BUILTIN:
        return _BUILTIN[spec]
    problem = check_evaluator_spec(spec)
    if problem:
        raise TaskSetError(problem)
    match = _CUSTOM_SPEC.match(spec)
    assert match is not None
    module = _import_module(spec, match["module"], search_path)
    function = getattr(module, match["function"], None)
    if function is None:
        raise TaskSetError(
            f"evaluator {spec!r}: module {match['module']!r} has no {match['function']!r}; "
            "define it there or fix the name after ':'"
        )
    if not callable(function):
        raise TaskSetError(
            f"evaluator {spec!r}: {match['function']!r} is not a function; it must take (response, gold)"
        )
    _check_signature(spec, function)
    return _as_bool(spec, function)


def _check_signature(spec: str, function: Callable[..., object]) -> None:
    """Refuse, before anything is spent, a callable that cannot be called as ``(response, gold)``."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # some builtins have no signature: judged when called
        return
    try:
        signature.bind("response", "gold")
    except TypeError:
        raise TaskSetError(
            f"evaluator {spec!r} takes {signature}, but an evaluator is called as (response, gold) "
            "and returns whether the answer is right; point evaluator at such a function"
        ) from None


def _import_module(spec: str, name: str, search_path: Path | None) -> object:
    with _import_lock:  # sys.path is process-wide
        added = search_path is not None and str(search_path) not in sys.path
        if added:
            sys.path.insert(0, str(search_path))
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            where = f"{search_path} or " if search_path is not None else ""
            raise TaskSetError(
                f"evaluator {spec!r}: cannot import {exc.name or name!r}; put {name!r} in {where}the Python path"
            ) from exc
        except Exception as exc:  # a bug in the user's module
            raise TaskSetError(f"evaluator {spec!r}: importing {name!r} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            if added:
                sys.path.remove(str(search_path))


def _as_bool(spec: str, function: Callable[[str, str], object]) -> Evaluator:
    @functools.wraps(function)
    def evaluator(response: str, gold: str) -> bool:
        try:
            return bool(function(response, gold))
        except Exception as exc:  # a bug in the user's evaluator: one line, not a traceback
            detail = " ".join(str(exc).split())[:200]
            raise TaskSetError(
                f"evaluator {spec!r} failed on gold answer {gold[:40]!r}: {type(exc).__name__}: {detail}; fix the evaluator"
            ) from exc

    return evaluator
