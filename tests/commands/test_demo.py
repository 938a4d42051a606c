"""`fnreg demo`: the whole pipeline offline, labelled as scripted, ending with where things are."""

from __future__ import annotations

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
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "scripted" in out and "not a language model" in out
    for expected in (
        "+ add_function convert_units",
        "~ revise_function convert_units",
        "- remove_function mean_of",
        "no improvement: rolled back",
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
    report = next((target / ".fnreg" / "reports").glob("*/report.md"))
    assert str(report) in out
    assert registry.toolset("demo", tag).names == ["convert_units"]
