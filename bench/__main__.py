"""``python -m bench``: run every benchmark and rewrite ``bench/RESULTS.md``.

    python -m bench                 # the recorded figures (~10 minutes on 2 cores)
    python -m bench --quick         # smoke run: tiny sizes, writes bench/out/RESULTS-quick.md
    python -m bench --only prompt_size resume_cost   # some of them (writes to bench/out/)

Exits non-zero when a benchmark raised (its error is in the results file too); timings are
reported against the issue's targets but never asserted.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shlex
import sys
import time
import traceback
from pathlib import Path

from bench.common import BENCH_DIR, OUT_DIR, REPO_ROOT, Section, scratch_context
from bench.report import render_results, summary_table

BENCHMARKS = [
    "prompt_size",
    "sandbox_calls",
    "apply_action",
    "epoch_latency",
    "registry_scale",
    "resume_cost",
    "sandbox_escapes",
    "serve_calls",
    "cli_startup",
]


def run_one(name: str, quick: bool) -> Section:
    module = importlib.import_module(f"bench.{name}")
    print(f"[bench] {name}: {module.TITLE}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with scratch_context(quick) as ctx:
        try:
            section = module.run(ctx)
        except Exception:  # one broken benchmark must not hide the others' figures
            section = Section(module.TITLE, error=traceback.format_exc())
    section.seconds = time.perf_counter() - started
    section.number = BENCHMARKS.index(name) + 1
    print(f"[bench] {name}: {'FAILED' if section.error else 'done'} in {section.seconds:.1f} s", file=sys.stderr)
    return section


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


#: Modules the benchmarks need beyond fnreg's own dependencies: module -> what provides it.
NEEDS = {"pytest": "the `bench` extra"}


def missing_requirements() -> list[str]:
    """One line per thing ``python -m bench`` needs and cannot find, saying what to install."""
    problems = [
        f"{module} is not installed ({source}): pip install -e '.[bench]'"
        for module, source in NEEDS.items()
        if importlib.util.find_spec(module) is None
    ]
    if not (REPO_ROOT / "tests" / "__init__.py").is_file():
        problems.append(f"{REPO_ROOT / 'tests'} is missing: run python -m bench from a checkout of fnreg's repository")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, output in bench/out/")
    parser.add_argument(
        "--only", nargs="+", choices=BENCHMARKS, metavar="NAME", help=f"some of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--output", type=Path, help="results file (default: bench/RESULTS.md for a full run)")
    args = parser.parse_args(argv)
    problems = missing_requirements()
    if problems:
        for problem in problems:
            print(f"python -m bench: {problem}", file=sys.stderr)
        return 2
    if args.output:
        output = args.output
    elif args.quick:
        output = OUT_DIR / "RESULTS-quick.md"
    elif args.only:
        output = OUT_DIR / "RESULTS-partial.md"  # never overwrite the recorded file with part of a run
    else:
        output = BENCH_DIR / "RESULTS.md"
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    command = f"cd {REPO_ROOT} && {command}  (python = {sys.executable})"

    started, load_before = time.perf_counter(), _load()
    sections = [run_one(name, args.quick) for name in (args.only or BENCHMARKS)]
    total = time.perf_counter() - started
    load = f"{load_before} at the start, {_load()} at the end (other work shares this machine)"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        render_results(sections, command=command, quick=args.quick, total_seconds=total, load=load), encoding="utf-8"
    )
    print(summary_table(sections))
    print(f"\nwrote {output} in {total:.0f} s", file=sys.stderr)
    return 1 if any(section.error for section in sections) else 0


if __name__ == "__main__":
    raise SystemExit(main())
