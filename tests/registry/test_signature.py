"""The public def's signature and docstring are written from the action's schema."""

from __future__ import annotations

import json

import libcst as cst
import pytest

from fnreg.errors import ActionError
from fnreg.registry.actions import parse_action
from fnreg.registry.policy import module_bindings
from fnreg.registry.signature import check_signature_names, docstring_literal, fit_function

SCHEMA = {
    "a": {"type": "integer", "description": "First."},
    "b": {"type": "number", "description": "Second.", "default": 1.5},
    "c": {"type": "string", "enum": ["x", "y"]},
}


def fit(code: str, *, synthesised: bool = False, schema: dict | None = None) -> str:
    action = parse_action(
        {
            "action": "add_function",
            "name": "f",
            "description": "Do f.",
            "arguments": json.dumps(SCHEMA if schema is None else schema),
            "code": "return 1",
        }
    )
    module = cst.parse_module(code)
    func = next(s for s in module.body if isinstance(s, cst.FunctionDef))
    effective = dict(action.parameters, properties=dict(action.parameters["properties"]))
    return cst.Module(
        body=[fit_function(func, module, action, effective, "add_function f", synthesised=synthesised)]
    ).code


def test_parameters_get_annotations_defaults_and_required_ones_come_first() -> None:
    code = fit("def f(b=2.0, a=0, c='x'):\n    return a\n")
    assert code.startswith(
        'def f(a: Annotated[int, "First."], c: Literal["x", "y"], b: Annotated[float, "Second."] = 1.5):'
    )
    assert '    """Do f."""\n    return a\n' in code


def test_a_synthesised_def_takes_the_schemas_order() -> None:
    assert fit("def f():\n    return 1\n", synthesised=True).startswith('def f(a: Annotated[int, "First."], c:')


def test_an_optional_parameter_keeps_a_literal_default_from_the_code() -> None:
    schema = {"n": {"type": "integer"}}
    parsed = {"type": "object", "properties": schema, "required": []}
    assert fit("def f(n=7):\n    return n\n", schema=parsed).startswith("def f(n: int = 7):")


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("def f(a, b, c, extra):\n    return 1\n", "parameter `extra` is not in `arguments`"),
        ("def f(a, b):\n    return 1\n", "`arguments` declares `c` but `def f` has no such parameter"),
        ("def f(*args):\n    return 1\n", "*args/**kwargs cannot be described"),
        ("@cache\ndef f(a, b, c):\n    return 1\n", "decorators on `f` are not supported"),
        ("def f(a, b, c):\n    '''Only a docstring.'''\n", "has no implementation"),
    ],
)
def test_a_def_that_does_not_match_the_schema_is_refused(code: str, error: str) -> None:
    with pytest.raises(ActionError, match=error.replace("*", "\\*").replace("(", "\\(")):
        fit(code)


def test_the_module_may_not_rebind_names_the_signature_uses() -> None:
    module = cst.parse_module("Annotated = 3\nint = str\n")
    main = cst.parse_module('def f(a: Annotated[int, "x"]):\n    return a\n').body[0]
    with pytest.raises(ActionError, match="binds `Annotated` at module level"):
        check_signature_names(module_bindings(module), main, "add_function f")
    check_signature_names(module_bindings(cst.parse_module("from typing import Annotated\n")), main, "w")


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("Plain.", '"""Plain."""'),
        ("Uses \\frac{1}{2}.", 'r"""Uses \\frac{1}{2}."""'),
        ('Has """ inside', '"""Has \\"\\"\\" inside"""'),
        ('Ends with a quote "', '"""Ends with a quote \\""""'),
    ],
)
def test_docstring_literals_read_back_as_the_text(text: str, literal: str) -> None:
    assert docstring_literal(text) == literal
    assert cst.parse_expression(literal).evaluated_value == text
