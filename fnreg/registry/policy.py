"""What a function module may run when it is imported: the builder's safety policy.

Importing a toolset must not run learned code: the trainer's process never imports it, but
the sandbox, a reviewer's shell and ``pip install``-ed users do. So a module may hold at top
level only imports (also in ``try``/``except ImportError``), constants (literals and a few
safe constructors such as ``re.compile``), ``def``/``class`` statements whose decorators,
defaults, annotations, bases and class bodies call nothing else, and an
``if __name__ == "__main__":`` block. Everything else is an :class:`~fnreg.errors.ActionError`
naming the statement and saying to move it inside the function.
"""

from __future__ import annotations

import builtins
from typing import Optional

import libcst as cst

from fnreg.errors import ActionError
from fnreg.registry.syntax import NO_VALUE, is_inert, literal_value, statements

# Calls that are safe to evaluate at import time with literal arguments (module-level constants,
# class attributes, defaults), named by what the callee is bound to: ``re.compile`` needs
# ``import re`` and ``Decimal`` needs ``from decimal import Decimal``; ``builtins.`` when unbound.
_SAFE_CONSTANT_CALLS = {
    "re.compile",
    "builtins.compile",
    "builtins.frozenset",
    "builtins.set",
    "builtins.tuple",
    "builtins.dict",
    "builtins.list",
    "decimal.Decimal",
    "fractions.Fraction",
}
# Decorators that only wrap what they decorate: the ones allowed on private helpers and classes.
_SAFE_DECORATORS = {
    "functools.cache",
    "functools.lru_cache",
    "functools.cached_property",
    "builtins.staticmethod",
    "builtins.classmethod",
    "builtins.property",
    "dataclasses.dataclass",
}
# Methods Python calls by itself while a module is imported (class creation, subscripted annotations).
_IMPORT_TIME_HOOKS = {"__init_subclass__", "__class_getitem__", "__set_name__", "__mro_entries__", "__prepare__"}


def module_level_statement(
    module: cst.Module, stmt: cst.CSTNode, bindings: Bindings, name: str, where: str
) -> cst.CSTNode | None:
    """Keep harmless module-level statements; refuse code that would run on import."""
    if _is_main_guard(module, stmt):
        return stmt
    if isinstance(stmt, cst.Try) and _only_imports(stmt):
        check_runs_on_import(module, bindings, name, where, *(h.type for h in stmt.handlers))
        return stmt
    if isinstance(stmt, cst.SimpleStatementLine):
        kept = []
        for small in stmt.body:
            if isinstance(small, cst.Pass):
                continue
            target = _assigned_name(small)
            if target in {"__requires__", "__all__"}:
                continue
            if target == name:
                raise ActionError(f"{where}: `{name}` is assigned (a lambda?); write it as `def {name}(...)`")
            if target is not None and _is_constant(module, small.value, bindings):  # type: ignore[union-attr]
                if isinstance(small, cst.AnnAssign):
                    check_runs_on_import(module, bindings, name, where, small.annotation)
                kept.append(small)
                continue
            raise _statement_runs(module, stmt, name, where)
        return stmt.with_changes(body=kept) if kept else None
    raise _statement_runs(module, stmt, name, where)


def _statement_runs(module: cst.Module, stmt: cst.CSTNode, name: str, where: str) -> ActionError:
    code = module.code_for_node(stmt).strip()
    line = code.splitlines()[0][:60] if code else ""
    return ActionError(f"{where}: module-level statement `{line}` would run on import; move it inside `{name}`")


def _assigned_name(small: cst.BaseSmallStatement) -> str | None:
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
        return small.target.value
    return None


def _is_constant(module: cst.Module, value: cst.BaseExpression, bindings: Bindings) -> bool:
    if literal_value(value) is not NO_VALUE:
        return True
    return isinstance(value, cst.Call) and _is_safe_call(module, value, bindings)


def _is_main_guard(module: cst.Module, stmt: cst.CSTNode) -> bool:
    """``if __name__ == "__main__":`` (either way round) without ``else``: it never runs on import."""
    if not isinstance(stmt, cst.If) or stmt.orelse is not None:
        return False
    test = stmt.test
    if not (
        isinstance(test, cst.Comparison)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.Equal)
    ):
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    return len(names) == 1 and any(literal_value(s) == "__main__" for s in sides)


def _only_imports(stmt: cst.Try) -> bool:
    blocks = [stmt.body, *(h.body for h in stmt.handlers)]
    blocks += [block.body for block in (stmt.orelse, stmt.finalbody) if block is not None]
    return all(
        isinstance(s, cst.SimpleStatementLine)
        and all(isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass)) for small in s.body)
        for block in blocks
        for s in block.body
    )


# ----------------------------------------------------------------------------- names and calls

#: What each top-level name is bound to (``re``, ``decimal.Decimal``; None: defined by the code
#: or bound twice); None as a whole when a star import leaves every name uncertain.
Bindings = Optional[dict[str, Optional[str]]]


class _TopLevelNames(cst.CSTVisitor):
    """Names bound at module level, without entering function or class bodies."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.bindings: Bindings = {}

    def bind(self, name: str, origin: str | None) -> None:
        if self.bindings is not None:
            self.bindings[name] = origin if self.bindings.get(name, origin) == origin else None

    def bind_target(self, node: cst.CSTNode | None) -> None:
        if isinstance(node, cst.Name):
            self.bind(node.value, None)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self.bind_target(element.value)
        elif isinstance(node, cst.StarredElement):
            self.bind_target(node.value)

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            dotted = self.module.code_for_node(alias.name)
            if alias.asname is None:
                self.bind(dotted.split(".")[0], dotted.split(".")[0])
            elif isinstance(alias.asname.name, cst.Name):
                self.bind(alias.asname.name.value, dotted)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if isinstance(node.names, cst.ImportStar):
            self.bindings = None
            return False
        source = None if node.relative or node.module is None else self.module.code_for_node(node.module)
        for alias in node.names:
            imported = self.module.code_for_node(alias.name)
            bound = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(bound, cst.Name):
                self.bind(bound.value, f"{source}.{imported}" if source else None)
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.bind(node.name.value, None)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.bind(node.name.value, None)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.bind_target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.bind_target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.bind_target(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.bind_target(node.target)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self.bind_target(node.name.name)

    def visit_For(self, node: cst.For) -> None:
        self.bind_target(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.bind_target(node.asname.name)


def module_bindings(module: cst.Module) -> Bindings:
    visitor = _TopLevelNames(module)
    module.visit(visitor)
    return visitor.bindings


def _qualified(module: cst.Module, node: cst.CSTNode, bindings: Bindings) -> str | None:
    """``re.compile`` for ``re.compile`` after ``import re``; None when the name is the code's own."""
    if bindings is None:
        return None
    if isinstance(node, cst.Name):
        if node.value in bindings:
            return bindings[node.value]
        return f"builtins.{node.value}" if hasattr(builtins, node.value) else None
    if isinstance(node, cst.Attribute):
        base = _qualified(module, node.value, bindings)
        return f"{base}.{node.attr.value}" if base and not base.startswith("builtins.") else None
    return None


def _literal_arguments(module: cst.Module, call: cst.Call) -> bool:
    return all(literal_value(arg.value) is not NO_VALUE for arg in call.args)


def _is_safe_call(module: cst.Module, call: cst.Call, bindings: Bindings) -> bool:
    return _qualified(module, call.func, bindings) in _SAFE_CONSTANT_CALLS and _literal_arguments(module, call)


class _ImportTimeCall(cst.CSTVisitor):
    """Finds the first call in an expression evaluated at import time, other than a safe constant."""

    def __init__(self, module: cst.Module, bindings: Bindings) -> None:
        self.module = module
        self.bindings = bindings
        self.found: cst.Call | None = None

    def visit_Call(self, node: cst.Call) -> bool:
        if self.found is None and not _is_safe_call(self.module, node, self.bindings):
            self.found = node
        return self.found is None

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        node.params.visit(self)  # defaults are evaluated now, the body only when it is called
        return False


def check_runs_on_import(
    module: cst.Module, bindings: Bindings, name: str, where: str, *nodes: cst.CSTNode | None
) -> None:
    """Refuse a call (other than a safe constant) inside expressions Python evaluates on import."""
    visitor = _ImportTimeCall(module, bindings)
    for node in nodes:
        if node is not None and visitor.found is None:
            node.visit(visitor)
    if visitor.found is not None:
        raise _runs_on_import(module, visitor.found, name, where)


def _runs_on_import(module: cst.Module, node: cst.CSTNode, name: str, where: str) -> ActionError:
    code = " ".join(module.code_for_node(node).split())
    code = code if len(code) <= 60 else code[:57] + "..."
    return ActionError(f"{where}: `{code}` would run on import; move it inside `{name}`")


def check_def(
    module: cst.Module, func: cst.FunctionDef, bindings: Bindings, name: str, where: str, *, method: bool = False
) -> None:
    """A helper (or method): decorators, defaults and annotations all run when the module is imported."""
    if method and func.name.value in _IMPORT_TIME_HOOKS:
        raise ActionError(
            f"{where}: `{func.name.value}` would run while the module is imported; move that logic inside `{name}`"
        )
    for decorator in func.decorators:
        _check_decorator(module, decorator, bindings, name, where)
    params = func.params
    nodes: list[cst.CSTNode | None] = [func.returns]
    for param in [*params.posonly_params, *params.params, *params.kwonly_params, params.star_arg, params.star_kwarg]:
        if isinstance(param, cst.Param):
            nodes += [param.annotation, param.default]
    check_runs_on_import(module, bindings, name, where, *nodes)


def _check_decorator(module: cst.Module, decorator: cst.Decorator, bindings: Bindings, name: str, where: str) -> None:
    expr = decorator.decorator
    callee = expr.func if isinstance(expr, cst.Call) else expr
    if _qualified(module, callee, bindings) in _SAFE_DECORATORS and (
        not isinstance(expr, cst.Call) or _literal_arguments(module, expr)
    ):
        return
    code = " ".join(module.code_for_node(expr).split())[:60]
    raise ActionError(
        f"{where}: decorator `@{code}` would run on import; helpers may only use functools.cache, "
        f"functools.lru_cache, staticmethod, classmethod, property or dataclasses.dataclass"
    )


def check_class(module: cst.Module, cls: cst.ClassDef, bindings: Bindings, name: str, where: str) -> None:
    """A helper class: its decorators, bases and whole body run when the module is imported."""
    for decorator in cls.decorators:
        _check_decorator(module, decorator, bindings, name, where)
    for arg in [*cls.bases, *cls.keywords]:
        check_runs_on_import(module, bindings, name, where, arg.value)
        if arg.keyword is not None and arg.keyword.value == "metaclass" and not _qualified(module, arg.value, bindings):
            raise _runs_on_import(module, arg, name, where)
    for stmt in statements(cls.body):
        if isinstance(stmt, cst.FunctionDef):
            check_def(module, stmt, bindings, name, where, method=True)
        elif isinstance(stmt, cst.ClassDef):
            check_class(module, stmt, bindings, name, where)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if is_inert(small):
                    continue
                if not isinstance(small, (cst.Assign, cst.AnnAssign)):
                    raise _runs_on_import(module, small, name, where)
                annotation = small.annotation if isinstance(small, cst.AnnAssign) else None
                check_runs_on_import(module, bindings, name, where, small.value, annotation)
        else:
            raise _runs_on_import(module, stmt, name, where)
