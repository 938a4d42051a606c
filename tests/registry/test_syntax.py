"""Literal values read from libcst nodes: exactly what ``ast.literal_eval`` accepts, nothing more."""

from __future__ import annotations

import ast

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fnreg.registry.literals import py_literal
from fnreg.registry.syntax import NO_VALUE, is_docstring, is_import_line, is_inert, literal_value

EXPRESSIONS = [
    "...",
    "-1",
    "+1.5",
    "- 1",
    "+(1)",
    "--1",
    "1+2j",
    "-1-2j",
    "1j",
    "-1j",
    "1+2",
    "1j+1",
    "(1)",
    "set()",
    "set([1])",
    "frozenset()",
    'b"x"',
    'rb"\\d"',
    '"a" "b"',
    '"a" f"{b}"',
    'f"x"',
    '"a" b"b"',
    "(1,)",
    "()",
    "[1, [2, (3,)]]",
    "{1: 2, 'k': [None, True, False]}",
    "{[1]: 2}",
    "{1, 2}",
    "{[1]}",
    "{**a}",
    "[*a]",
    "-True",
    "not 1",
    "~1",
    "None",
    "True",
    "x",
    "1_000",
    "0x10",
    "0o17",
    "1e3",
    "f(1)",
    "1 if x else 2",
    "[1, 2][0]",
    "'\\N{BULLET}'",
]


def _expected(code: str) -> object:
    try:
        return ast.literal_eval(code)
    except (ValueError, TypeError, SyntaxError):
        return NO_VALUE


@pytest.mark.parametrize("code", EXPRESSIONS)
def test_literal_value_agrees_with_literal_eval(code: str) -> None:
    try:
        node = cst.parse_expression(code)
    except (cst.ParserSyntaxError, cst.CSTValidationError):  # '"a" b"b"': neither parser takes it
        assert _expected(code) is NO_VALUE
        return
    value, expected = literal_value(node), _expected(code)
    if expected is NO_VALUE:
        assert value is NO_VALUE
    else:
        assert value == expected and type(value) is type(expected)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_json)
def test_py_literal_reads_back_as_the_same_value(value: object) -> None:
    source = py_literal(value)
    assert literal_value(cst.parse_expression(source)) == value == ast.literal_eval(source)


def test_deep_nesting_is_no_literal_rather_than_a_crash() -> None:
    node = cst.parse_expression("[" * 300 + "]" * 300)
    assert literal_value(node) in (NO_VALUE, literal_value(node))  # no RecursionError escapes


def test_statement_kinds() -> None:
    module = cst.parse_module('"""doc"""\nimport os; from x import y\npass\n...\nx = 1\n')
    doc, imports, passed, ellipsis, assign = module.body
    assert is_docstring(doc) and not is_docstring(assign)
    assert is_import_line(imports) and not is_import_line(assign)
    assert is_inert(passed.body[0]) and is_inert(ellipsis.body[0]) and is_inert(doc.body[0])
    assert not is_inert(assign.body[0])
