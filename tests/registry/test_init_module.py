"""The generated __init__.py of a toolset: sorted re-exports, one function's missing package breaks only it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import black
import pytest

from fnreg.registry.init_module import INIT_MARKER, PACKAGE_INIT, build_init


@pytest.mark.parametrize("line_length", [40, 88, 120])
@pytest.mark.parametrize("count", [0, 1, 3, 40])
def test_written_in_blacks_style_without_running_black(line_length: int, count: int) -> None:
    mode = black.Mode(line_length=line_length)
    names = [f"function_number_{i}" for i in range(count)]
    text = build_init("math", names, mode=mode)
    assert black.format_str(text, mode=mode) == text
    assert text.startswith(INIT_MARKER + "\n")


def test_names_are_sorted_and_deduplicated() -> None:
    text = build_init("math", ["zeta", "alpha", "alpha"])
    assert text.index("from .alpha import alpha") < text.index("from .zeta import zeta")
    assert text.count("from .alpha import alpha") == 1 and '__all__ = ["alpha", "zeta"]' in text


def test_an_empty_toolset_exports_nothing() -> None:
    assert build_init("math", []).endswith("__all__: list[str] = []\n")


def test_a_function_whose_import_fails_raises_only_when_called(tmp_path: Path) -> None:
    package = tmp_path / "registry" / "math"
    package.mkdir(parents=True)
    (tmp_path / "registry" / "__init__.py").write_text(PACKAGE_INIT)
    (package / "ok.py").write_text("def ok():\n    return 'fine'\n")
    (package / "broken.py").write_text("import not_installed_anywhere\n\n\ndef broken():\n    return 1\n")
    (package / "__init__.py").write_text(build_init("math", ["ok", "broken"]))
    script = "from registry.math import ok, broken\nprint(ok())\ntry:\n    broken()\nexcept ImportError as e:\n    print(e)\n"
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True).stdout
    assert out.splitlines() == ["fine", "broken is unavailable: No module named 'not_installed_anywhere'"]
