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

import inspect
from typing import Any

import libcst as cst

from fnreg.registry.derived import DerivedFunction, SchemaError
from fnreg.registry.literals import py_literal
from fnreg.registry.source_shape import SourceTooDeep, check_shape
from fnreg.registry.syntax import NO_VALUE, literal_value

__all__ = [
    "DerivedFunction",
    "SchemaError",
    "annotation_for",
    "annotation_schema",
    "canonical_schema",
    "clean_description",
    "derive_function",
    "describe_function",
]

JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
PYTHON_TYPES = {v: k for k, v in JSON_TYPES.items()} | {"null": "None"}
_LIST_NAMES = {"list", "List", "Sequence", "Iterable", "tuple", "Tuple", "set", "Set", "frozenset"}
_DICT_NAMES = {"dict", "Dict", "Mapping", "MutableMapping"}
_ANY_NAMES = {"Any", "object"}
# Keywords ``annotation_for`` expresses as Python types; every other keyword travels in
# the ``Annotated`` metadata dict so that nothing the optimizer asked for is lost.
_TYPE_KEYWORDS = {"type", "items", "enum", "anyOf", "additionalProperties", "description", "default"}


def derive_function(source: str, name: str) -> DerivedFunction:
    """Derive the tool description of function ``name`` from a module's source.

    Raises ``SchemaError`` when the module has a syntax error or no top-level ``def name``.
    """
    try:
        check_shape(source)  # before libcst: too much nesting crashes its parser (SIGSEGV)
        module = cst.parse_module(source)
    except SourceTooDeep as exc:
        raise SchemaError(str(exc)) from None
    except SyntaxError as exc:
        raise SchemaError(f"syntax error at line {exc.lineno}: {exc.msg}") from None
    except UnicodeError:
        raise SchemaError("the module is not valid Unicode text") from None
    except cst.ParserSyntaxError as exc:
        raise SchemaError(f"syntax error at line {exc.raw_line}: {exc.message}") from None
    except cst.CSTValidationError as exc:
        raise SchemaError(f"syntax error: {exc}") from None
    except (RecursionError, MemoryError):
        raise SchemaError("the module is nested too deeply to parse") from None
    func = find_function(module, name)
    if func is None:
        raise SchemaError(f"no top-level function `{name}` in the module")
    return describe_function(func, read_requires(module))


def describe_function(func: cst.FunctionDef, requires: tuple[str, ...] = ()) -> DerivedFunction:
    """The tool description of one parsed ``def`` (its module declares ``requires``)."""
    warnings: list[str] = []
    docstring = func.get_docstring() or ""
    description = clean_description(docstring)
    parameters = _derive_parameters(func, warnings, documented_parameters(docstring))
    return DerivedFunction(
        name=func.name.value,
        description=description,
        parameters=parameters,
        requires=requires,
        warnings=tuple(warnings),
        returns=_derive_returns(func),
    )


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
                literal = literal_value(value)
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


def documented_parameters(docstring: str) -> dict[str, str]:
    """Parameter descriptions from a Google, NumPy or reST docstring (``Args:``, ``Parameters``, ``:param:``).

    Hand-written functions document their parameters there; an ``Annotated`` description in
    the signature, which fnreg writes, takes precedence. The whole docstring stays the tool's
    description: the model reads the parameter notes twice rather than never.
    """
    if not docstring.strip():
        return {}
    import docstring_parser  # only when a module is derived, not on every CLI start

    try:
        parsed = docstring_parser.parse(docstring)
    except (docstring_parser.ParseError, RecursionError, ValueError):
        return {}
    return {p.arg_name: clean_description(p.description) for p in parsed.params if p.description and p.arg_name}


def _derive_parameters(func: cst.FunctionDef, warnings: list[str], documented: dict[str, str]) -> dict[str, Any]:
    params = func.params
    if params.star_arg not in (cst.MaybeSentinel.DEFAULT, None) and isinstance(params.star_arg, cst.Param):
        warnings.append(f"*{params.star_arg.name.value} is not described to the LLM")
    if params.star_kwarg is not None:
        warnings.append(f"**{params.star_kwarg.name.value} is not described to the LLM")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
        pname = param.name.value
        prop = _param_schema(param, warnings)
        if "description" not in prop and documented.get(pname):
            prop["description"] = documented[pname]
        if param.default is None:
            required.append(pname)
        else:
            default = literal_value(param.default)
            if default is NO_VALUE:
                warnings.append(f"default of `{pname}` is not a literal; the LLM is not told it")
            elif default is not None:
                prop["default"] = _jsonable(default)
        properties[pname] = prop
    return {"type": "object", "properties": properties, "required": required}


def _derive_returns(func: cst.FunctionDef) -> dict[str, Any] | None:
    if func.returns is None:
        return None
    try:
        schema = annotation_schema(func.returns.annotation)
    except SchemaError:
        return None  # an unsupported return type only means no output schema: no warning
    return schema or None


def _param_schema(param: cst.Param, warnings: list[str]) -> dict[str, Any]:
    if param.annotation is None:
        warnings.append(f"`{param.name.value}` has no annotation; the LLM may pass any type")
        return {}
    try:
        return annotation_schema(param.annotation.annotation)
    except SchemaError as exc:
        warnings.append(f"`{param.name.value}`: {exc}")
        return {}


def _code(node: cst.CSTNode) -> str:
    """The source of one node, for a message."""
    return _NO_MODULE.code_for_node(node)


_NO_MODULE = cst.Module(body=[])


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


# ----------------------------------------------------------------------------- annotation → schema


def annotation_schema(node: cst.BaseExpression) -> dict[str, Any]:
    """JSON schema of one annotation expression."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        # A quoted (forward-reference) annotation: read what is inside the quotes.
        text = literal_value(node)
        if not isinstance(text, str):
            raise SchemaError(f"unsupported annotation {_code(node)!r}")
        try:
            check_shape(f"x: {text}\n")
            stmt = cst.parse_module(f"x: {text}\n").body[0]
        except (SyntaxError, SourceTooDeep, UnicodeError, cst.ParserSyntaxError, cst.CSTValidationError, IndexError):
            raise SchemaError(f"unsupported annotation {_code(node)!r}") from None
        if not (isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.AnnAssign)):
            raise SchemaError(f"unsupported annotation {_code(node)!r}")
        return annotation_schema(stmt.body[0].annotation.annotation)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _union([_flatten_union(node)])
    name = _dotted_tail(node)
    if name is not None:
        return _named_type(name, node)
    if isinstance(node, cst.Subscript):
        return _subscript_schema(node)
    raise SchemaError(f"unsupported annotation {_code(node)!r}")


def _flatten_union(node: cst.BaseExpression) -> list[dict[str, Any]]:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _flatten_union(node.left) + _flatten_union(node.right)
    return [annotation_schema(node)]


def _dotted_tail(node: cst.BaseExpression) -> str | None:
    """``int`` for ``int``, ``List`` for ``typing.List``; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _named_type(name: str, node: cst.BaseExpression) -> dict[str, Any]:
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
    raise SchemaError(f"unsupported annotation {_code(node)!r}")


def _subscript_args(node: cst.Subscript) -> list[cst.BaseExpression]:
    args = []
    for element in node.slice:
        if not isinstance(element.slice, cst.Index):
            raise SchemaError("slices are not types")
        args.append(element.slice.value)
    return args


def _subscript_schema(node: cst.Subscript) -> dict[str, Any]:
    head = _dotted_tail(node.value)
    args = _subscript_args(node)
    if head == "Annotated":
        return _annotated_schema(args)
    if head == "Optional":
        return _union([[annotation_schema(args[0]), {"type": "null"}]])
    if head == "Union":
        return _union([[annotation_schema(arg) for arg in args]])
    if head == "Literal":
        return _literal_schema(args)
    if head in _LIST_NAMES:
        item_args = [a for a in args if not isinstance(a, cst.Ellipsis)]
        if len(item_args) != 1:
            raise SchemaError(f"only homogeneous sequences are supported, not {_code(node)!r}")
        items = annotation_schema(item_args[0])
        return {"type": "array", "items": items} if items else {"type": "array"}
    if head in _DICT_NAMES:
        if len(args) != 2 or annotation_schema(args[0]) != {"type": "string"}:
            raise SchemaError(f"dict keys must be str in JSON, not {_code(node)!r}")
        values = annotation_schema(args[1])
        return {"type": "object", "additionalProperties": values} if values else {"type": "object"}
    raise SchemaError(f"unsupported annotation {_code(node)!r}")


def _annotated_schema(args: list[cst.BaseExpression]) -> dict[str, Any]:
    schema = dict(annotation_schema(args[0]))
    for meta in args[1:]:
        value = literal_value(meta)
        if isinstance(value, str):
            schema["description"] = value
        elif isinstance(value, dict):
            schema.update(value)
        # Other metadata (pydantic Field objects...) says nothing we can read statically.
    return schema


def _literal_schema(args: list[cst.BaseExpression]) -> dict[str, Any]:
    values = [literal_value(arg) for arg in args]
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
        metadata.append(py_literal(prop["description"]))
    extra = {k: v for k, v in prop.items() if k not in _TYPE_KEYWORDS}
    if extra:
        metadata.append(py_literal(extra))
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
        base = f"Literal[{', '.join(py_literal(v) for v in values)}]"
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
