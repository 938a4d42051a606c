"""Schemas derived statically from source, and round trips through built modules."""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fnreg.registry.actions import parse_action, parse_parameters
from fnreg.registry.module_builder import build_module
from fnreg.registry.schema import canonical_schema, derive_function

HAND_WRITTEN = textwrap.dedent('''
    """Convert between units."""

    from typing import Literal, Optional, Union
    import typing

    __requires__ = ["pint"]

    _FACTORS = {"km": 1000.0}


    def _scale(value):
        # a private helper: never part of the schema
        return value


    def convert(
        value: float,
        unit: Literal["km", "mi"],
        targets: list[str],
        precision: Optional[int] = None,
        matrix: list[list[float]] | None = None,
        mapping: dict[str, int] = {},
        flag: bool = True,
        label: "str" = "x",
        either: Union[int, str] = 0,
        anything=None,
        *,
        strict: typing.Annotated[bool, "Fail on unknown units."] = False,
    ) -> str:
        """Convert a value between units.

        Returns the converted value as text.
        """
        return str(_scale(value))
    ''')


def test_derive_from_hand_written_module():
    derived = derive_function(HAND_WRITTEN, "convert")
    assert derived.description == "Convert a value between units.\n\nReturns the converted value as text."
    assert derived.requires == ("pint",)
    props = derived.parameters["properties"]
    assert props["value"] == {"type": "number"}
    assert props["unit"] == {"type": "string", "enum": ["km", "mi"]}
    assert props["targets"] == {"type": "array", "items": {"type": "string"}}
    assert props["precision"] == {"type": ["integer", "null"]}
    assert props["matrix"] == {"type": ["array", "null"], "items": {"type": "array", "items": {"type": "number"}}}
    assert props["mapping"] == {"type": "object", "additionalProperties": {"type": "integer"}, "default": {}}
    assert props["flag"] == {"type": "boolean", "default": True}
    assert props["label"] == {"type": "string", "default": "x"}
    assert props["either"] == {"anyOf": [{"type": "integer"}, {"type": "string"}], "default": 0}
    assert props["strict"] == {"type": "boolean", "description": "Fail on unknown units.", "default": False}
    assert props["anything"] == {}
    assert derived.parameters["required"] == ["value", "unit", "targets"]
    assert any("anything" in w for w in derived.warnings)


def test_derive_never_imports_the_module(tmp_path):
    # Module-level code that would leave a trace if it ran.
    marker = tmp_path / "ran"
    source = f"open({str(marker)!r}, 'w').write('x')\n\ndef f(a: int):\n    '''Doc.'''\n    return a\n"
    derive_function(source, "f")
    assert not marker.exists()


@pytest.mark.parametrize(
    "annotation, returns",
    [
        ("-> str", {"type": "string"}),
        ("-> int", {"type": "integer"}),
        ("-> dict[str, float]", {"type": "object", "additionalProperties": {"type": "number"}}),
        ("-> list[int]", {"type": "array", "items": {"type": "integer"}}),
        ("-> Optional[str]", {"type": ["string", "null"]}),
        ('-> Annotated[float, "The total."]', {"type": "number", "description": "The total."}),
        ("-> Any", None),  # not a JSON type: no output schema
        ("-> Path", None),
        ("", None),
    ],
)
def test_return_annotations_are_derived_when_they_are_json_types(annotation: str, returns):
    source = f'def f(a: int) {annotation}:\n    """Doc."""\n    return a\n'
    derived = derive_function(source, "f")
    assert derived.returns == returns
    assert not derived.warnings  # an unsupported return type only means no output schema


def test_missing_function_is_an_error():
    with pytest.raises(ValueError, match="no top-level function `g`"):
        derive_function("def f():\n    pass\n", "g")


# Twelve-plus varied schemas, as the optimizer sends them (a JSON string of properties).
ROUND_TRIP_SCHEMAS = {
    "no params": {},
    "one string": {"expression": {"type": "string", "description": "The expression to evaluate."}},
    "numbers": {"a": {"type": "number"}, "b": {"type": "integer", "description": "count"}},
    "optional with default": {"x": {"type": "integer"}, "digits": {"type": "integer", "default": 15}},
    "boolean default": {"strict": {"type": "boolean", "default": False, "description": "Be strict."}},
    "enum": {"mode": {"type": "string", "enum": ["exact", "float"], "description": "How."}},
    "integer enum": {"level": {"type": "integer", "enum": [1, 2, 3]}},
    "nested arrays": {"matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}},
    "array of described strings": {"names": {"type": "array", "items": {"type": "string", "description": "A name."}}},
    "dict of ints": {"counts": {"type": "object", "additionalProperties": {"type": "integer"}}},
    "plain object": {"options": {"type": "object", "description": "Free-form options."}},
    "nullable": {"limit": {"type": ["integer", "null"], "description": "Upper bound or null."}},
    "extra keywords": {"n": {"type": "integer", "minimum": 0, "maximum": 100, "description": "Percent."}},
    "object with properties": {
        "point": {
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
            "required": ["x", "y"],
        }
    },
    "anyOf": {"value": {"anyOf": [{"type": "number"}, {"type": "string"}], "description": "A number or text."}},
    "string default with quotes": {"sep": {"type": "string", "default": "\"'\\n"}},
    "list default": {"weights": {"type": "array", "items": {"type": "number"}, "default": [1, 2.5]}},
    "unicode description": {"angle": {"type": "number", "description": "Angle θ in radians — e.g. π/2."}},
    "latex description": {"expr": {"type": "string", "description": "LaTeX such as \\frac{1}{2} or \\sqrt{2}."}},
}


def _body_action(properties: dict) -> dict:
    names = list(properties)
    body = "return " + (" , ".join(f"repr({n})" for n in names) if names else "None")
    return {
        "action": "add_function",
        "name": "tool_under_test",
        "description": "A tool under test.",
        "arguments": json.dumps(properties),
        "packages": "",
        "code": body,
    }


@pytest.mark.parametrize("properties", ROUND_TRIP_SCHEMAS.values(), ids=ROUND_TRIP_SCHEMAS.keys())
def test_round_trip_from_body(properties):
    action = parse_action(_body_action(properties))
    built = build_module(action)
    derived = derive_function(built.source, "tool_under_test")
    assert canonical_schema(derived.parameters) == canonical_schema(action.parameters)
    compile(built.source, "m.py", "exec")


@pytest.mark.parametrize("properties", ROUND_TRIP_SCHEMAS.values(), ids=ROUND_TRIP_SCHEMAS.keys())
def test_round_trip_from_def(properties):
    params = ", ".join(properties)
    data = _body_action(properties)
    data["code"] = f"def tool_under_test({params}):\n    return None\n"
    action = parse_action(data)
    derived = derive_function(build_module(action).source, "tool_under_test")
    assert canonical_schema(derived.parameters) == canonical_schema(action.parameters)


def test_full_object_schema_and_required_list():
    action = parse_action(
        _body_action({})
        | {
            "arguments": {
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
                "required": ["b"],
            }
        }
    )
    derived = build_module(action).derived
    assert derived.parameters["required"] == ["b"]
    assert set(derived.parameters["properties"]) == {"a", "b"}


def test_properties_mapping_requires_everything_without_default():
    params = parse_parameters('{"a": {"type": "string"}, "b": {"type": "integer", "default": 2}}')
    assert params["required"] == ["a"]


# ------------------------------------------------------------------ property-based round trip

_leaf = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "integer", "number", "boolean"])},
    optional={"description": st.text(min_size=1, max_size=30).filter(lambda s: s.strip() == s and s)},
)
_enum = st.lists(st.text(alphabet="abcxyz_", min_size=1, max_size=6), min_size=1, max_size=4, unique=True).map(
    lambda values: {"type": "string", "enum": values}
)


def _extend(children):
    return st.one_of(
        st.builds(lambda items: {"type": "array", "items": items}, children),
        st.builds(lambda values: {"type": "object", "additionalProperties": values}, children),
    )


_property = st.recursive(st.one_of(_leaf, _enum), _extend, max_leaves=4)
_names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: n
    not in {
        "if",
        "in",
        "is",
        "or",
        "and",
        "not",
        "for",
        "def",
        "del",
        "try",
        "as",
        "with",
        "pass",
        "else",
        "elif",
        "from",
        "None",
        "True",
        "False",
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_names, _property, max_size=4), st.data())
def test_round_trip_property(properties, data):
    required = data.draw(st.lists(st.sampled_from(sorted(properties)), unique=True) if properties else st.just([]))
    schema = {"type": "object", "properties": properties, "required": required}
    action = parse_action(_body_action({}) | {"arguments": schema})
    derived = derive_function(build_module(action).source, "tool_under_test")
    assert canonical_schema(derived.parameters) == canonical_schema(action.parameters)


# Code around and inside the function that derivation must not depend on.
_UNRELATED = '\n\nclass _Cache:\n    size = 3\n\n\ndef _helper(text: "Foo[", n=object()):\n    return {**globals()}\n'


@pytest.mark.parametrize("properties", ROUND_TRIP_SCHEMAS.values(), ids=ROUND_TRIP_SCHEMAS.keys())
def test_reading_only_the_signature_derives_the_same(properties):
    """What the LLM is told comes from the def line through the docstring and ``__requires__`` only."""
    source = build_module(parse_action(_body_action(properties) | {"packages": "sympy"})).source
    derived = derive_function(source, "tool_under_test")
    body_changed = source.rstrip("\n") + "\n    return None  # a different ending\n"
    assert derive_function(body_changed + _UNRELATED, "tool_under_test") == derived
    assert derived.requires == ("sympy",)


def test_signature_only_reading_of_a_hand_written_module():
    derived = derive_function(HAND_WRITTEN, "convert")
    assert derive_function(HAND_WRITTEN + _UNRELATED, "convert") == derived
    assert derive_function(_UNRELATED + HAND_WRITTEN, "convert") == derived


@pytest.mark.parametrize(
    "docstring",
    [
        "Scale a value.\n\n    Args:\n        value: The value to scale.\n        factor (float): How much.\n    ",
        "Scale a value.\n\n    Parameters\n    ----------\n    value : float\n        The value to scale.\n"
        "    factor : float\n        How much.\n    ",
        "Scale a value.\n\n    :param value: The value to scale.\n    :param factor: How much.\n    ",
    ],
    ids=["google", "numpy", "rest"],
)
def test_docstring_parameter_descriptions_in_every_common_style(docstring: str):
    source = (
        f'def scale(value: float, factor: Annotated[float, "The factor."] = 2.0) -> float:\n    """{docstring}"""\n'
    )
    derived = derive_function("from typing import Annotated\n\n" + source, "scale")
    properties = derived.parameters["properties"]
    assert properties["value"]["description"] == "The value to scale."
    assert properties["factor"]["description"] == "The factor."  # Annotated, in the signature, wins
    assert derived.description.startswith("Scale a value.")


def test_an_action_whose_description_documents_its_parameters_still_reads_back():
    action = parse_action(
        {
            "action": "add_function",
            "name": "shout",
            "description": "Upper-case a text.\n\nArgs:\n    text: The text to shout.",
            "arguments": json.dumps({"text": {"type": "string"}}),
            "packages": "",
            "code": "return text.upper()",
        }
    )
    module = build_module(action)
    derived = derive_function(module.source, "shout")
    assert derived.parameters["properties"]["text"] == {"type": "string", "description": "The text to shout."}
