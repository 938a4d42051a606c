"""What a sandboxed call of learned code costs: warm worker, fresh interpreter, in-process.

    python bench/bench_sandbox.py [--calls 500] [--fresh-calls 40]

Builds a throw-away checkout with ``registry/demo/add.py`` and times one trivial call
(``add(a=1, b=2)``) four ways:

- in-process: a direct Python call (the floor; what fnreg must never do with learned code);
- warm worker, one session: ``Session.call_function`` on a worker that is already running;
- warm worker, one session per call: adds the reset between tasks (a task per session);
- fresh ``python -I -B`` per call: what a sandbox without warm workers pays.

Recorded on the project's machine (2 CPUs, Python 3.11.7, as root so workers drop to a
dedicated uid; other jobs were running)::

    call of add(1, 2)                     median ms     p95 ms  calls
    in-process (no isolation)                0.0001     0.0001   5000
    warm worker, same session                0.0774     0.0916    500
    warm worker, new session per call        0.7549     0.9248    500
    fresh python -I -B per call             26.4197    30.9667     40

    warm worker is 341x faster than a fresh interpreter per call
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fnreg.sandbox import Sandbox

ADD = "def add(a: int, b: int) -> int:\n    return a + b\n"


def make_checkout() -> Path:
    root = Path(tempfile.mkdtemp(prefix="fnreg-bench-sandbox-"))
    root.chmod(0o755)  # the sandbox user must be able to read it
    for relative, text in {
        "registry/__init__.py": "",
        "registry/demo/__init__.py": "",
        "registry/demo/add.py": ADD,
    }.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def timings(function: Callable[[], object], count: int) -> list[float]:
    function()  # warm-up: first import, first page faults
    seconds = []
    for _ in range(count):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def row(name: str, seconds: list[float]) -> tuple[str, float, float, int]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return name, statistics.median(ordered), p95, len(ordered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--fresh-calls", type=int, default=40)
    args = parser.parse_args()
    root = make_checkout()
    try:
        rows = measure(root, args.calls, args.fresh_calls)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'call of add(1, 2)':<36} {'median ms':>10} {'p95 ms':>10} {'calls':>6}")
    for name, median, p95, count in rows:
        print(f"{name:<36} {median * 1e3:>10.4f} {p95 * 1e3:>10.4f} {count:>6}")
    fresh, warm = rows[3][1], rows[1][1]
    print(f"\nwarm worker is {fresh / warm:.0f}x faster than a fresh interpreter per call")
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, euid {os.geteuid()})")


def measure(root: Path, calls: int, fresh_calls: int) -> list[tuple[str, float, float, int]]:
    sys.path.insert(0, str(root))
    try:
        from registry.demo.add import add  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(root))
    in_process = timings(lambda: add(a=1, b=2), calls * 10)

    with Sandbox(root, toolset="demo") as sandbox:
        with sandbox.session() as session:
            warm = timings(lambda: session.call_function("add", {"a": 1, "b": 2}), calls)

        def per_session() -> None:
            with sandbox.session() as session:
                session.call_function("add", {"a": 1, "b": 2})

        sessions = timings(per_session, calls)

    script = f"import sys; sys.path.insert(0, {str(root)!r}); from registry.demo.add import add; "
    script += "print(add(a=1, b=2))"
    command = [sys.executable, "-I", "-B", "-c", script]
    fresh = timings(lambda: subprocess.run(command, check=True, capture_output=True), fresh_calls)
    return [
        row("in-process (no isolation)", in_process),
        row("warm worker, same session", warm),
        row("warm worker, new session per call", sessions),
        row("fresh python -I -B per call", fresh),
    ]


if __name__ == "__main__":
    main()
