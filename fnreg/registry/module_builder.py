"""Function modules built from optimizer actions (libcst), formatted by black: the builder.

``build_module`` turns an :class:`~fnreg.registry.actions.Action` into the source of
``registry/<toolset>/<name>.py``: module docstring, hoisted imports, ``__requires__``,
private helpers, and one public ``def <name>`` whose typed signature says exactly what
the action's ``arguments`` schema says (annotations with ``Annotated`` descriptions,
defaults, required parameters first) and whose docstring is the description. The
result must compile and derive back to the requested schema; anything else is an
:class:`~fnreg.errors.ActionError` and nothing is written.

``code`` may be a whole module (it contains ``def <name>``) or just a body (the
paper's schema asks for "the implementation without the declaration"); in the second
case the signature is synthesised from the schema.

The builder parses the code into parts, checks each against :mod:`~fnreg.registry.policy`
(nothing may run on import), fits the public def with :mod:`~fnreg.registry.signature`,
assembles and formats the module and reads it back with :mod:`~fnreg.registry.schema`.
The toolset's generated ``__init__.py`` is :mod:`~fnreg.registry.init_module`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libcst as cst

from fnreg.errors import ActionError
from fnreg.registry.actions import Action
from fnreg.registry.init_module import INIT_MARKER, PACKAGE_INIT, build_init
from fnreg.registry.literals import py_literal
from fnreg.registry.policy import ImportTimePolicy, module_bindings
from fnreg.registry.schema import (
    DerivedFunction,
    SchemaError,
    annotation_for,
    canonical_schema,
    clean_description,
    describe_function,
)
from fnreg.registry.signature import TYPING_NAMES, check_signature_names, docstring_literal, fit_function
from fnreg.registry.source_shape import SourceTooDeep, check_shape
from fnreg.registry.syntax import is_docstring, is_import_line

if TYPE_CHECKING:
    import black

__all__ = ["INIT_MARKER", "PACKAGE_INIT", "BuiltModule", "build_init", "build_module"]


@dataclass(frozen=True)
class BuiltModule:
    """A function module ready to be written."""

    name: str
    #: Formatted source of ``<name>.py``.
    source: str
    #: What the LLM will be told about the function, derived back from ``source``.
    derived: DerivedFunction


def build_module(action: Action, *, mode: black.Mode | None = None) -> BuiltModule:
    """Build the formatted module for an add or revise action, or raise ``ActionError``."""
    where = f"{action.kind} {action.name}"
    try:
        return _build(action, mode, where)
    except (RecursionError, MemoryError):  # the shape check makes this unreachable; never a traceback
        raise ActionError(f"{where}: code is nested too deeply to build; split it into simpler statements") from None


def _build(action: Action, mode: black.Mode | None, where: str) -> BuiltModule:
    module = _parse(action.code, where)
    parts = _split_top_level(module, action, where)
    effective = dict(action.parameters, properties=dict(action.parameters["properties"]))
    main = fit_function(parts.main, module, action, effective, where, synthesised=parts.synthesised)
    check_signature_names(module_bindings(cst.Module(body=[*parts.future, *parts.imports, *parts.others])), main, where)
    # What the LLM will be told, read back from the def as written: black, next, changes layout
    # only (the tests read the formatted source back and find the same).
    derived = _derive(main, action, where)
    _check_round_trip(derived, action, effective, where)
    source = _format(_assemble(module, parts, main, action, effective), mode, where)
    _check_compiles(source, where)
    return BuiltModule(name=action.name, source=source, derived=derived)


def _parse(code: str, where: str) -> cst.Module:
    try:
        check_shape(code)  # before libcst: too much nesting crashes its parser (SIGSEGV)
        return cst.parse_module(code)
    except UnicodeError:  # an unpaired surrogate (``\\ud800`` in the JSON) cannot be encoded
        raise ActionError(f"{where}: code is not valid Unicode text (an unpaired surrogate?)") from None
    except SourceTooDeep as exc:
        raise ActionError(f"{where}: {exc}") from None
    except SyntaxError as exc:
        raise ActionError(f"{where}: code has a syntax error at line {exc.lineno}: {exc.msg}") from None
    except cst.ParserSyntaxError as exc:
        message = exc.message.splitlines()[0] if exc.message else "invalid syntax"
        raise ActionError(f"{where}: code has a syntax error at line {exc.raw_line}: {message}") from None
    except cst.CSTValidationError as exc:  # parses, but is no Python: "a" b"b"
        raise ActionError(f"{where}: code has a syntax error: {exc}") from None
    except (RecursionError, MemoryError):
        raise ActionError(f"{where}: code is nested too deeply to parse") from None


@dataclass
class _Parts:
    imports: list[cst.CSTNode]
    future: list[cst.CSTNode]
    #: Everything else kept at module level, in the order written (helpers, constants...).
    others: list[cst.CSTNode]
    #: The public ``def``; synthesised when the code is only a body.
    main: cst.FunctionDef
    #: Index in ``others`` where ``main`` goes.
    main_index: int
    #: True when ``main`` was made around a body: its parameters come from the schema.
    synthesised: bool = False


def _split_top_level(module: cst.Module, action: Action, where: str) -> _Parts:
    name = action.name
    if _defines_name(module, name) or not _looks_like_body(module):
        return _split_module(module, name, where)
    return _split_body(module, name, where)


def _defines_name(module: cst.Module, name: str) -> bool:
    for stmt in module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) and stmt.name.value == name:
            return True
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
                ):
                    return True
    return False


def _looks_like_body(module: cst.Module) -> bool:
    """True unless the code is only imports, defs and classes (a module missing the def)."""
    defs = [s for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))]
    rest = [
        s
        for s in module.body
        if not isinstance(s, (cst.FunctionDef, cst.ClassDef)) and not is_import_line(s) and not is_docstring(s)
    ]
    return bool(rest) or not defs


def _split_module(module: cst.Module, name: str, where: str) -> _Parts:
    parts = _Parts(imports=[], future=[], others=[], main=None, main_index=0)  # type: ignore[arg-type]
    public_defs: list[str] = []
    policy = ImportTimePolicy(module, name, where)
    for index, stmt in enumerate(module.body):
        if index == 0 and is_docstring(stmt):
            continue
        if is_import_line(stmt):
            (parts.future if _is_future(stmt) else parts.imports).append(stmt)
        elif isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
            if stmt.asynchronous is not None:
                raise ActionError(f"{where}: `async def {name}` is not supported; write a plain `def {name}`")
            # Its parameters are rewritten from the schema; the return annotation is kept as written.
            policy.check_return_annotation(stmt)
            parts.main, parts.main_index = stmt, len(parts.others)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            kind = "class" if isinstance(stmt, cst.ClassDef) else "function"
            if stmt.name.value == name:
                raise ActionError(f"{where}: `{name}` is a class; a function module holds a function `def {name}(...)`")
            if not stmt.name.value.startswith("_"):
                public_defs.append(f"{kind} `{stmt.name.value}`")
            if isinstance(stmt, cst.ClassDef):
                policy.check_class(stmt)
            else:
                policy.check_def(stmt)
            parts.others.append(stmt)
        else:
            kept = policy.statement(stmt)
            if kept is not None:
                parts.others.append(kept)
    if parts.main is None:
        defined = ", ".join(public_defs) or "nothing callable"
        raise ActionError(f"{where}: code defines {defined} but no `def {name}`; name the function `{name}`")
    if public_defs:
        raise ActionError(
            f"{where}: code defines public {', '.join(public_defs)} besides `{name}`; "
            "a function module has one public function, so prefix helpers with an underscore"
        )
    return parts


def _split_body(module: cst.Module, name: str, where: str) -> _Parts:
    imports, future, body = [], [], []
    for index, stmt in enumerate(module.body):
        if is_import_line(stmt):
            (future if _is_future(stmt) else imports).append(stmt)
        elif not (index == 0 and is_docstring(stmt) and len(module.body) > 1):
            body.append(stmt)
    if not body:
        raise ActionError(f"{where}: code has only imports and defines nothing callable; give the body of `{name}`")
    # Comments at the very top belong to the module's header in libcst; in a body they open it.
    header = [line for line in module.header if line.comment is not None]
    body[0] = body[0].with_changes(leading_lines=[*header, *body[0].leading_lines])
    main = cst.FunctionDef(
        name=cst.Name(name),
        params=cst.Parameters(),
        body=cst.IndentedBlock(body=body),
        leading_lines=[],
    )
    return _Parts(imports=imports, future=future, others=[], main=main, main_index=0, synthesised=True)


def _is_future(stmt: cst.CSTNode) -> bool:
    small = stmt.body[0]  # type: ignore[attr-defined]
    return (
        isinstance(small, cst.ImportFrom) and isinstance(small.module, cst.Name) and small.module.value == "__future__"
    )


# ----------------------------------------------------------------------------- assembly


def _assemble(module: cst.Module, parts: _Parts, main: cst.FunctionDef, action: Action, effective: dict) -> str:
    chunks = [docstring_literal(_summary(action.description)), ""]
    if not parts.synthesised:  # a whole module's opening comments (licence, notes) stay on top
        chunks += [line.comment.value for line in module.header if line.comment is not None]
    chunks += [_code(module, s) for s in parts.future]
    typing_line = _typing_import(module, parts.imports, effective)
    if typing_line:
        chunks.append(typing_line)
    seen: set[str] = set()
    for stmt in parts.imports:
        code = _code(module, stmt)
        if code not in seen:
            seen.add(code)
            chunks.append(code)
    if action.packages:
        chunks += ["", f"__requires__ = {py_literal(list(action.packages))}"]
    others = list(parts.others)
    others.insert(parts.main_index, main)
    for stmt in others:
        chunks += ["", "", _code(module, stmt)]
    return "\n".join(chunks) + "\n"


def _summary(description: str) -> str:
    first = clean_description(description).split("\n\n")[0].replace("\n", " ")
    return first if len(first) <= 200 else first[:197].rstrip() + "..."


def _code(module: cst.Module, node: cst.CSTNode) -> str:
    return module.code_for_node(node).strip("\n")


def _typing_import(module: cst.Module, imports: list[cst.CSTNode], effective: dict[str, Any]) -> str:
    uses: set[str] = set()
    for prop in effective["properties"].values():
        uses |= annotation_for(prop)[1]
    imported = set()
    for stmt in imports:
        for small in stmt.body:  # type: ignore[attr-defined]
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                imported |= {(a.asname.name.value if a.asname else module.code_for_node(a.name)) for a in small.names}  # type: ignore[union-attr]
    needed = [n for n in TYPING_NAMES if n in uses and n not in imported]
    return f"from typing import {', '.join(needed)}" if needed else ""


def _format(text: str, mode: black.Mode | None, where: str) -> str:
    import black  # only writing a module needs it

    try:
        return black.format_str(text, mode=mode or black.Mode())
    except black.NothingChanged:  # pragma: no cover - format_str does not raise it
        return text
    except Exception as exc:  # black raises several internal error types on bad input
        raise ActionError(f"{where}: black cannot format the module: {str(exc).splitlines()[0][:200]}") from None


def _check_compiles(source: str, where: str) -> None:
    try:
        compile(source, f"<{where}>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ActionError(f"{where}: the module does not compile: {exc.msg} (line {exc.lineno})") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ActionError(f"{where}: the module does not compile: {exc}") from None


def _derive(main: cst.FunctionDef, action: Action, where: str) -> DerivedFunction:
    try:
        return describe_function(main, tuple(action.packages))
    except SchemaError as exc:
        raise ActionError(f"{where}: {exc}") from None


def _check_round_trip(derived: DerivedFunction, action: Action, effective: dict[str, Any], where: str) -> None:
    wanted, got = canonical_schema(effective), canonical_schema(derived.parameters)
    for name, prop in got["properties"].items():  # a description the docstring adds contradicts nothing
        if isinstance(prop, dict) and "description" not in wanted["properties"].get(name, {}):
            prop.pop("description", None)
    if wanted != got:
        raise ActionError(
            f"{where}: the written signature does not match `arguments`: {_first_difference(wanted, got)}"
        )
    if derived.description != clean_description(action.description):
        raise ActionError(f"{where}: the docstring does not read back as the description")


def _first_difference(wanted: dict[str, Any], got: dict[str, Any]) -> str:
    for name in sorted(set(wanted["properties"]) | set(got["properties"])):
        a, b = wanted["properties"].get(name), got["properties"].get(name)
        if a != b:
            return f"parameter `{name}` asked {a} but reads back {b}"
    return f"required {wanted['required']} but reads back {got['required']}"
