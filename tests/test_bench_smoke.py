"""``python -m bench --quick`` still runs every benchmark and writes its results file.

Only that it executes: the quick run's sizes are tiny and no timing is asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_quick_runs_every_benchmark(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS-quick.md"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert results.is_file()
    text = results.read_text(encoding="utf-8")
    assert text.startswith("# fnreg benchmarks") and "## Summary" in text


def test_bench_says_what_to_install_when_something_is_missing(monkeypatch, capsys) -> None:
    import bench.__main__ as bench_main

    monkeypatch.setattr(bench_main, "NEEDS", {**bench_main.NEEDS, "no_such_module_for_fnreg": "the `bench` extra"})
    assert bench_main.main(["--quick", "--only", "apply_action"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "python -m bench: no_such_module_for_fnreg is not installed (the `bench` extra): pip install -e '.[bench]'"
    ]
