"""The builder: an action's code becomes one formatted function module that reads back as asked."""

from __future__ import annotations

import json

import black
import pytest

from fnreg.errors import ActionError
from fnreg.registry.actions import parse_action
from fnreg.registry.module_builder import build_module
from fnreg.registry.schema import derive_function

SCHEMA = {
    "text": {"type": "string", "description": "What to count in."},
    "limit": {"type": "integer", "description": "Stop after this many.", "default": 10},
}


def action(code: str, *, packages: str = "", arguments: dict | None = None, name: str = "count_words") -> dict:
    return {
        "action": "add_function",
        "name": name,
        "description": "Count the words of a text.\n\nSplits on whitespace.",
        "arguments": json.dumps(SCHEMA if arguments is None else arguments),
        "packages": packages,
        "code": code,
    }


def build(code: str, **kwargs) -> str:
    return build_module(parse_action(action(code, **kwargs)), mode=black.Mode(line_length=120)).source


def test_a_body_gets_the_signature_the_schema_asks_for() -> None:
    source = build("words = text.split()\nreturn min(len(words), limit)")
    assert '"""Count the words of a text."""' == source.splitlines()[0]
    assert (
        'def count_words(text: Annotated[str, "What to count in."], limit: Annotated[int, "Stop after this many."] = 10):'
        in source
    )
    assert (
        "from typing import Annotated\n" in source
        and black.format_str(source, mode=black.Mode(line_length=120)) == source
    )


def test_a_whole_module_keeps_its_header_helpers_and_imports_once() -> None:
    code = (
        "# Licence: MIT\nimport re\nimport re\nfrom typing import Annotated\n\n_WORD = re.compile(r'\\w+')\n\n\n"
        "def _words(text):\n    return _WORD.findall(text)\n\n\n"
        "def count_words(text: str, limit: int = 10) -> int:\n    return min(len(_words(text)), limit)\n"
    )
    source = build(code, packages="regex>=2024")
    lines = source.splitlines()
    assert lines[2] == "# Licence: MIT" and source.count("import re\n") == 1
    assert source.count("from typing import Annotated") == 1 and '__requires__ = ["regex>=2024"]' in source
    assert source.index("def _words") < source.index("def count_words") and ") -> int:" in source


def test_what_the_builder_says_the_llm_is_told_is_what_the_written_module_says() -> None:
    for code in ("return len(text.split())", "def count_words(text, limit=3):\n    '''old doc'''\n    return limit"):
        built = build_module(parse_action(action(code)), mode=black.Mode(line_length=40))
        assert derive_function(built.source, "count_words") == built.derived


def test_black_mode_of_the_repository_is_used() -> None:
    narrow = build("return len(text.split())")
    assert max(map(len, narrow.splitlines())) <= 120
    source = build_module(parse_action(action("return len(text.split())")), mode=black.Mode(line_length=60)).source
    assert "def count_words(\n" in source


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("async def count_words(text, limit=1):\n    return 1\n", "`async def count_words` is not supported"),
        ("class count_words:\n    pass\n", "`count_words` is a class"),
        ("def count_words(text, limit=1):\n    ...\n", "has no implementation"),
        ('x = "a" b"b"\nreturn x', "code has a syntax error at line 1: cannot mix bytes and nonbytes literals"),
        ("return (", "code has a syntax error at line"),
        ("import os", "code has only imports and defines nothing callable"),
        ("def helper():\n    return 1\n", "no `def count_words`"),
    ],
)
def test_code_that_cannot_become_the_module_is_refused(code: str, error: str) -> None:
    with pytest.raises(ActionError) as excinfo:
        build(code)
    assert error in str(excinfo.value) and str(excinfo.value).startswith("add_function count_words: ")
