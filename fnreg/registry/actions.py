"""Optimizer actions: what they hold, and how they are read and checked before any write.

An action arrives as the argument object of one of the optimizer's tool calls (the
paper's ``add_function`` / ``revise_function`` / ``remove_function``), or as a JSON
file given to ``fnreg apply`` with an extra ``"action"`` field. ``parse_action`` turns
either into an :class:`Action` or raises :class:`~fnreg.errors.ActionError` with a
one-line message that says what is wrong; the message is also what the optimizer LLM
reads when it is asked to correct itself.
"""

from __future__ import annotations

import builtins
import json
import keyword
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from fnreg import safe_json
from fnreg.errors import ActionError

ActionKind = Literal["add_function", "revise_function", "remove_function"]
ACTION_KINDS: tuple[ActionKind, ...] = ("add_function", "revise_function", "remove_function")

MAX_CODE_CHARS = 100_000
MAX_DESCRIPTION_CHARS = 4_000
MAX_SCHEMA_DEPTH = 8

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PARAM = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# A PEP 508 name with optional extras and version specifier; no URLs, no pip options.
_PACKAGE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?((~=|==|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+(,(~=|==|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+)*)?"
)
_JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}
_REFERENCE_KEYS = {"$ref", "$defs", "definitions", "$dynamicRef", "$recursiveRef"}
# Keywords holding one subschema, or a list of them: fnreg writes annotations from schema *objects*.
_SUBSCHEMA_KEYS = {"items", "not", "contains", "if", "then", "else", "propertyNames"}
_SUBSCHEMA_LIST_KEYS = {"anyOf", "oneOf", "allOf", "prefixItems"}
# Keys of a whole object schema in `arguments` besides the parameters; the annotations are dropped.
_OBJECT_SCHEMA_KEYS = {"type", "properties", "required", "additionalProperties", "description"}
_SCHEMA_ANNOTATIONS = {"title", "$schema", "$id", "$comment", "examples"}
# Bidirectional controls ("Trojan Source", CVE-2021-42574): they reorder how code is displayed.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Names a function module may not take: they would shadow fnreg or the toolset package.
RESERVED_NAMES = {"fnreg", "registry", "tests", "conftest", "setup"}


@dataclass(frozen=True)
class Action:
    """One optimizer action, validated field by field (code is checked by the builder)."""

    kind: ActionKind
    #: The function's name: lowercase ASCII snake_case, also its module's file name.
    name: str
    #: Tool description for the LLM; becomes the docstring.
    description: str = ""
    #: Parameters as a full JSON schema ``{"type": "object", "properties", "required"}``.
    parameters: dict[str, Any] = field(default_factory=lambda: empty_parameters())
    #: Packages the code needs, recorded in ``__requires__`` and never installed.
    packages: tuple[str, ...] = ()
    #: The implementation, with or without the ``def`` line.
    code: str = ""
    #: Why the optimizer proposed it, if it said; becomes the commit body.
    reason: str | None = None

    def summary(self) -> str:
        """``add_function evaluate_expression``: the commit subject."""
        return f"{self.kind} {self.name}"


def empty_parameters() -> dict[str, Any]:
    return {"type": "object", "properties": {}, "required": []}


def parse_action(data: str | bytes | Mapping[str, Any], *, kind: str | None = None) -> Action:
    """Read an action from JSON text or a mapping.

    ``kind`` is the tool name when the action comes from a tool call; otherwise the
    object's ``"action"`` field says which action it is.
    """
    obj = _decode_object(data, what="the action")
    obj = dict(obj)
    named_kind = obj.pop("action", None)
    kind = kind or named_kind
    if kind not in ACTION_KINDS:
        raise ActionError(f"unknown action {kind!r}: use one of {', '.join(ACTION_KINDS)}")
    allowed = {"name", "reason"} | (
        {"description", "arguments", "packages", "code"} if kind != "remove_function" else set()
    )
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ActionError(f"{kind}: unknown field {unknown[0]!r}; expected {', '.join(sorted(allowed))}")
    name = _string_field(obj, "name", kind)
    check_function_name(name)
    reason = obj.get("reason")
    reason = clean_reason(reason) if isinstance(reason, str) else None
    if kind == "remove_function":
        return Action(kind=kind, name=name, reason=reason)
    missing = [f for f in ("description", "arguments", "code") if f not in obj]
    if missing:
        raise ActionError(f"{kind} {name}: missing field {missing[0]!r}")
    description = _visible_text(_string_field(obj, "description", kind), "description", f"{kind} {name}").strip()
    if not description:
        raise ActionError(f"{kind} {name}: `description` is empty; say what the function does")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise ActionError(
            f"{kind} {name}: description has {len(description)} characters; the limit is {MAX_DESCRIPTION_CHARS}"
        )
    code = _visible_text(_string_field(obj, "code", kind), "code", f"{kind} {name}")
    if not code.strip():
        raise ActionError(f"{kind} {name}: `code` is empty")
    if len(code) > MAX_CODE_CHARS:
        raise ActionError(f"{kind} {name}: code has {len(code)} characters; the limit is {MAX_CODE_CHARS}")
    return Action(
        kind=kind,
        name=name,
        description=description,
        parameters=parse_parameters(obj["arguments"]),
        packages=parse_packages(obj.get("packages", "")),
        code=code.replace("\r\n", "\n"),
        reason=reason,
    )


def _decode_object(data: Any, *, what: str) -> Mapping[str, Any]:
    """A JSON object from text, also when a model encoded it twice."""
    value = data
    for depth in range(3):
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if not isinstance(value, str):
            break
        try:
            value = safe_json.loads(value)
        except safe_json.JSONTooDeep as exc:
            raise ActionError(f"{what} is {exc}; send a flat JSON object") from None
        except json.JSONDecodeError as exc:
            if depth:  # valid JSON holding a string that is not JSON itself: say it is a string
                break
            raise ActionError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except ValueError as exc:  # e.g. a number with more digits than Python converts
            raise ActionError(f"{what} is not valid JSON: {_first_line(str(exc))}") from None
    if not isinstance(value, Mapping):
        raise ActionError(f"{what} must be a JSON object, not {_json_kind(value)}")
    return value


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else "invalid value"


def _json_kind(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _string_field(obj: Mapping[str, Any], key: str, kind: str) -> str:
    if key not in obj:
        raise ActionError(f"{kind}: missing field {key!r}")
    value = obj[key]
    if not isinstance(value, str):
        raise ActionError(f"{kind}: `{key}` must be a string, not {_json_kind(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # JSON allows "\ud800"; no file or commit can hold it
        raise ActionError(
            f"{kind}: `{key}` is not valid Unicode text: unpaired surrogate {value[exc.start]!r} at position {exc.start}"
        ) from None
    return value


def clean_reason(text: str) -> str | None:
    """The optimizer's reason as a commit body: invisible and control characters dropped."""
    return "".join(c for c in text if not _hidden(c, "\t\n")).strip() or None


def _hidden(char: str, allowed: str) -> bool:
    return char in _BIDI_CONTROLS or (unicodedata.category(char) in ("Cc", "Cs") and char not in allowed)


def _visible_text(value: str, key: str, where: str) -> str:
    """Refuse control and bidirectional characters: a reviewer could not see what they do."""
    for index, char in enumerate(value):
        if _hidden(char, "\t\n\r\f"):
            line = value.count("\n", 0, index) + 1
            raise ActionError(
                f"{where}: `{key}` contains the invisible character U+{ord(char):04X} at line {line}; "
                "remove it (control and bidi characters hide what the text says from a reviewer)"
            )
    return value


def check_function_name(name: str) -> None:
    """Refuse names that are not safe, importable module and function names."""
    if not _NAME.fullmatch(name):
        hint = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "solve_equation"
        raise ActionError(
            f"function name {name!r} is not allowed: use lowercase ASCII snake_case up to 64 characters, e.g. {hint[:64]!r}"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ActionError(f"function name {name!r} is a Python keyword; choose a descriptive name")
    if hasattr(builtins, name) or name in sys.stdlib_module_names or name in RESERVED_NAMES:
        raise ActionError(
            f"function name {name!r} shadows a Python builtin or module of that name; choose a more specific name"
        )
    if name.startswith("test"):  # test_*.py modules would be collected and run by pytest in the user's repo
        raise ActionError(
            f"function name {name!r} starts with 'test', which test runners collect; e.g. 'check_{name[4:].strip('_') or 'value'}'"
        )


def parse_parameters(value: Any) -> dict[str, Any]:
    """A full parameters schema from what the optimizer sent as ``arguments``.

    Accepts the paper's form (a JSON *string* holding the properties mapping), the
    mapping itself, or a full object schema. Given only the mapping, every property
    without a ``default`` is required.
    """
    if isinstance(value, str) and not value.strip():
        return empty_parameters()
    schema = _decode_object(value, what="`arguments`") if isinstance(value, (str, bytes)) else value
    if not isinstance(schema, Mapping):
        raise ActionError(f"`arguments` must be a JSON object of parameters, not {_json_kind(schema)}")
    schema = dict(schema)
    if "type" in schema and not isinstance(schema["type"], Mapping):
        # A whole schema rather than a mapping of parameter names (a parameter maps to a schema *object*).
        if schema["type"] != "object":
            raise ActionError(
                f"`arguments` must be an object schema of named parameters, not a schema of type {schema['type']!r}"
            )
        refs = sorted(_REFERENCE_KEYS & set(schema))
        if refs:
            raise ActionError(f"`arguments` uses {refs[0]}; write each parameter's schema inline without references")
        unknown = sorted(set(schema) - _OBJECT_SCHEMA_KEYS - _SCHEMA_ANNOTATIONS)
        if unknown:
            raise ActionError(
                f"`arguments`: unsupported key {unknown[0]!r} in the object schema; give `properties` and `required`"
            )
        properties = schema.get("properties", {})
        if not isinstance(properties, Mapping):
            raise ActionError("`arguments`: `properties` must be an object mapping parameter names to schemas")
        required = schema.get("required")
        if required is None:
            required = [n for n, p in properties.items() if not (isinstance(p, Mapping) and "default" in p)]
    else:
        properties = schema
        required = [n for n, p in properties.items() if not (isinstance(p, Mapping) and "default" in p)]
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ActionError("`arguments`: `required` must be a list of parameter names")
    for name, prop in properties.items():
        _check_parameter(name, prop)
    unknown = [r for r in required if r not in properties]
    if unknown:
        raise ActionError(f"`arguments`: required parameter {unknown[0]!r} is not among the properties")
    return {
        "type": "object",
        "properties": {name: dict(prop) for name, prop in properties.items()},
        "required": [n for n in properties if n in set(required)],
    }


def _check_parameter(name: str, prop: Any) -> None:
    if not isinstance(name, str) or not _PARAM.fullmatch(name) or keyword.iskeyword(name):
        raise ActionError(f"`arguments`: parameter name {name!r} is not a Python identifier")
    if not isinstance(prop, Mapping):
        raise ActionError(
            f"`arguments`: parameter {name!r} must map to a schema object such as "
            '{"type": "string", "description": "..."}'
        )
    _check_schema_node(prop, f"parameter {name!r}", depth=0)
    try:
        text = json.dumps(prop, sort_keys=True)
    except (TypeError, ValueError):  # not JSON (a Python caller's object): let jsonschema say why
        text = None
    problem = _schema_problem(text) if text is not None else _schema_problem_of(dict(prop))
    if problem is not None:
        kind, message = problem
        if kind == "schema":
            raise ActionError(f"`arguments`: parameter {name!r} has an invalid schema: {message}")
        raise ActionError(f"`arguments`: default of {name!r} does not match its schema: {message}")


@lru_cache(maxsize=4096)
def _schema_problem(text: str) -> tuple[str, str] | None:
    # The optimizer sends the same parameter schemas again and again (revisions, re-asks).
    return _schema_problem_of(json.loads(text))


def _schema_problem_of(prop: dict[str, Any]) -> tuple[str, str] | None:
    """("schema", why) for an invalid JSON schema, ("default", why) for a default it refuses, else None."""
    import jsonschema  # only validating an action needs it

    try:
        jsonschema.Draft202012Validator.check_schema(prop)
    except jsonschema.SchemaError as exc:
        return "schema", exc.message
    if "default" in prop:
        schema = {k: v for k, v in prop.items() if k != "default"}
        validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        try:
            validator(schema).validate(prop["default"])  # the schema itself was checked above
        except jsonschema.ValidationError as exc:
            return "default", exc.message
    return None


def _check_schema_node(node: Any, where: str, depth: int) -> None:
    if depth > MAX_SCHEMA_DEPTH:
        raise ActionError(f"`arguments`: {where} is nested more than {MAX_SCHEMA_DEPTH} levels deep")
    if isinstance(node, Mapping):
        refs = _REFERENCE_KEYS & set(node)
        if refs:
            raise ActionError(
                f"`arguments`: {where} uses {sorted(refs)[0]}; write the schema inline without references"
            )
        for key, value in node.items():
            members = value if key in _SUBSCHEMA_LIST_KEYS and isinstance(value, list) else [value]
            if (key in _SUBSCHEMA_KEYS or key in _SUBSCHEMA_LIST_KEYS) and not all(
                isinstance(member, Mapping) for member in members
            ):
                raise ActionError(
                    f"`arguments`: {where} has a non-object schema under {key!r}; "
                    'write a schema object such as {"type": "string"}'
                )
        types = node.get("type")
        for kind in types if isinstance(types, list) else [types] if types is not None else []:
            if not isinstance(kind, str) or kind not in _JSON_TYPES:  # {"type": {}} must not crash
                raise ActionError(
                    f"`arguments`: {where} has unknown type {kind!r}; use one of {', '.join(sorted(_JSON_TYPES))}"
                )
        for value in node.values():
            _check_schema_node(value, where, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _check_schema_node(value, where, depth + 1)


def parse_packages(value: Any) -> tuple[str, ...]:
    """Package requirements from a comma/space separated string (or a list)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = [p for p in re.split(r"[,\s]+", value) if p]
    elif isinstance(value, list) and all(isinstance(p, str) for p in value):
        items = [p.strip() for p in value if p.strip()]
    else:
        raise ActionError(f'`packages` must be a string such as "sympy numpy", not {_json_kind(value)}')
    for item in items:
        if not _PACKAGE.fullmatch(item):
            raise ActionError(f"`packages`: {item!r} is not a package requirement such as 'sympy' or 'numpy>=1.26'")
    return tuple(dict.fromkeys(items))
