"""Tool schemas and Python annotations, in both directions, without importing any code.

``derive_function`` reads a function module's source with libcst and returns the OpenAI
tool description the LLM sees: name, docstring, and a JSON schema of the parameters
built from their annotations and defaults. ``annotation_for`` goes the other way, from a
JSON schema property to annotation source, so that a module built from an optimizer
action derives back to the schema it was asked for (``canonical_schema`` defines
"the same").

Supported annotations: ``str``, ``int``, ``float``, ``bool``, ``Any``, ``None``,
``list[T]`` (and ``List``/``Sequence``/``tuple[T, ...]``), ``dict[str, T]`` (and
``Dict``/``Mapping``), ``Literal[...]``, ``Optional[T]``, ``T | None``, ``Union[...]``,
``Annotated[T, "description", {extra JSON-schema keywords}]``.
"""

from __future__ import annotations

import ast
import inspect
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
PYTHON_TYPES = {v: k for k, v in JSON_TYPES.items()} | {"null": "None"}
_LIST_NAMES = {"list", "List", "Sequence", "Iterable", "tuple", "Tuple", "set", "Set", "frozenset"}
_DICT_NAMES = {"dict", "Dict", "Mapping", "MutableMapping"}
_ANY_NAMES = {"Any", "object"}
# Keywords ``annotation_for`` expresses as Python types; every other keyword travels in
# the ``Annotated`` metadata dict so that nothing the optimizer asked for is lost.
_TYPE_KEYWORDS = {"type", "items", "enum", "anyOf", "additionalProperties", "description", "default"}


class SchemaError(ValueError):
    """A schema or annotation fnreg cannot translate; the message says which and why."""


@dataclass(frozen=True)
class DerivedFunction:
    """What the LLM is told about one function, derived from its source."""

    name: str
    #: The function's docstring, cleaned (``inspect.cleandoc``); the tool description.
    description: str
    #: JSON schema of the parameters: ``{"type": "object", "properties": ..., "required": [...]}``.
    parameters: dict[str, Any]
    #: Packages the module declares in ``__requires__`` (recorded, never installed).
    requires: tuple[str, ...] = ()
    #: Things a reviewer should know (unsupported annotations, ``*args``...); never fatal.
    warnings: tuple[str, ...] = field(default=())
    #: JSON schema of the return annotation; None when there is none or it is not a JSON type
    #: (``Any``, a class...). Served tools declare it as their output schema.
    returns: dict[str, Any] | None = None


def derive_function(source: str, name: str) -> DerivedFunction:
    """Derive the tool description of function ``name`` from a module's source.

    Raises ``SchemaError`` when the module has a syntax error or no top-level ``def name``.
    """
    try:
        module = cst.parse_module(_signature_source(source, name))
    except cst.ParserSyntaxError as exc:
        raise SchemaError(f"syntax error at line {exc.raw_line}: {exc.message}") from None
    func = find_function(module, name)
    if func is None:
        raise SchemaError(f"no top-level function `{name}` in the module")
    warnings: list[str] = []
    description = clean_description(func.get_docstring() or "")
    parameters = _derive_parameters(module, func, warnings)
    return DerivedFunction(
        name=name,
        description=description,
        parameters=parameters,
        requires=read_requires(module),
        warnings=tuple(warnings),
        returns=_derive_returns(module, func),
    )


def _signature_source(source: str, name: str) -> str:
    """The lines derivation reads: ``def name(...)`` through its docstring, and ``__requires__``.

    libcst parsing costs about half a millisecond a module, most of it for lines the schema
    never looks at (imports, helpers, the body); Python's own parser finds the relevant lines
    ten times faster. Anything unusual falls back to the whole module, so the result is the same.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source
    lines = source.splitlines(keepends=True)
    kept: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and "__requires__" in ast.unparse(node).split("=")[0]:
            kept += lines[node.lineno - 1 : node.end_lineno]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            first = node.body[0]
            if first.lineno == node.lineno or node.decorator_list:
                return source  # one-line body or decorators: read all of it
            has_doc = (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            )
            end = first.end_lineno if has_doc else first.lineno - 1
            head = lines[node.lineno - 1 : end]
            indent = lines[first.lineno - 1][: first.col_offset]
            if not head or indent.strip(" \t"):
                return source
            kept += [*head, f"{indent}pass\n"]
    text = "".join(line if line.endswith("\n") else line + "\n" for line in kept)
    return text or source


def find_function(module: cst.Module, name: str) -> cst.FunctionDef | None:
    """The top-level ``def name`` of a module, if any."""
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
            return stmt
    return None


def read_requires(module: cst.Module) -> tuple[str, ...]:
    """The string literals of a top-level ``__requires__ = [...]``."""
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            target, value = _assignment(small)
            if target == "__requires__" and value is not None:
                literal = literal_value(module, value)
                if isinstance(literal, (list, tuple)):
                    return tuple(str(item) for item in literal)
    return ()


def _assignment(node: cst.BaseSmallStatement) -> tuple[str | None, cst.BaseExpression | None]:
    if isinstance(node, cst.Assign) and len(node.targets) == 1:
        target = node.targets[0].target
        if isinstance(target, cst.Name):
            return target.value, node.value
    if isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name):
        return node.target.value, node.value
    return None, None


NO_VALUE: Any = object()  # what literal_value returns for a non-literal


def literal_value(module: cst.Module, node: cst.BaseExpression) -> Any:
    """The Python value of a literal expression, or ``NO_VALUE`` when it is not one."""
    try:
        return ast.literal_eval(module.code_for_node(node).strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return NO_VALUE


def _derive_parameters(module: cst.Module, func: cst.FunctionDef, warnings: list[str]) -> dict[str, Any]:
    params = func.params
    if params.star_arg not in (cst.MaybeSentinel.DEFAULT, None) and isinstance(params.star_arg, cst.Param):
        warnings.append(f"*{params.star_arg.name.value} is not described to the LLM")
    if params.star_kwarg is not None:
        warnings.append(f"**{params.star_kwarg.name.value} is not described to the LLM")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
        pname = param.name.value
        prop = _param_schema(module, param, warnings)
        if param.default is None:
            required.append(pname)
        else:
            default = literal_value(module, param.default)
            if default is NO_VALUE:
                warnings.append(f"default of `{pname}` is not a literal; the LLM is not told it")
            elif default is not None:
                prop["default"] = _jsonable(default)
        properties[pname] = prop
    return {"type": "object", "properties": properties, "required": required}


def _derive_returns(module: cst.Module, func: cst.FunctionDef) -> dict[str, Any] | None:
    if func.returns is None:
        return None
    try:
        schema = annotation_schema(module, func.returns.annotation)
    except SchemaError:
        return None  # an unsupported return type only means no output schema: no warning
    return schema or None


def _param_schema(module: cst.Module, param: cst.Param, warnings: list[str]) -> dict[str, Any]:
    if param.annotation is None:
        warnings.append(f"`{param.name.value}` has no annotation; the LLM may pass any type")
        return {}
    try:
        return annotation_schema(module, param.annotation.annotation)
    except SchemaError as exc:
        warnings.append(f"`{param.name.value}`: {exc}")
        return {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


# ----------------------------------------------------------------------------- annotation → schema


def annotation_schema(module: cst.Module, node: cst.BaseExpression) -> dict[str, Any]:
    """JSON schema of one annotation expression."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        # A quoted (forward-reference) annotation: read what is inside the quotes.
        text = literal_value(module, node)
        if not isinstance(text, str):
            raise SchemaError(f"unsupported annotation {module.code_for_node(node)!r}")
        inner = cst.parse_module(f"x: {text}\n")
        stmt = inner.body[0]
        assert isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.AnnAssign)
        return annotation_schema(inner, stmt.body[0].annotation.annotation)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _union([_flatten_union(module, node)])
    name = _dotted_tail(node)
    if name is not None:
        return _named_type(module, name, node)
    if isinstance(node, cst.Subscript):
        return _subscript_schema(module, node)
    raise SchemaError(f"unsupported annotation {module.code_for_node(node)!r}")


def _flatten_union(module: cst.Module, node: cst.BaseExpression) -> list[dict[str, Any]]:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _flatten_union(module, node.left) + _flatten_union(module, node.right)
    return [annotation_schema(module, node)]


def _dotted_tail(node: cst.BaseExpression) -> str | None:
    """``int`` for ``int``, ``List`` for ``typing.List``; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _named_type(module: cst.Module, name: str, node: cst.BaseExpression) -> dict[str, Any]:
    if name in JSON_TYPES:
        return {"type": JSON_TYPES[name]}
    if name == "None":
        return {"type": "null"}
    if name in _ANY_NAMES:
        return {}
    if name in _LIST_NAMES:
        return {"type": "array"}
    if name in _DICT_NAMES:
        return {"type": "object"}
    raise SchemaError(f"unsupported annotation {module.code_for_node(node)!r}")


def _subscript_args(node: cst.Subscript) -> list[cst.BaseExpression]:
    args = []
    for element in node.slice:
        if not isinstance(element.slice, cst.Index):
            raise SchemaError("slices are not types")
        args.append(element.slice.value)
    return args


def _subscript_schema(module: cst.Module, node: cst.Subscript) -> dict[str, Any]:
    head = _dotted_tail(node.value)
    args = _subscript_args(node)
    if head == "Annotated":
        return _annotated_schema(module, args)
    if head == "Optional":
        return _union([[annotation_schema(module, args[0]), {"type": "null"}]])
    if head == "Union":
        return _union([[annotation_schema(module, arg) for arg in args]])
    if head == "Literal":
        return _literal_schema(module, args)
    if head in _LIST_NAMES:
        item_args = [a for a in args if not isinstance(a, cst.Ellipsis)]
        if len(item_args) != 1:
            raise SchemaError(f"only homogeneous sequences are supported, not {module.code_for_node(node)!r}")
        items = annotation_schema(module, item_args[0])
        return {"type": "array", "items": items} if items else {"type": "array"}
    if head in _DICT_NAMES:
        if len(args) != 2 or annotation_schema(module, args[0]) != {"type": "string"}:
            raise SchemaError(f"dict keys must be str in JSON, not {module.code_for_node(node)!r}")
        values = annotation_schema(module, args[1])
        return {"type": "object", "additionalProperties": values} if values else {"type": "object"}
    raise SchemaError(f"unsupported annotation {module.code_for_node(node)!r}")


def _annotated_schema(module: cst.Module, args: list[cst.BaseExpression]) -> dict[str, Any]:
    schema = dict(annotation_schema(module, args[0]))
    for meta in args[1:]:
        value = literal_value(module, meta)
        if isinstance(value, str):
            schema["description"] = value
        elif isinstance(value, dict):
            schema.update(value)
        # Other metadata (pydantic Field objects...) says nothing we can read statically.
    return schema


def _literal_schema(module: cst.Module, args: list[cst.BaseExpression]) -> dict[str, Any]:
    values = [literal_value(module, arg) for arg in args]
    if any(v is NO_VALUE for v in values):
        raise SchemaError("Literal[...] values must be literals")
    return {"type": _json_type_of(values), "enum": values} if values else {"enum": []}


def _json_type_of(values: list[Any]) -> str | list[str]:
    kinds = []
    for value in values:
        if value is None:
            kind = "null"
        elif isinstance(value, bool):
            kind = "boolean"
        elif isinstance(value, int):
            kind = "integer"
        elif isinstance(value, float):
            kind = "number"
        elif isinstance(value, str):
            kind = "string"
        else:
            raise SchemaError(f"unsupported Literal value {value!r}")
        if kind not in kinds:
            kinds.append(kind)
    if {"integer", "number"} <= set(kinds):
        kinds.remove("integer")
    return kinds[0] if len(kinds) == 1 else kinds


def _union(groups: list[list[dict[str, Any]]]) -> dict[str, Any]:
    members = [m for group in groups for m in group]
    nullable = {"type": "null"} in members
    others = [m for m in members if m != {"type": "null"}]
    if len(others) == 1 and nullable and isinstance(others[0].get("type"), str):
        merged = dict(others[0])
        merged["type"] = [merged["type"], "null"]
        if "enum" in merged and None not in merged["enum"]:
            merged["enum"] = [*merged["enum"], None]
        return merged
    if len(others) == 1 and not nullable:
        return others[0]
    return {"anyOf": members}


# ----------------------------------------------------------------------------- schema → annotation


def annotation_for(prop: dict[str, Any]) -> tuple[str, set[str]]:
    """Annotation source for a JSON-schema property, and the ``typing`` names it uses.

    The inverse of ``annotation_schema``: ``annotation_schema(annotation_for(p))`` equals
    ``p`` up to ``canonical_schema``. ``default`` is not part of the annotation.
    """
    uses: set[str] = set()
    base = _base_annotation(prop, uses)
    metadata: list[str] = []
    if "description" in prop:
        metadata.append(_py_literal(prop["description"]))
    extra = {k: v for k, v in prop.items() if k not in _TYPE_KEYWORDS}
    if extra:
        metadata.append(_py_literal(extra))
    if not metadata:
        return base, uses
    uses.add("Annotated")
    return f"Annotated[{base}, {', '.join(metadata)}]", uses


def _base_annotation(prop: dict[str, Any], uses: set[str]) -> str:
    if "anyOf" in prop:
        parts = []
        for member in prop["anyOf"]:
            text, used = annotation_for(member)
            uses |= used
            parts.append(text)
        return " | ".join(parts)
    types = prop.get("type")
    type_list = types if isinstance(types, list) else ([types] if types is not None else [])
    nullable = "null" in type_list
    non_null = [t for t in type_list if t != "null"]
    if "enum" in prop:
        values = [v for v in prop["enum"] if v is not None]
        uses.add("Literal")
        base = f"Literal[{', '.join(_py_literal(v) for v in values)}]"
    elif len(non_null) > 1:
        base = " | ".join(_simple_type(dict(prop, type=t), uses) for t in non_null)
    elif non_null:
        base = _simple_type(dict(prop, type=non_null[0]), uses)
    else:
        uses.add("Any")
        return "Any" if not nullable else "Any | None"
    return f"{base} | None" if nullable else base


def _simple_type(prop: dict[str, Any], uses: set[str]) -> str:
    kind = prop["type"]
    if kind in PYTHON_TYPES:
        return PYTHON_TYPES[kind]
    if kind == "array":
        items = prop.get("items")
        if not items:
            uses.add("Any")
            return "list[Any]"
        text, used = annotation_for(items)
        uses |= used
        return f"list[{text}]"
    if kind == "object":
        values = prop.get("additionalProperties")
        if not isinstance(values, dict) or not values:
            uses.add("Any")
            return "dict[str, Any]"
        text, used = annotation_for(values)
        uses |= used
        return f"dict[str, {text}]"
    raise SchemaError(f"unknown JSON type {kind!r}")


def _py_literal(value: Any) -> str:
    """Python source for a JSON value (``true`` → ``True``), stable and readable."""
    if isinstance(value, str):
        # Readable unicode, but invisible format/control characters as escapes a reviewer can see,
        # and U+2028/U+2029 too: libcst's tokenizer ends a line at them, even inside a string.
        text = json.dumps(value, ensure_ascii=False)
        if text.isascii():  # json.dumps already escaped ASCII control characters
            return text
        hidden = ("Cc", "Cf", "Cs", "Zl", "Zp")
        return "".join(json.dumps(c)[1:-1] if unicodedata.category(c) in hidden else c for c in text)
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py_literal(str(k))}: {_py_literal(v)}" for k, v in value.items()) + "}"
    raise SchemaError(f"not a JSON value: {value!r}")


# ----------------------------------------------------------------------------- comparison


def canonical_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameters schema in the form two equivalent schemas share.

    Ordering is irrelevant; ``default: null`` and a ``"null"`` type on an optional
    parameter say nothing more than "may be omitted" (the function receives ``None``
    either way); one-element type lists are plain types; descriptions are cleaned.
    """
    properties = schema.get("properties") or {}
    required = sorted(schema.get("required", list(properties)))
    canon: dict[str, Any] = {}
    for name, prop in properties.items():
        prop = _canonical_property(prop)
        if name not in required:
            prop = _drop_null(prop)
        canon[name] = prop
    return {"type": "object", "properties": canon, "required": required}


def _canonical_property(prop: Any) -> Any:
    if isinstance(prop, list):
        return [_canonical_property(p) for p in prop]
    if not isinstance(prop, dict):
        return prop
    out = {k: _canonical_property(v) for k, v in prop.items()}
    if isinstance(out.get("type"), list) and len(out["type"]) == 1:
        out["type"] = out["type"][0]
    if isinstance(out.get("description"), str):
        out["description"] = clean_description(out["description"])
    if out.get("additionalProperties") in ({}, True) and out.get("type") == "object":
        del out["additionalProperties"]
    if out.get("items") == {}:
        del out["items"]
    return out


def _drop_null(prop: dict[str, Any]) -> dict[str, Any]:
    prop = {k: v for k, v in prop.items() if not (k == "default" and v is None)}
    if isinstance(prop.get("type"), list) and "null" in prop["type"]:
        rest = [t for t in prop["type"] if t != "null"]
        prop["type"] = rest[0] if len(rest) == 1 else rest
    if isinstance(prop.get("enum"), list) and None in prop["enum"]:
        prop["enum"] = [v for v in prop["enum"] if v is not None]
    return prop


def clean_description(text: str) -> str:
    """Docstring-style cleaning: dedent, strip, no trailing spaces on lines."""
    return "\n".join(line.rstrip() for line in inspect.cleandoc(text).splitlines()).strip()
