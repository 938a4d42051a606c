"""The public function's signature and docstring, written from the action's JSON schema.

The schema is the contract with the LLM: every parameter gets the annotation
:func:`~fnreg.registry.schema.annotation_for` writes for its schema (``Annotated`` with its
description), its default, and required parameters come first. The code's own parameters
must match the schema's names; a body without ``def`` gets the signature synthesised.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import libcst as cst

from fnreg.errors import ActionError
from fnreg.registry.actions import Action
from fnreg.registry.literals import py_literal
from fnreg.registry.policy import Bindings
from fnreg.registry.schema import SchemaError, annotation_for, clean_description
from fnreg.registry.syntax import is_docstring, is_inert, literal_value, statements

#: ``typing`` names a written signature may use.
TYPING_NAMES = ("Annotated", "Any", "Literal")


def fit_function(
    func: cst.FunctionDef,
    module: cst.Module,
    action: Action,
    effective: dict[str, Any],
    where: str,
    *,
    synthesised: bool,
) -> cst.FunctionDef:
    """The public def with the action's signature and docstring.

    ``synthesised``: ``func`` was made around a body, so its parameters come from the schema alone.
    """
    if func.decorators:
        raise ActionError(
            f"{where}: decorators on `{action.name}` are not supported (they hide the signature fnreg reads); "
            "call the decorated helper from inside the function instead"
        )
    if _is_stub(func.body):
        raise ActionError(
            f"{where}: `{action.name}` has no implementation (only a docstring, `pass` or `...`); write its body"
        )
    params = func.params
    if isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None:
        raise ActionError(f"{where}: *args/**kwargs cannot be described to the LLM; list the parameters")
    existing = {p.name.value: p for p in [*params.posonly_params, *params.params, *params.kwonly_params]}
    properties = effective["properties"]
    if not synthesised:
        extra = [n for n in existing if n not in properties]
        if extra:
            raise ActionError(
                f"{where}: parameter `{extra[0]}` is not in `arguments`; add it to the schema or remove it"
            )
        missing = [n for n in properties if n not in existing]
        if missing:
            raise ActionError(
                f"{where}: `arguments` declares `{missing[0]}` but `def {action.name}` has no such parameter"
            )
    order = list(properties) if synthesised else list(existing)
    new_params = [_param(n, properties, existing.get(n), module, effective, where) for n in order]
    required = [p for p in new_params if p.default is None]
    optional = [p for p in new_params if p.default is not None]
    body = _with_docstring(func.body, action.description)
    return func.with_changes(params=cst.Parameters(params=[*required, *optional]), body=body)


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def check_signature_names(bindings: Bindings, main: cst.FunctionDef, where: str) -> None:
    """The written signature uses ``Annotated``, ``int``...: the module may not bind those names to anything else.

    ``bindings``: what the module's other statements bind (:func:`~fnreg.registry.policy.module_bindings`).
    """
    if not bindings:  # nothing bound, or a star import that cannot be read statically
        return
    visitor = _Names()
    for param in main.params.params:
        if param.annotation is not None:
            param.annotation.visit(visitor)
    for used in sorted(visitor.names & set(bindings)):
        if bindings[used] not in (f"typing.{used}", f"typing_extensions.{used}"):
            raise ActionError(
                f"{where}: the code binds `{used}` at module level, but the signature fnreg writes uses "
                f"{f'`typing.{used}`' if used in TYPING_NAMES else f'the builtin `{used}`'}; rename it"
            )


def _is_stub(body: cst.BaseSuite) -> bool:
    """True when a function body holds nothing but docstrings, ``pass`` and ``...``."""
    return all(isinstance(line, cst.SimpleStatementLine) and all(map(is_inert, line.body)) for line in statements(body))


def _param(
    name: str,
    properties: dict[str, Any],
    old: cst.Param | None,
    module: cst.Module,
    effective: dict[str, Any],
    where: str,
) -> cst.Param:
    prop = properties[name]
    try:
        annotation, _ = annotation_for(prop)
    except SchemaError as exc:
        raise ActionError(f"{where}: parameter `{name}`: {exc}") from None
    default: cst.BaseExpression | None = None
    if "default" in prop:
        default = _expression(py_literal(prop["default"]), name, where)
    elif name not in effective["required"]:
        code_default = literal_value(old.default) if old is not None and old.default is not None else None
        if old is not None and old.default is not None and code_default is not None and _json_value(code_default):
            properties[name] = dict(prop, default=code_default)
            default = old.default
        else:
            default = cst.Name("None")
    return cst.Param(
        name=cst.Name(name), annotation=cst.Annotation(_expression(annotation, name, where)), default=default
    )


def _expression(code: str, name: str, where: str) -> cst.BaseExpression:
    """An annotation or default written from the schema; some schemas (``"enum": []``) have none."""
    try:
        return _parsed_expression(code)
    except cst.ParserSyntaxError:
        raise ActionError(
            f"{where}: parameter `{name}`: its schema cannot be written as Python (`{code[:60]}`)"
        ) from None


@lru_cache(maxsize=1024)
def _parsed_expression(code: str) -> cst.BaseExpression:
    # libcst nodes are immutable, so one parse serves every module written with this annotation.
    return cst.parse_expression(code)


def _json_value(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, list, dict)) and not isinstance(value, tuple)


def _with_docstring(body: cst.BaseSuite, description: str) -> cst.IndentedBlock:
    docstring = cst.SimpleStatementLine([cst.Expr(cst.SimpleString(docstring_literal(description)))])
    if not isinstance(body, cst.IndentedBlock):  # def f(): return 1
        body = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=list(body.body))])
    statements = list(body.body)
    if statements and is_docstring(statements[0]):
        statements = statements[1:]
    return body.with_changes(body=[docstring, *statements])


def docstring_literal(text: str) -> str:
    """A triple-quoted literal for ``text``; raw when that keeps LaTeX readable."""
    text = clean_description(text)
    if "\\" in text and '"""' not in text and not text.endswith(("\\", '"')):
        return f'r"""{text}"""'
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if escaped.endswith('"'):
        escaped = escaped[:-1] + '\\"'
    return f'"""{escaped}"""'
