"""The generated toolset ``__init__.py``: sorted, lazy (PEP 562) re-exports; one function's missing package breaks only it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import black
import pytest

from fnreg.registry import Registry
from fnreg.registry.init_module import INIT_MARKER, PACKAGE_INIT, build_init, is_generated_init
from tests.conftest import git

ADD = {
    "action": "add_function",
    "description": "Double a number.",
    "arguments": '{"x": {"type": "number"}}',
    "code": "return 2 * x",
}


def _python(repo: Path, code: str) -> dict:
    result = subprocess.run([sys.executable, "-B", "-c", code], cwd=repo, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _toolset_with_a_loud_module(repo: Path) -> Path:
    """Two learned functions and one module, written and committed by hand, that leaves a mark when imported."""
    registry = Registry(repo)
    registry.apply(ADD | {"name": "double"}, toolset="math")
    registry.apply(ADD | {"name": "triple", "description": "Triple a number.", "code": "return 3 * x"}, toolset="math")
    marker = repo / "loud-module-ran"
    (repo / "registry" / "math" / "loud.py").write_text(
        f'open({str(marker)!r}, \'w\').close()\n\n\ndef loud(x: float) -> float:\n    """Loud."""\n    return x\n'
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a hand-written module with a side effect")
    registry.sync("math")
    return marker


def test_importing_one_function_runs_no_other_module(git_repo: Path) -> None:
    marker = _toolset_with_a_loud_module(git_repo)
    loaded = "sorted(m for m in sys.modules if m.startswith('registry.math.'))"
    seen = _python(
        git_repo,
        f"import json, sys\nimport registry.math\nbefore = {loaded}\n"
        f"from registry.math import double\nprint(json.dumps([before, {loaded}, double(2)]))",
    )
    assert seen == [[], ["registry.math.double"], 4]
    assert not marker.exists(), "importing `double` ran another function's module"
    assert _python(git_repo, "import json\nfrom registry.math import loud\nprint(json.dumps(loud(1)))") == 1
    assert marker.exists()  # the loud module runs when it is the one asked for


def test_a_function_module_imported_directly_still_leaves_the_function_on_the_package(git_repo: Path) -> None:
    Registry(git_repo).apply(ADD | {"name": "double"}, toolset="math")
    seen = _python(
        git_repo,
        "import json, types\nimport registry.math.double\nimport registry.math as toolset\n"
        "from registry.math import double\n"
        "print(json.dumps([isinstance(double, types.FunctionType), toolset.double is double, double(4),"
        " 'double' in dir(toolset), toolset.__all__]))",
    )
    assert seen == [True, True, 8, True, ["double"]]


def test_an_unknown_name_is_an_attribute_error(git_repo: Path) -> None:
    Registry(git_repo).apply(ADD | {"name": "double"}, toolset="math")
    seen = _python(
        git_repo,
        "import json\nimport registry.math as toolset\n"
        "try:\n    toolset.nosuch\nexcept AttributeError as error:\n    print(json.dumps(str(error)))",
    )
    assert seen == "module 'registry.math' has no attribute 'nosuch'"


def test_the_generated_file_is_black_formatted_and_marked() -> None:
    for mode in (black.Mode(), black.Mode(line_length=120), black.Mode(line_length=60, magic_trailing_comma=False)):
        for names in ([], ["a"], ["evaluate_expression", "b" * 64], [f"tool_{i}" for i in range(40)]):
            text = build_init("math", names, mode=mode)
            assert text.startswith(INIT_MARKER + "\n") and is_generated_init(text)
            assert black.format_str(text, mode=mode) == text


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
