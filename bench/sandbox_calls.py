"""2. Executing a learned function: sandbox v2 (zygote, jail) vs the previous pool, side by side.

Builds a throw-away checkout with ``registry/demo/add.py`` and times ``add(a=1, b=2)``:

- warm call: ``Session.call_function`` again in the same session;
- session start: a new session (a task) and its first call, sessions 10 ms apart as tasks are
  (an agent's LLM turn comes between them); back-to-back sessions are in the details;
- pool start: ``Sandbox(...)`` until its first session is ready (the jail's one-off cost);

for sandbox v2 in jail mode and in process mode, and for the previous pool (warm worker
subprocesses, one per slot, reset between tasks; ``bench/old_pool.py`` takes it from git), each
measured in a fresh subprocess. Also: a fresh ``python -I -B`` per call, and the in-process floor.

    python -m bench.sandbox_calls [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO_ROOT, Context, Row, Section, compare, median, ms, p95, standalone, table, timings
from bench.old_pool import BASELINE, extract

TITLE = "Executing a learned function"
ADD = "def add(a: int, b: int) -> int:\n    return a + b\n"
SPACING = 0.010  # seconds between sessions: tasks are separated by at least an LLM turn


def make_checkout(ctx: Context) -> Path:
    root = ctx.scratch("sandbox-checkout")
    for relative, text in {
        "registry/__init__.py": "",
        "registry/demo/__init__.py": "",
        "registry/demo/add.py": ADD,
    }.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o755)
        path.write_text(text)
        path.chmod(0o644)
    return root


# ---------------------------------------------------------------------------- one measured process


def measure(kind: str, root: str, calls: int, sessions: int) -> dict[str, list[float]]:
    """Seconds per operation for one kind of pool ("jail", "process" or "old")."""
    if kind == "old":
        from bench.old_pool import old_sandbox_class

        factory = old_sandbox_class()
    else:
        from fnreg.sandbox import Sandbox

        factory = Sandbox
    starts = []
    for _ in range(3 if calls > 50 else 1):
        started = time.perf_counter()
        sandbox = factory(Path(root), toolset="demo", mode=kind if kind != "old" else None)
        with sandbox.session() as session:
            session.call_function("add", {"a": 1, "b": 2})
        starts.append(time.perf_counter() - started)
        sandbox.close()
    out: dict[str, list[float]] = {"pool start": starts}
    with factory(Path(root), toolset="demo", mode=kind if kind != "old" else None) as sandbox:
        with sandbox.session() as session:
            out["warm call"] = timings(lambda: session.call_function("add", {"a": 1, "b": 2}), calls)

        def one_session() -> float:
            started = time.perf_counter()
            with sandbox.session() as session:
                session.call_function("add", {"a": 1, "b": 2})
                return time.perf_counter() - started

        spaced, back_to_back = [], []
        one_session()
        for _ in range(sessions):
            time.sleep(SPACING)
            spaced.append(one_session())
        for _ in range(sessions):
            started = time.perf_counter()
            one_session()
            back_to_back.append(time.perf_counter() - started)
        out["session start"] = spaced
        out["session, back to back"] = back_to_back
    return out


def run_measure(kind: str, root: Path, calls: int, sessions: int, old: Path) -> dict[str, list[float]]:
    path = os.pathsep.join([str(REPO_ROOT), str(old)])
    proc = subprocess.run(
        [sys.executable, "-m", "bench.sandbox_calls", "--measure", kind, str(root), str(calls), str(sessions)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {kind} failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- the benchmark


def run(ctx: Context) -> Section:
    calls, sessions, fresh_calls = ctx.pick((1000, 300, 40), (20, 10, 3))
    ctx.log(f"sandbox calls: {calls} warm calls, {sessions} sessions per pool kind")
    root = make_checkout(ctx)
    old = extract(ctx.scratch("old-pool"))
    from fnreg.sandbox.jail import jail_support

    kinds = ["jail", "process", "old"] if jail_support().available else ["process", "old"]
    results = {kind: run_measure(kind, root, calls, sessions, old) for kind in kinds}
    namespace: dict = {}
    exec(compile(ADD, "add.py", "exec"), namespace)
    floor = timings(lambda: namespace["add"](a=1, b=2), calls * 10)
    script = f"import sys; sys.path.insert(0, {str(root)!r}); from registry.demo.add import add; print(add(a=1, b=2))"
    command = [sys.executable, "-I", "-B", "-c", script]
    fresh = timings(lambda: subprocess.run(command, check=True, capture_output=True), fresh_calls)

    new = results[kinds[0]]
    base = results["old"]
    label = f"sandbox v2 ({kinds[0]})"
    section = Section(TITLE)
    warm, start = median(new["warm call"]), median(new["session start"])
    section.rows = [
        Row(
            "warm call of add(1, 2), median",
            f"{ms(warm, 3)} ({label})",
            f"{ms(median(base['warm call']), 3)} (previous pool)",
            compare(warm, median(base["warm call"]), 2),
            "< 0.2 ms",
            warm < 0.0002,
        ),
        Row(
            "warm call, p95",
            f"{ms(p95(new['warm call']), 3)} ({label})",
            f"{ms(p95(base['warm call']), 3)} (previous pool)",
            compare(p95(new["warm call"]), p95(base["warm call"]), 2),
        ),
        Row(
            "session start: a new task's session and its first call, median",
            f"{ms(start)} ({label}: fork of the zygote)",
            f"{ms(median(base['session start']))} (previous pool: take a warm worker, call, reset)",
            compare(start, median(base["session start"]), 2),
            "< 2 ms",
            start < 0.002,
        ),
        Row(
            "pool start until the first session is ready (one-off), median",
            f"{ms(median(new['pool start']), 0)} ({label})",
            f"{ms(median(base['pool start']), 0)} (previous pool, 1 worker)",
            compare(median(new["pool start"]), median(base["pool start"]), 1),
        ),
        Row(
            "isolation overhead vs a fresh interpreter per call, median",
            f"{ms(warm, 3)} ({label}, warm call)",
            f"{ms(median(fresh), 1)} (fresh python -I -B per call)",
            compare(warm, median(fresh), 0),
        ),
    ]
    names = {"jail": "sandbox v2, jail", "process": "sandbox v2, process mode", "old": f"previous pool ({BASELINE})"}
    detail_rows = []
    for kind in kinds:
        for what in ("warm call", "session start", "session, back to back", "pool start"):
            values = results[kind][what]
            detail_rows.append((names[kind], what, ms(median(values), 3), ms(p95(values), 3), len(values)))
    detail_rows.append(("in-process (no isolation)", "call", ms(median(floor), 5), ms(p95(floor), 5), len(floor)))
    detail_rows.append(("fresh python -I -B", "call", ms(median(fresh), 1), ms(p95(fresh), 1), len(fresh)))
    spread = statistics.pstdev(new["session start"]) if len(new["session start"]) > 1 else 0.0
    section.details = "\n\n".join(
        [
            table(["pool", "operation", "median", "p95", "n"], detail_rows),
            f"Each pool kind is measured in its own fresh process ({'as root: the jail and process sessions run as a borrowed uid' if os.geteuid() == 0 else 'as the current user'}). "
            f"Session start = `with sandbox.session(): call_function(...)` up to the call's return, sessions "
            f"{SPACING * 1000:.0f} ms apart (tasks are spaced by an LLM turn; sandbox v2 prepares the next session's "
            "processes meanwhile); back to back = no gap, so the next session's fork is on the clock. "
            "The previous pool reuses one warm worker and resets it after each task. Pool start = `Sandbox(...)` "
            "through its first call (v2 in jail mode: bwrap, the jail's Python, the zygote's imports, the first "
            f"session's namespaces). Spread (stdev) of v2 session start: {ms(spread, 3)}.",
        ]
    )
    return section


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--measure":
        print(json.dumps(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))))
    else:
        standalone(TITLE, run)
