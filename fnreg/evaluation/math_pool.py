"""math-verify answer checks, bounded in time and memory, on the sandbox's pool.

math-verify's own timeouts use SIGALRM, which only works in the main thread, and sympy can
hang or eat gigabytes on answers such as ``9^{9^{9}}``. The checks are trusted code, but the
answers are an LLM's, so they run where learned code runs: in a :class:`~fnreg.sandbox.Sandbox`
(fnreg's one worker pool) whose zygote imported math-verify once. The sandbox's wall clock, CPU
and memory limits bound each check: one that overruns is killed with its process and the
next check gets a new fork, so a pathological answer costs about ``timeout`` seconds and is
rejected.

The checker's sessions are long-lived: the checks are fnreg's own code, so they need no fresh
state, and a warm process answers in a few milliseconds where a fork per check would pay for
namespaces and for math-verify's first parse (about 100 ms) every time.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import threading
from collections import deque
from pathlib import Path
from typing import Any

from fnreg.errors import FnregError, SandboxError

__all__ = ["DEFAULT_TIMEOUT", "EvaluatorError", "verify"]

DEFAULT_TIMEOUT = 5.0
#: Address space of a check's process.
CHECK_MEMORY_LIMIT = 2 * 1024**3
#: The package the checker lives in, inside its own sandbox root (nothing else is there).
PACKAGE, TOOLSET, FUNCTION = "fnreg_checks", "math", "verify_answer"

# The module the sandbox imports; it depends on math-verify only. Its timeouts are off
# (they need SIGALRM): the sandbox's wall clock and CPU limit bound the check instead.
_CHECKER_SOURCE = '''\
"""math-verify on one gold answer and one prediction (run by fnreg's sandbox)."""

import logging

from math_verify import parse, verify

logging.disable(logging.CRITICAL)


def _parsed(items):
    return any(not isinstance(item, str) for item in items)


def verify_answer(gold: str, prediction: str) -> dict:
    """{"ok": accepted, "parsed": both sides parsed}; an exception is a wrong answer."""
    try:
        parsed_gold = parse(gold, parsing_timeout=None)
        parsed_prediction = parse(prediction, parsing_timeout=None)
        ok = bool(verify(parsed_gold, parsed_prediction, timeout_seconds=None))
    except Exception:  # MemoryError, RecursionError in sympy: a wrong answer, not a dead checker
        return {"ok": False, "parsed": True}
    return {"ok": ok, "parsed": _parsed(parsed_gold) and _parsed(parsed_prediction)}
'''


class EvaluatorError(FnregError):
    """The answer checker itself failed (not a wrong answer)."""


class _Checker:
    """A sandbox for checks with one time bound, and its open sessions (one per concurrent check)."""

    def __init__(self, timeout: float, size: int) -> None:
        from fnreg.sandbox import Limits, Sandbox
        from fnreg.sandbox.scratch import remove_scratch, scratch_directory

        self._remove = remove_scratch
        self.folder = scratch_directory("stage")
        try:
            _write_checker(self.folder)
            limits = Limits(
                wall_seconds=timeout, cpu_seconds=timeout + 1, memory_bytes=CHECK_MEMORY_LIMIT, output_chars=2_000
            )
            self.sandbox = Sandbox(
                self.folder, package=PACKAGE, toolset=TOOLSET, limits=limits, size=size, preload=["math_verify"]
            )
        except SandboxError as exc:
            self._remove(self.folder)
            raise EvaluatorError(f"the math answer checker could not start: {exc}") from None
        except BaseException:
            self._remove(self.folder)
            raise
        self._size = size
        self._opened = 0
        self._idle: deque[tuple[contextlib.AbstractContextManager[Any], Any]] = deque()
        self._available = threading.Condition()

    def verify(self, gold: str, prediction: str) -> tuple[bool, bool] | None:
        """(accepted, both parsed), or None if the check overran the time bound."""
        opened = self._take()
        try:
            result = opened[1].call_function(FUNCTION, {"gold": gold, "prediction": prediction})
        except BaseException:
            self._discard(opened)  # interrupted mid-check: its state is unknown
            raise
        with self._available:
            self._idle.append(opened)  # after a timeout too: its next call gets a fresh process
            self._available.notify()
        if result.ok:
            try:
                reply = json.loads(result.value or "")
                return bool(reply["ok"]), bool(reply["parsed"])
            except (ValueError, KeyError, TypeError):
                return False, True
        if (result.error or "").startswith("TimeoutError"):
            return None
        return False, True  # a crash (segfault, CPU or memory limit) on this answer: rejected

    def _take(self) -> tuple[contextlib.AbstractContextManager[Any], Any]:
        """An open session: an idle one, a new one while fewer than ``size`` are open, else wait."""
        with self._available:
            self._available.wait_for(lambda: self._idle or self._opened < self._size)
            if self._idle:
                return self._idle.popleft()
            self._opened += 1
        try:
            context = self.sandbox.session()
            return context, context.__enter__()
        except BaseException:
            with self._available:
                self._opened -= 1
                self._available.notify()
            raise

    def _discard(self, opened: tuple[contextlib.AbstractContextManager[Any], Any]) -> None:
        with contextlib.suppress(Exception):
            opened[0].__exit__(None, None, None)
        with self._available:
            self._opened -= 1
            self._available.notify()

    def close(self) -> None:
        with self._available:
            opened, self._idle = list(self._idle), deque()
        for context, _ in opened:
            with contextlib.suppress(Exception):
                context.__exit__(None, None, None)
        self.sandbox.close()
        self._remove(self.folder)


def _write_checker(folder: Path) -> None:
    module = folder / PACKAGE / TOOLSET / f"{FUNCTION}.py"
    module.parent.mkdir(parents=True)
    for init in (folder / PACKAGE / "__init__.py", module.parent / "__init__.py"):
        init.write_text("")
    module.write_text(_CHECKER_SOURCE)
    for path in [folder, *folder.rglob("*")]:  # the sandbox may run checks as another uid
        path.chmod(0o755 if path.is_dir() else 0o644)


_lock = threading.Lock()
_checkers: dict[float, _Checker] = {}


def _checker(timeout: float) -> _Checker:
    with _lock:
        checker = _checkers.get(timeout)
        if checker is None:
            checker = _checkers[timeout] = _Checker(timeout, size=max(1, min(4, os.cpu_count() or 1)))
            # Registered after the Sandbox (atexit runs last-in first): the sessions end before it.
            atexit.register(checker.close)
        return checker


def verify(gold: str, prediction: str, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, bool] | None:
    """(accepted, both parsed) by math-verify, or None if the check overran ``timeout`` seconds."""
    return _checker(timeout).verify(gold, prediction)
