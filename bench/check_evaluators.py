"""Check fnreg's evaluators against every gold answer of the paper's benchmark data.

For each row of ``../shared/datasets`` (MATH train/test per category, TabMWP), the gold answer
presented as ``The answer is \\boxed{<gold>}.`` must be accepted, and a perturbed answer
(number + 1, a digit changed, or ``+1`` appended) must be rejected. Prints the accept and
reject rates per file and evaluator, and the shapes of the answers that failed.

    /work/venv/bin/python bench/check_evaluators.py [--data ../shared/datasets] [--sample N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # for tests.evaluation.realdata, the shared checking code

from tests.evaluation.realdata import FileCheck, check_file, load_golds, sample_lines  # noqa: E402


def plan(data: Path) -> list[tuple[Path, str]]:
    """(file, evaluator) pairs: math everywhere, numeric too where the gold answers are numbers."""
    pairs: list[tuple[Path, str]] = []
    for path in sorted((data / "math").glob("*.train.jsonl")):
        pairs.append((path, "math"))
    for path in sorted((data / "math").glob("*.test.jsonl")) + [data / "tabmwp" / "tabmwp_1000.jsonl"]:
        pairs += [(path, "math"), (path, "numeric")]
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "datasets")
    parser.add_argument("--sample", type=int, default=None, help="check a seeded sample of N rows per file")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no data at {args.data}; pass --data", file=sys.stderr)
        return 2

    start = time.perf_counter()
    checks: list[FileCheck] = []
    print(f"{'file':45} {'evaluator':9} {'rows':>5} {'accept':>8} {'reject':>8} {'seconds':>8}")
    for path, evaluator in plan(args.data):
        lines = sample_lines(len(load_golds(path)), args.sample)
        check = check_file(path, evaluator, lines)
        checks.append(check)
        name = str(path.relative_to(args.data))
        print(
            f"{name:45} {evaluator:9} {check.rows:5d} {check.accept_rate:8.2%} "
            f"{check.reject_rate:8.2%} {check.seconds:8.1f}",
            flush=True,
        )
    print(f"\ntotal {sum(c.rows for c in checks)} rows x 2 checks in {time.perf_counter() - start:.1f} s\n")
    for check in checks:
        if check.not_accepted or check.not_rejected:
            print(f"{check.path.relative_to(args.data)} [{check.evaluator}]: {check.failure_patterns(limit=50)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
