"""What every benchmark shares: timing, median/p95, result rows, markdown tables, the machine.

A benchmark module exposes ``TITLE`` and ``run(ctx) -> Section``; ``python -m bench`` runs them
all and writes one results file, and ``python -m bench.<module> [--quick]`` runs one and
prints its section.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
OUT_DIR = BENCH_DIR / "out"
if str(REPO_ROOT) not in sys.path:  # bench/ may be run from anywhere; tests.* holds shared data generators
    sys.path.insert(0, str(REPO_ROOT))

from fnreg.tables import markdown_table  # noqa: E402

# ---------------------------------------------------------------------------- context and results


@dataclass
class Context:
    """How a benchmark should run: full (the recorded figures) or quick (does it still execute?)."""

    quick: bool = False
    #: Scratch space; removed after the run.
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fnreg-bench-")))
    #: Progress lines go here (stderr), never into the results.
    verbose: bool = True

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def pick(self, full, quick):
        """``full`` in a full run, ``quick`` in a quick one."""
        return quick if self.quick else full

    def scratch(self, name: str) -> Path:
        """A fresh world-readable folder under ``tmp`` (sandbox workers may run as another uid)."""
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.tmp))
        for folder in (self.tmp, path):
            folder.chmod(0o755)
        return path


@dataclass
class Row:
    """One figure: fnreg's number beside the baseline's, measured in the same run."""

    measured: str
    fnreg: str
    baseline: str
    ratio: str = ""
    #: The issue's target, if any, and whether this run met it (None: no target).
    target: str = ""
    met: bool | None = None


@dataclass
class Section:
    """One benchmark's contribution to the results file."""

    title: str
    rows: list[Row] = field(default_factory=list)
    #: Its place in ``python -m bench`` (numbers stay put when only some run).
    number: int | None = None
    #: Markdown shown under the section heading (detailed tables, method notes).
    details: str = ""
    seconds: float = 0.0
    error: str | None = None


# ---------------------------------------------------------------------------- timing


def timings(function: Callable[[], object], count: int, *, warmup: int = 1) -> list[float]:
    """Seconds per call of ``function``, ``count`` times after ``warmup`` untimed calls."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(count):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def run_timed(command: Sequence[str], *, cwd: Path | None = None, env: dict | None = None) -> tuple[float, str]:
    """Wall seconds of one subprocess run (which must succeed) and its stdout."""
    start = time.perf_counter()
    proc = subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}... failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, proc.stdout


# ---------------------------------------------------------------------------- formatting


def ms(seconds: float, digits: int = 2) -> str:
    return f"{seconds * 1e3:,.{digits}f} ms"


def secs(seconds: float, digits: int = 2) -> str:
    return f"{seconds:,.{digits}f} s"


def ratio(numerator: float, denominator: float, digits: int = 1) -> str:
    if denominator <= 0:
        return "n/a"
    return f"{numerator / denominator:,.{digits}f}×"


def compare(fnreg: float, baseline: float, digits: int = 1) -> str:
    """``2.5× slower`` or ``3.0× faster``: fnreg's figure relative to the baseline's."""
    if fnreg <= 0 or baseline <= 0:
        return "n/a"
    if fnreg >= baseline:
        return f"{fnreg / baseline:,.{digits}f}× slower"
    return f"{baseline / fnreg:,.{digits}f}× faster"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    """A GitHub markdown table (fnreg's own helper); ``align`` is one letter per column, default numbers right."""
    return markdown_table(headers, rows, align)


# ---------------------------------------------------------------------------- the machine


def machine() -> str:
    """``2 cores, Python 3.11.7, Linux 6.1 x86_64 (Debian 12), as root``."""
    distro = ""
    try:
        fields = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
        distro = f" ({fields.get('PRETTY_NAME', '').strip(chr(34))})" if fields.get("PRETTY_NAME") else ""
    except OSError:
        pass
    memory = ""
    try:
        kib = int(
            next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1]
        )
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    user = "root" if hasattr(os, "geteuid") and os.geteuid() == 0 else "an ordinary user"
    return (
        f"{os.cpu_count()} cores{memory}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()} {platform.machine()}{distro}, as {user}"
    )


def fnreg_revision() -> str:
    """``fnreg at 1a2b3c4 (+ uncommitted changes to fnreg/)``: the code that was measured."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "fnreg"], cwd=REPO_ROOT, capture_output=True, text=True
        )
    except OSError:
        return "fnreg (revision unknown)"
    if head.returncode != 0:
        return "fnreg (not a git checkout)"
    return f"fnreg at {head.stdout.strip()}" + (" + uncommitted changes to fnreg/" if dirty.stdout.strip() else "")


def git_version() -> str:
    try:
        return subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "git not found"


# ---------------------------------------------------------------------------- helpers


def git(cwd: Path, *args: str, input: str | None = None) -> str:
    """Run git with a fixed identity (benchmarks never depend on the user's config)."""
    proc = subprocess.run(
        ["git", "-c", "user.name=fnreg-bench", "-c", "user.email=bench@localhost", *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:3])} failed: {proc.stderr.strip()}")
    return proc.stdout.rstrip("\n")


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "config", "user.name", "fnreg-bench")
    git(path, "config", "user.email", "bench@localhost")
    git(path, "config", "commit.gpgsign", "false")
    return path


def compile_bytecode() -> None:
    """Compile fnreg's modules to ``__pycache__``, as ``pip install`` does for an installed package.

    A cold ``python -m fnreg`` in an editable checkout would otherwise recompile every module
    edited since its bytecode was written (on every run, under PYTHONDONTWRITEBYTECODE=1), and
    the start-up and CLI rows would time the compiler, which no installed fnreg runs.
    """
    import compileall

    compileall.compile_dir(REPO_ROOT / "fnreg", quiet=1)


@contextmanager
def scratch_context(quick: bool, verbose: bool = True) -> Iterator[Context]:
    compile_bytecode()
    ctx = Context(quick=quick, verbose=verbose)
    try:
        yield ctx
    finally:
        shutil.rmtree(ctx.tmp, ignore_errors=True)


def standalone(title: str, run: Callable[[Context], Section]) -> None:
    """``python -m bench.<module> [--quick]``: run one benchmark and print its section."""
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: only check that it runs")
    args = parser.parse_args()
    from bench.report import render_section

    with scratch_context(args.quick) as ctx:
        start = time.perf_counter()
        section = run(ctx)
        section.seconds = time.perf_counter() - start
    print(render_section(section))
