"""Source is measured with ``ast`` before libcst or black see it: too much nesting is refused in words.

Each shape below killed the process inside libcst (SIGSEGV) or raised ``RecursionError`` from
the builder before the check; run here in this very process, a regression would crash pytest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fnreg.registry import Registry
from fnreg.registry.schema import SchemaError, derive_function
from fnreg.registry.source_shape import MAX_NESTING, SourceTooDeep, check_shape
from tests.conftest import git

SHAPES = {
    "parentheses": "x = " + "(" * 3000 + "1" + ")" * 3000,
    "lists": "x = " + "[" * 3000 + "1" + "]" * 3000,
    "operator-chain": "x = 1" + " + 1" * 5000,
    "not-chain": "x = " + "not " * 20_000 + "y",
    "minus-chain": "x = " + "-" * 20_000 + "y",
    "lambda-chain": "x = " + "lambda: " * 20_000 + "1",
    "boolean-chain": "x = a" + " and a" * 20_000,
    "string-concatenation": "x = " + '"a" ' * 3000,
    "f-string-concatenation": "x = " + 'f"{a}" ' * 3000,
    "dotted-import": "import a" + ".b" * 20_000,
    "dotted-from-import": "from a" + ".b" * 20_000 + " import c",
    "elif-chain": "if x:\n    pass\n" + "elif x:\n    pass\n" * 20_000,
    "call-chain": "x = f" + "()" * 20_000,
    "attribute-chain": "x = a" + ".b" * 20_000,
    "indentation": "".join("    " * i + "if x:\n" for i in range(150)) + "    " * 150 + "pass\n",
}


@pytest.mark.parametrize("source", SHAPES.values(), ids=SHAPES.keys())
def test_deep_shapes_are_refused_in_words(source: str) -> None:
    with pytest.raises(SourceTooDeep, match=f"nested more than {MAX_NESTING} levels deep"):
        check_shape(source)
    with pytest.raises(SchemaError, match="nested more than"):
        derive_function(source + "\n\ndef f(x: int) -> int:\n    return x\n", "f")


def test_ordinary_nesting_passes_and_returns_the_tree() -> None:
    source = "def f(x: int) -> int:\n" + "    y = " + "[" * 40 + "x" + "]" * 40 + "\n    return y" + "[0]" * 40 + "\n"
    assert check_shape(source).body[0].name == "f"  # type: ignore[attr-defined]
    many_strings = "DOC = (\n" + '    "a"\n' * 90 + ")\n"  # 90 parts: under the limit
    check_shape(many_strings)
    quotes = 'TEXT = """' + "'\"" * 400 + ' end"""\n'  # many quote characters, one literal
    check_shape(quotes)


def test_syntax_errors_pass_through_for_the_caller_to_word() -> None:
    with pytest.raises(SyntaxError) as error:
        check_shape("def f(x)\n    return x\n")
    assert error.value.lineno == 1
    with pytest.raises(SyntaxError):
        check_shape("x = 'a\x00b'")
    check_shape("\ufeffx = 1\n")  # a byte-order mark is not an error


def test_a_deep_module_committed_by_hand_is_a_problem_not_a_crash(git_repo: Path) -> None:
    folder = git_repo / "registry" / "math"
    folder.mkdir(parents=True)
    (git_repo / "registry" / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("")
    (folder / "deep.py").write_text("def deep(x: int) -> int:\n    return " + "-" * 20_000 + "x\n")
    (folder / "fine.py").write_text('def fine(x: int) -> int:\n    """Fine."""\n    return x\n')
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "hand-written modules")
    toolset = Registry(git_repo).toolset("math", "HEAD")
    assert toolset.names == ["fine"]
    assert "nested more than" in toolset.problems["registry/math/deep.py"]
    listed = subprocess.run(
        [sys.executable, "-m", "fnreg", "list", "--toolset", "math", "--ref", "HEAD"],
        cwd=git_repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert "fine(x: integer)" in listed.stdout  # the readable functions are listed, the other is warned about
    assert "warning: registry/math/deep.py" in listed.stderr and "nested more than" in listed.stderr
