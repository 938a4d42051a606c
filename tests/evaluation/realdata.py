"""Checking evaluators against real gold answers (shared by the tests and bench/check_evaluators.py).

For every row the gold answer is presented as ``The answer is \\boxed{<gold>}.`` (must be
accepted) and as a perturbed answer (must be rejected). The rows are read from
``../shared/datasets`` at run time and never copied into the repository.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from fnreg.evaluation.evaluators import get_evaluator
from fnreg.evaluation.tasks import format_answer

_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# Digits in a subscript name a base (1011_2) or an index; changing them need not change the value.
_SUBSCRIPT = re.compile(r"_\{[^{}]*\}|_\d+")


def present(gold: str) -> str:
    """A model response that states ``gold`` as its final answer."""
    return f"The answer is \\boxed{{{gold}}}."


def perturb(gold: str) -> str:
    """A wrong answer close to ``gold``: a number plus one; else its last digit changed; else ``+1``."""
    if _PLAIN_NUMBER.fullmatch(gold):
        return format_answer(float(Decimal(gold) + 1)) if "." in gold else str(int(gold) + 1)
    protected = [range(m.start(), m.end()) for m in _SUBSCRIPT.finditer(gold)]
    digits = [i for i, ch in enumerate(gold) if ch.isdigit() and not any(i in span for span in protected)]
    if not digits:
        return f"{gold}+1"
    i = digits[-1]
    replacement = "8" if gold[i] == "9" else str(int(gold[i]) + 1)
    return gold[:i] + replacement + gold[i + 1 :]


def pattern(gold: str) -> str:
    """The shape of an answer, for grouping failures: digit runs become N."""
    return re.sub(r"\d+", "N", gold)


@dataclass
class FileCheck:
    """How one evaluator did on one data file."""

    path: Path
    evaluator: str
    rows: int
    seconds: float = 0.0
    not_accepted: list[tuple[int, str]] = field(default_factory=list)  # (line, gold)
    not_rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, gold, perturbed)

    @property
    def accept_rate(self) -> float:
        return 1 - len(self.not_accepted) / self.rows

    @property
    def reject_rate(self) -> float:
        return 1 - len(self.not_rejected) / self.rows

    def failure_patterns(self, limit: int = 15) -> str:
        """Failures grouped by answer shape, with a few examples (for assertion messages and reports)."""
        parts = []
        for label, failures in (("not accepted", self.not_accepted), ("not rejected", self.not_rejected)):
            if not failures:
                continue
            counts = Counter(pattern(failure[1]) for failure in failures)
            shapes = ", ".join(f"{shape!r}×{n}" for shape, n in counts.most_common(limit))
            examples = "; ".join(f"line {f[0] + 1}: {' -> '.join(map(repr, f[1:]))}" for f in failures[:limit])
            parts.append(f"{label} ({len(failures)}): shapes {shapes}; e.g. {examples}")
        return " | ".join(parts) or "no failures"


def load_golds(path: Path) -> list[str]:
    """Every row's gold answer as fnreg's tasks render it."""
    with path.open(encoding="utf-8") as lines:
        return [format_answer(json.loads(line)["answer"]) for line in lines if line.strip()]


def sample_lines(count: int, size: int | None, seed: int = 0) -> list[int]:
    """All line indices, or a seeded sample of ``size`` of them."""
    if size is None or size >= count:
        return list(range(count))
    return sorted(random.Random(seed).sample(range(count), size))


def check_file(path: Path, evaluator: str, lines: list[int] | None = None, threads: int = 8) -> FileCheck:
    """Present each gold (and a perturbation) to ``evaluator`` from several threads, as the trainer does."""
    golds = load_golds(path)
    lines = list(range(len(golds))) if lines is None else lines
    check = get_evaluator(evaluator)
    result = FileCheck(path=path, evaluator=evaluator, rows=len(lines))

    def judge(line: int) -> tuple[int, str, bool, str, bool]:
        gold = golds[line]
        wrong = perturb(gold)
        return line, gold, check(present(gold), gold), wrong, check(present(wrong), gold)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for line, gold, accepted, wrong, wrongly_accepted in pool.map(judge, lines):
            if not accepted:
                result.not_accepted.append((line, gold))
            if wrongly_accepted:
                result.not_rejected.append((line, gold, wrong))
    result.seconds = time.perf_counter() - start
    return result
