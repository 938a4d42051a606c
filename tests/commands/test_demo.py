"""`fnreg demo`: the whole pipeline offline, labelled as scripted, ending with where things are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from fnreg.registry import Registry


def test_demo_runs_offline_and_says_it_is_scripted(tmp_path: Path):
    target = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "fnreg", "demo", "--dir", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},  # a pipe: 80 columns
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "scripted" in out and "not a language model" in out
    for expected in (
        "+ add_function convert_units",
        "~ revise_function convert_units",
        "- remove_function mean_of",
        ": rolled back · patience 1",
        "early stop",
        "best tag",
        "report",
    ):
        assert expected in out, expected
    registry = Registry(target)
    branches = registry.git.branches("fnreg")
    (branch,) = branches
    tag = f"{branch}/best"
    assert tag in registry.git.tags(tag)
    assert f"branch      {branch}" in out and f"best tag    {tag}" in out
    # Human output fits 80 columns (lines naming a path aside), says "cost unknown" once, cuts no number.
    assert [line for line in out.splitlines() if len(line) > 80 and str(tmp_path) not in line] == []
    assert out.count("cost unknown") == 1 and "1 tasks" not in out
    assert re.search(r"\d…|…\d", out) is None
    assert re.search(r"epoch 1 candidate:  8/8 tasks  acc 75\.0%  [\d,]+ tokens  \d+:\d\d:\d\d\n", out)
    report = next((target / ".fnreg" / "reports").glob("*/report.md"))
    assert str(report) in out
    assert registry.toolset("demo", tag).names == ["convert_units"]
