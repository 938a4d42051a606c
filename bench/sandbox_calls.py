"""2. Executing a learned function: fnreg's warm sandbox worker vs a fresh interpreter vs in-process.

Builds a throw-away checkout with ``registry/demo/add.py`` and times one trivial call
(``add(a=1, b=2)``) four ways:

- in-process: a direct Python call (the floor; what fnreg must never do with learned code);
- warm worker, same session: ``Session.call_function`` on a worker already running;
- warm worker, new session per call: adds the reset between tasks (one task per session);
- fresh ``python -I -B`` per call: what a sandbox without warm workers pays.

    python -m bench.sandbox_calls [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.common import Context, Row, Section, compare, median, ms, p95, standalone, table, timings
from fnreg.sandbox import Sandbox

TITLE = "Executing a learned function"
ADD = "def add(a: int, b: int) -> int:\n    return a + b\n"


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


def measure(root: Path, calls: int, fresh_calls: int) -> dict[str, list[float]]:
    """Seconds per call, by way of calling."""
    namespace: dict = {}
    exec(compile((root / "registry/demo/add.py").read_text(), "add.py", "exec"), namespace)
    add = namespace["add"]
    results = {"in-process (no isolation)": timings(lambda: add(a=1, b=2), calls * 10)}
    with Sandbox(root, toolset="demo") as sandbox:
        with sandbox.session() as session:
            results["warm worker, same session"] = timings(
                lambda: session.call_function("add", {"a": 1, "b": 2}), calls
            )

        def per_session() -> None:
            with sandbox.session() as session:
                session.call_function("add", {"a": 1, "b": 2})

        results["warm worker, new session per call"] = timings(per_session, calls)
    script = f"import sys; sys.path.insert(0, {str(root)!r}); from registry.demo.add import add; print(add(a=1, b=2))"
    command = [sys.executable, "-I", "-B", "-c", script]
    results["fresh python -I -B per call"] = timings(
        lambda: subprocess.run(command, check=True, capture_output=True), fresh_calls
    )
    return results


def run(ctx: Context) -> Section:
    calls, fresh_calls = ctx.pick((500, 40), (20, 3))
    ctx.log(f"sandbox calls: {calls} warm, {fresh_calls} fresh")
    results = measure(make_checkout(ctx), calls, fresh_calls)
    floor = results["in-process (no isolation)"]
    warm = results["warm worker, same session"]
    per_session = results["warm worker, new session per call"]
    fresh = results["fresh python -I -B per call"]
    section = Section(TITLE)
    section.rows = [
        Row(
            "one call of add(1, 2), median",
            f"{ms(median(warm), 3)} (warm worker)",
            f"{ms(median(fresh), 1)} (fresh interpreter per call)",
            compare(median(warm), median(fresh), 0),
        ),
        Row(
            "one call of add(1, 2), p95",
            f"{ms(p95(warm), 3)} (warm worker)",
            f"{ms(p95(fresh), 1)} (fresh interpreter per call)",
            compare(p95(warm), p95(fresh), 0),
        ),
        Row(
            "one task's session (take worker, call, reset), median / p95",
            f"{ms(median(per_session))} / {ms(p95(per_session))}",
            f"{ms(median(fresh), 1)} / {ms(p95(fresh), 1)} (fresh interpreter per call)",
            compare(median(per_session), median(fresh), 0),
        ),
        Row(
            "isolation overhead vs the in-process floor, median",
            f"{ms(median(warm), 3)} (warm worker)",
            f"{ms(median(floor), 5)} (direct call, no isolation)",
            compare(median(warm), median(floor), 0),
        ),
    ]
    section.details = "\n\n".join(
        [
            table(
                ["call of add(1, 2)", "median", "p95", "calls"],
                [(name, ms(median(s), 4), ms(p95(s), 4), len(s)) for name, s in results.items()],
            ),
            "The warm worker is started by `Sandbox` before timing (its start-up is not in these figures); "
            f"{'as root, workers drop to a dedicated uid' if os.geteuid() == 0 else 'workers run as the current user'}. "
            "The fresh interpreter is `python -I -B -c 'from registry.demo.add import add; print(add(a=1, b=2))'` "
            "with no isolation beyond that.",
        ]
    )
    return section


if __name__ == "__main__":
    standalone(TITLE, run)
