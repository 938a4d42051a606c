"""Answer checkers: does a model's final response match the gold answer?

An :data:`Evaluator` takes the model's final response text and the gold answer (a string)
and says whether the answer is accepted. :func:`get_evaluator` maps a task set's
``evaluator`` setting to one:

- ``math``: math-verify (LaTeX and plain expressions, fractions, intervals, tuples, sets),
  with a numeric fallback where math-verify cannot parse.
- ``numeric``: one number, units, ``%``, ``$`` and thousands separators ignored.
- ``exact``: normalised string equality.
- ``package.module:function``: any callable ``(response, gold) -> bool``.

Evaluators are thread-safe. math-verify's own timeouts use SIGALRM, which only works in the
main thread, and sympy can hang or eat gigabytes on inputs such as ``9^{9^{9}}``. So the
``math`` checker runs math-verify (with its timeouts off) in a few persistent worker
processes and kills and replaces a worker that overruns, rather than relying on signals:
a pathological answer costs about ``timeout`` seconds and is rejected.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import math
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import IO, NamedTuple

from fnreg.errors import FnregError, TaskSetError

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

Evaluator = Callable[[str, str], bool]
"""(model's final response text, gold answer) -> accepted."""

BUILTIN_EVALUATORS = ("math", "numeric", "exact")

DEFAULT_TIMEOUT = 5.0
# A worker imports sympy and math-verify (about a second); allow slow, busy CI machines.
WORKER_STARTUP_TIMEOUT = 60.0
# Address-space cap per worker process.
WORKER_MEMORY_LIMIT = 2 * 1024**3
# Two decimals that should be equal may differ by float noise (0.30000000000000004 printed by Python).
_FLOAT_NOISE = 1e-9
_MAX_EXPONENT = 400
_MAX_NUMERIC_ANSWER = 200


class EvaluatorError(FnregError):
    """The answer checker itself failed (not a wrong answer)."""


# --------------------------------------------------------------------------- extraction

_BOX_COMMANDS = ("\\boxed", "\\fbox")
_NUMBER = r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+"
_LAST_NUMBER = re.compile(rf"(?:{_NUMBER})(?:\s*/\s*(?:{_NUMBER}))?")
_FINAL_ANSWER = re.compile(r"final\s+answer\s*(?:is\s*)?\**\s*[:：]\s*\**\s*(?P<ans>[^\n]*\S)", re.I)
_ANSWER_IS = re.compile(r"answer\s+is\s*[:：]?\s*\**\s*(?P<ans>[^\n]*\S)", re.I)
_SENTENCE_END = re.compile(r"\.(?:\s|$)")


def extract_final_answer(text: str) -> str:
    """The final answer in a response.

    The last ``\\boxed{...}`` (or ``\\fbox``), else the rest of a ``Final Answer: ...`` line,
    else what follows the last "answer is", else the last number, else the stripped text.
    """
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed
    for pattern in (_FINAL_ANSWER, _ANSWER_IS):
        matches = list(pattern.finditer(text))
        if matches:
            answer = _clean_stated_answer(matches[-1].group("ans"))
            if answer:
                return answer
    numbers = _LAST_NUMBER.findall(text)
    if numbers:
        return numbers[-1]
    return text.strip()


def _last_boxed(text: str) -> str | None:
    """Content of the last complete ``\\boxed``/``\\fbox`` (balanced braces), if any."""
    end = len(text)
    while True:
        start = max(text.rfind(cmd, 0, end) for cmd in _BOX_COMMANDS)
        if start < 0:
            return None
        command = next(c for c in _BOX_COMMANDS if text.startswith(c, start))
        content = _box_argument(text, start + len(command))
        if content is not None:
            return content.strip()
        end = start  # unbalanced (a truncated reply): try an earlier box


def _box_argument(text: str, pos: int) -> str | None:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    if pos >= len(text):
        return None
    if text[pos] != "{":
        # ``\boxed 5``: TeX takes the next token.
        token = re.match(r"[^\s$]+", text[pos:])
        return token.group(0) if token else None
    depth = 0
    for i in range(pos, len(text)):
        if text[i] == "{" and text[i - 1] != "\\":
            depth += 1
        elif text[i] == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[pos + 1 : i]
    return None


def _clean_stated_answer(answer: str) -> str:
    # "The final answer is $5$. I hope it is correct." -> "$5$"
    inner = list(_ANSWER_IS.finditer(answer))
    if inner:
        answer = inner[-1].group("ans")
    cut = _SENTENCE_END.search(answer)
    if cut:
        answer = answer[: cut.start()]
    return answer.strip().strip("*").strip()


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
    boxed = _last_boxed(text)
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


# --------------------------------------------------------------------------- exact

_OUTER_PUNCTUATION = " \t\n.,;:!?\"'`*"


def exact_equal(prediction: str, gold: str) -> bool:
    """Whether two answers are the same text, ignoring case, spacing, outer punctuation, LaTeX text."""
    predicted, expected = _normalise_text(str(prediction)), _normalise_text(str(gold))
    return bool(expected) and predicted == expected


def _normalise_text(text: str) -> str:
    boxed = _last_boxed(text)
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
    verdict = _pool().verify(gold, prediction, timeout)
    if verdict is not None:
        with _verdicts_lock:
            if len(_verdicts) >= _MAX_VERDICTS:
                _verdicts.clear()
            _verdicts[key] = verdict
    return verdict or (False, True)


# --------------------------------------------------------------------------- worker processes

# Runs in a fresh interpreter, so it depends on math-verify only (not on fnreg being importable
# or on what fnreg's package __init__ files import). Protocol: one JSON object per line.
# Besides the parent's wall-clock kill, the kernel bounds each request: RLIMIT_CPU is raised to
# "used so far + budget" before each one (SIGXCPU ends a runaway even if the parent died), and
# RLIMIT_AS caps memory (sympy expanding (1+x)^1000000 grows by gigabytes in seconds).
_WORKER_SOURCE = r"""
import json, logging, math, os, signal, sys
try:
    import resource
except ImportError:  # not POSIX: the parent's timeout is the only bound
    resource = None

def limit(kind, value):
    try:
        resource.setrlimit(kind, (value, resource.getrlimit(kind)[1]))
    except Exception:
        pass

if resource:
    limit(resource.RLIMIT_AS, int(sys.argv[1]))
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
out = os.fdopen(os.dup(1), "w")  # the protocol channel: nothing but replies
os.dup2(2, 1)  # stray prints, from Python or C, go to stderr
sys.stdout = sys.stderr
logging.disable(logging.CRITICAL)
from math_verify import parse, verify

def parsed(items):
    return any(not isinstance(item, str) for item in items)

out.write("ready\n"); out.flush()
for line in sys.stdin:
    request = json.loads(line)
    if resource:
        used = resource.getrusage(resource.RUSAGE_SELF)
        limit(resource.RLIMIT_CPU, math.ceil(used.ru_utime + used.ru_stime + request["budget"]))
    try:
        gold = parse(request["gold"], parsing_timeout=None)
        pred = parse(request["pred"], parsing_timeout=None)
        reply = {"ok": bool(verify(gold, pred, timeout_seconds=None)),
                 "parsed": parsed(gold) and parsed(pred)}
    except Exception:  # MemoryError, RecursionError: a wrong answer, not a dead worker
        reply = {"ok": False, "parsed": True}
    out.write(json.dumps(reply) + "\n"); out.flush()
"""


class _WorkerDied(Exception):
    pass


_EOF = "\x00eof"  # what the reader thread queues when the worker's output ends


class _Worker:
    """One math-verify process; used by one thread at a time."""

    def __init__(self) -> None:
        self._stderr: IO[bytes] = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-c", _WORKER_SOURCE, str(WORKER_MEMORY_LIMIT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        self._lines: queue.Queue[str] = queue.Queue()
        # A reader thread turns the blocking pipe into a queue with a timeout (no signals, portable).
        threading.Thread(target=self._read, name="math-verify-reader", daemon=True).start()
        if self._next_line(WORKER_STARTUP_TIMEOUT) != "ready":
            detail = self._stderr_tail()
            self.kill()
            raise EvaluatorError(
                "math evaluator: the math-verify worker did not start"
                + (f" ({detail})" if detail else "")
                + f"; check that math-verify is installed for {sys.executable}"
            )

    def _read(self) -> None:
        assert self._proc.stdout is not None
        try:
            for line in self._proc.stdout:
                self._lines.put(line.rstrip("\n"))
        except (OSError, ValueError):  # the pipe was closed by kill()
            pass
        self._lines.put(_EOF)

    def _next_line(self, timeout: float) -> str | None:
        """The next reply line, _EOF if the process ended, None on timeout."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def ask(self, gold: str, prediction: str, timeout: float) -> tuple[bool, bool] | None:
        """(accepted, both parsed), or None on timeout. Raises _WorkerDied if the process died."""
        assert self._proc.stdin is not None
        request = {"gold": gold, "pred": prediction, "budget": timeout + 1}
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
        except OSError as exc:
            raise _WorkerDied() from exc
        line = self._next_line(timeout)
        if line == _EOF:
            raise _WorkerDied()
        if line is None:
            return None
        reply = json.loads(line)
        return bool(reply["ok"]), bool(reply["parsed"])

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""

    def kill(self) -> None:
        self._proc.kill()
        self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self._stderr.close()


class _Pool:
    """Up to ``size`` warm workers shared by all threads; an overrunning worker is replaced."""

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()  # busy ones too, so that close() can end them
        self._lock = threading.Lock()

    def verify(self, gold: str, prediction: str, timeout: float) -> tuple[bool, bool] | None:
        """(accepted, both parsed), or None if the check overran ``timeout`` seconds."""
        with self._slots:
            for _ in range(2):  # a crashed worker (e.g. OOM-killed) gets one fresh retry
                worker = self._acquire()
                try:
                    reply = worker.ask(gold, prediction, timeout)
                except _WorkerDied:
                    self._discard(worker)
                    continue
                if reply is None:  # overran: the process may be stuck for good
                    self._discard(worker)
                    return None
                with self._lock:
                    self._idle.append(worker)
                return reply
            return False, True

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        worker = _Worker()  # outside the lock: starting takes about a second
        with self._lock:
            self._all.add(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()

    def close(self) -> None:
        with self._lock:
            workers, self._all, self._idle = list(self._all), set(), []
        for worker in workers:
            worker.kill()


_pool_lock = threading.Lock()
_the_pool: _Pool | None = None


def _pool() -> _Pool:
    global _the_pool
    with _pool_lock:
        if _the_pool is None:
            _the_pool = _Pool(size=max(1, min(4, os.cpu_count() or 1)))
            atexit.register(_the_pool.close)
        return _the_pool


# --------------------------------------------------------------------------- lookup


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
    return _as_bool(function)


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


def _as_bool(function: Callable[[str, str], object]) -> Evaluator:
    @functools.wraps(function)
    def evaluator(response: str, gold: str) -> bool:
        return bool(function(response, gold))

    return evaluator
