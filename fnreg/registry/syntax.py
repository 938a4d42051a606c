"""Python source as libcst nodes: literal values both ways, and the kinds of statement fnreg cares about.

fnreg reads and writes function modules with one parser, libcst. A literal is evaluated from
its nodes (what ``ast.literal_eval`` accepts, and nothing more), never by printing a node and
parsing the text again; JSON values are written back as Python source by
:func:`~fnreg.registry.literals.py_literal`.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

#: What :func:`literal_value` returns for an expression that is not a literal.
NO_VALUE: Any = object()

_CONSTANT_NAMES = {"True": True, "False": False, "None": None}


class _NotLiteral(Exception):
    pass


def literal_value(node: cst.BaseExpression) -> Any:
    """The value of a literal expression (what ``ast.literal_eval`` accepts), or ``NO_VALUE``.

    Strings (also implicitly concatenated), bytes, numbers, ``True``/``False``/``None``, ``...``,
    tuples, lists, sets, dicts of literals, ``set()``, a sign before a number, and ``a ± bj``.
    """
    try:
        return _literal(node)
    except (_NotLiteral, TypeError, ValueError, RecursionError, MemoryError):
        return NO_VALUE


def _literal(node: cst.BaseExpression) -> Any:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        if value is None:  # an f-string part
            raise _NotLiteral
        return value
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)):
        return node.evaluated_value
    if isinstance(node, cst.Name):
        if node.value in _CONSTANT_NAMES:
            return _CONSTANT_NAMES[node.value]
        raise _NotLiteral
    if isinstance(node, cst.Ellipsis):
        return ...
    if isinstance(node, cst.UnaryOperation):
        return _signed_number(node)
    if isinstance(node, cst.BinaryOperation):
        return _complex(node)
    if isinstance(node, cst.Tuple):
        return tuple(_elements(node.elements))
    if isinstance(node, cst.List):
        return list(_elements(node.elements))
    if isinstance(node, cst.Set):
        return set(_elements(node.elements))
    if isinstance(node, cst.Dict):
        return _dict(node)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "set" and not node.args:
        return set()
    raise _NotLiteral


def _number(node: cst.BaseExpression) -> int | float | complex:
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)):
        return node.evaluated_value
    raise _NotLiteral


def _signed_number(node: cst.BaseExpression) -> int | float | complex:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        value = _number(node.expression)
        return -value if isinstance(node.operator, cst.Minus) else +value
    return _number(node)


def _complex(node: cst.BinaryOperation) -> complex:
    if not isinstance(node.operator, (cst.Add, cst.Subtract)):
        raise _NotLiteral
    left, right = _signed_number(node.left), _number(node.right)
    if isinstance(left, complex) or not isinstance(right, complex):
        raise _NotLiteral  # as literal_eval: a real number, then an imaginary one
    return left + right if isinstance(node.operator, cst.Add) else left - right


def _elements(elements: Any) -> list[Any]:
    values = []
    for element in elements:
        if not isinstance(element, cst.Element):  # *starred
            raise _NotLiteral
        values.append(_literal(element.value))
    return values


def _dict(node: cst.Dict) -> dict[Any, Any]:
    result = {}
    for element in node.elements:
        if not isinstance(element, cst.DictElement):  # **unpacked
            raise _NotLiteral
        result[_literal(element.key)] = _literal(element.value)
    return result


# ----------------------------------------------------------------------------- statements


def is_docstring(stmt: cst.CSTNode) -> bool:
    """A statement that is only a string: a module's, class's or function's docstring when first."""
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def is_import_line(stmt: cst.CSTNode) -> bool:
    """``import x`` or ``from x import y`` (several on one line with ``;`` too)."""
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in stmt.body
    )


def is_inert(small: cst.CSTNode) -> bool:
    """``pass``, ``...`` or a bare string (a docstring): a statement that does nothing."""
    return isinstance(small, cst.Pass) or (
        isinstance(small, cst.Expr)
        and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis))
    )


def statements(body: cst.BaseSuite) -> list[cst.BaseStatement]:
    """The statements of a block, also of a one-line one (``def f(): return 1``)."""
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    return [cst.SimpleStatementLine(body=list(body.body))]
