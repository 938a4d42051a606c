"""What a function module may run when it is imported: the builder's import-time policy.

Importing a toolset must not run learned code: the trainer's process never imports it, but
the sandbox, a reviewer's shell and ``pip install``-ed users do. A module's top level may hold
only what this allowlist names; anything else is an :class:`~fnreg.errors.ActionError` naming
the statement and saying to move it inside the function.

Module level:

- the module docstring;
- ``import`` and ``from ... import`` (also in ``try``/``except ImportError`` blocks of imports);
- ``def`` of private helpers and ``class`` of private helper classes (below);
- assignments of an *inert expression* to one non-dunder name (``_LIMIT = 60 * 60``,
  ``_WORD = re.compile(r"\\w+")``). ``__requires__`` and ``__all__`` are dropped: fnreg writes
  the one from ``packages``, and a function module has no use for the other.

Refused, among everything else: ``if`` blocks (``if __name__ == "__main__":`` too: with a
rebound ``__name__`` it runs on import), assignments to other dunder names, and module-level
``def __getattr__`` / ``def __dir__`` (or any dunder ``def``), which Python calls on attribute
lookup from outside (PEP 562).

*Inert expressions*, the only ones allowed where Python evaluates them on import (assigned
values, annotations, defaults, decorator arguments, class bases and bodies): literals;
arithmetic on numbers and strings whose result fnreg computes and finds small; names;
attributes of modules bound by ``import`` (``math.pi``, ``typing.Optional``) and of classes the
module defines; subscripts of generic types (``list[int]``, ``Optional[str]``, ``Annotated[...]``,
not ``ctypes.cdll["libc.so.6"]``, whose ``__getitem__`` loads a library); ``X | Y``; tuples,
lists, sets and dicts of those; lambdas (their defaults are checked); and a few constructors
that only compute with constant arguments (``re.compile``, ``frozenset``, ``Decimal`` ...) or
only store theirs (``dataclasses.field``). Under ``from __future__ import annotations``
annotations are never evaluated, so they are not checked.

Classes run their bodies, decorators, bases and the bases' class-creation hooks on import:

- bases are classes of this module or a known-inert stdlib base (``object``, built-in types and
  exceptions, ``abc.ABC``, ``typing.NamedTuple``/``TypedDict``/``Protocol``/``Generic``,
  ``enum.Enum`` and its kin, ...); a third-party base may run any code at class creation;
- ``metaclass=`` may only be ``abc.ABCMeta`` or ``enum.EnumMeta``/``EnumType``;
- hooks Python calls by itself (``__init_subclass__``, ``__set_name__``, ``__class_getitem__``,
  ``__mro_entries__``, ``__prepare__``) are refused in every class;
- an Enum creates its members while its class is created, calling ``__new__``, ``__init__``,
  ``_generate_next_value_`` and friends of the enum and of its mixins. So in an enum class
  and in every class of this module it derives from, methods named ``_x_`` or ``__x__`` are
  refused, except an ``__init__`` that is proven inert: it only stores its parameters or
  literals on ``self``.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from fnreg.errors import ActionError
from fnreg.registry.syntax import NO_VALUE, is_inert, literal_value, statements

# Calls that only compute with their (constant) arguments, named by what the callee is bound to:
# ``re.compile`` needs ``import re`` and ``Decimal`` needs ``from decimal import Decimal``.
_CONSTANT_CALLS = {
    "re.compile",
    "builtins.compile",
    "builtins.frozenset",
    "builtins.set",
    "builtins.tuple",
    "builtins.dict",
    "builtins.list",
    "decimal.Decimal",
    "fractions.Fraction",
    "enum.auto",
    "typing.TypeVar",
    "collections.namedtuple",
}
# Calls that only store their arguments (which may then be any inert expression, ``list`` too).
_STORING_CALLS = {"dataclasses.field"}
# Decorators that only wrap what they decorate: the ones allowed on private helpers and classes.
_SAFE_DECORATORS = {
    "functools.cache",
    "functools.lru_cache",
    "functools.cached_property",
    "functools.total_ordering",
    "builtins.staticmethod",
    "builtins.classmethod",
    "builtins.property",
    "dataclasses.dataclass",
    "abc.abstractmethod",
    "enum.unique",
    "typing.final",
    "typing.runtime_checkable",
}
# Methods Python calls by itself while a module is imported (class creation, subscripted annotations).
_IMPORT_TIME_HOOKS = {"__init_subclass__", "__class_getitem__", "__set_name__", "__mro_entries__", "__prepare__"}
# Bases whose class creation calls nothing the subclass defines (besides the hooks refused above).
_INERT_BASES = {
    "abc.ABC",
    "typing.NamedTuple",
    "typing.TypedDict",
    "typing.Protocol",
    "typing.Generic",
    "typing_extensions.NamedTuple",
    "typing_extensions.TypedDict",
    "typing_extensions.Protocol",
    "collections.OrderedDict",
    "collections.UserDict",
    "collections.UserList",
    "collections.UserString",
    "collections.Counter",
    "collections.defaultdict",
    "collections.deque",
    *(f"builtins.{name}" for name in ("object", "int", "float", "str", "bytes", "dict", "list", "tuple", "set")),
    *(f"builtins.{name}" for name in ("frozenset", "complex", "bytearray")),
}
_ENUM_BASES = {f"enum.{name}" for name in ("Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum")}
_SAFE_METACLASSES = {"abc.ABCMeta", "enum.EnumMeta", "enum.EnumType"}
# Generic types whose subscript (``list[int]``) only builds a type alias.
_GENERIC_MODULES = ("typing.", "typing_extensions.", "collections.abc.", "collections.")
_GENERIC_BUILTINS = {f"builtins.{name}" for name in ("list", "dict", "tuple", "set", "frozenset", "type")}
_GENERIC_OTHERS = {"re.Pattern", "re.Match"}
# Arithmetic fnreg evaluates itself to know a constant's value is small.
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
}
_MAX_INT_BITS = 256
_MAX_SEQUENCE = 10_000


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _is_special(name: str) -> bool:
    """``__x__`` or ``_x_``: names Python or the enum machinery may call by themselves."""
    return len(name) > 2 and name.startswith("_") and name.endswith("_")


# ----------------------------------------------------------------------------- names


#: What each top-level name is bound to (``re``, ``decimal.Decimal``; None: defined by the code
#: or bound twice); None as a whole when a star import leaves every name uncertain.
Bindings = Optional[dict[str, Optional[str]]]


@dataclass
class Scope:
    """What the module's top level binds, read statically."""

    bindings: Bindings = field(default_factory=dict)
    #: Dotted names known to be modules, from ``import a.b`` (``a`` and ``a.b``).
    modules: set[str] = field(default_factory=set)
    #: Classes the module defines at top level (or in class bodies), by name.
    classes: dict[str, cst.ClassDef] = field(default_factory=dict)
    #: ``from __future__ import annotations``: annotations are strings, never evaluated.
    lazy_annotations: bool = False


class _TopLevelNames(cst.CSTVisitor):
    """Names bound at module level, without entering function bodies."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.scope = Scope()

    def bind(self, name: str, origin: str | None) -> None:
        bindings = self.scope.bindings
        if bindings is not None:
            bindings[name] = origin if bindings.get(name, origin) == origin else None

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
            parts = dotted.split(".")
            if alias.asname is None:
                self.bind(parts[0], parts[0])
                self.scope.modules.update(".".join(parts[: i + 1]) for i in range(len(parts)))
            elif isinstance(alias.asname.name, cst.Name):
                self.bind(alias.asname.name.value, dotted)
                self.scope.modules.add(dotted)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if isinstance(node.names, cst.ImportStar):
            self.scope.bindings = None
            return False
        source = None if node.relative or node.module is None else self.module.code_for_node(node.module)
        for alias in node.names:
            imported = self.module.code_for_node(alias.name)
            if source == "__future__" and imported == "annotations":
                self.scope.lazy_annotations = True
            bound = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(bound, cst.Name):
                self.bind(bound.value, f"{source}.{imported}" if source else None)
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.bind(node.name.value, None)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.bind(node.name.value, None)
        self.scope.classes[node.name.value] = node
        for stmt in statements(node.body):  # nested classes, not their methods
            if isinstance(stmt, cst.ClassDef):
                self.scope.classes.setdefault(stmt.name.value, stmt)
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


def module_scope(module: cst.Module) -> Scope:
    visitor = _TopLevelNames(module)
    module.visit(visitor)
    return visitor.scope


def module_bindings(module: cst.Module) -> Bindings:
    return module_scope(module).bindings


# ----------------------------------------------------------------------------- the policy


class ImportTimePolicy:
    """Checks one module's top level against the allowlist (see the module docstring)."""

    def __init__(self, module: cst.Module, name: str, where: str) -> None:
        self.module = module
        self.name = name
        self.where = where
        self.scope = module_scope(module)

    # -- statements --------------------------------------------------------------------------

    def statement(self, stmt: cst.CSTNode) -> cst.CSTNode | None:
        """Keep a harmless module-level statement (None: dropped); refuse one that would run code."""
        if isinstance(stmt, cst.Try) and _only_imports(stmt):
            self.check_expressions(*(handler.type for handler in stmt.handlers))
            return stmt
        if isinstance(stmt, cst.SimpleStatementLine):
            kept = [small for small in stmt.body if self._small_statement(small)]
            return stmt.with_changes(body=kept) if kept else None
        raise self._refused(stmt)

    def _small_statement(self, small: cst.BaseSmallStatement) -> bool:
        """True to keep ``small``, False to drop it; raises for anything that would run code."""
        if isinstance(small, cst.Pass):
            return False
        if is_inert(small):  # a bare string or `...` between definitions
            return True
        target = _assigned_name(small)
        if target in {"__requires__", "__all__"}:
            return False  # fnreg writes __requires__ from `packages`; a function module needs no __all__
        if target == self.name:
            raise ActionError(
                f"{self.where}: `{self.name}` is assigned (a lambda?); write it as `def {self.name}(...)`"
            )
        if target is not None and _is_dunder(target):
            raise ActionError(
                f"{self.where}: assigning `{target}` at module level changes how Python treats the module; "
                f"remove it (module constants need ordinary names)"
            )
        if target is None:
            raise self._refused(small)
        assert isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None
        self.check_expressions(small.value)
        if isinstance(small, cst.AnnAssign):
            self.check_annotations(small.annotation)
        return True

    def _refused(self, stmt: cst.CSTNode) -> ActionError:
        if isinstance(stmt, cst.If) and "__name__" in self.module.code_for_node(stmt.test):
            return ActionError(
                f"{self.where}: `if __name__ ...` blocks are not allowed at module level (a module can rebind "
                f"`__name__`, and then the block runs on import); remove it and put examples in the docstring"
            )
        code = self.module.code_for_node(stmt).strip()
        line = code.splitlines()[0][:60] if code else ""
        return ActionError(
            f"{self.where}: module-level statement `{line}` would run on import; move it inside `{self.name}`"
        )

    # -- defs and classes --------------------------------------------------------------------

    def check_def(self, func: cst.FunctionDef, *, method: bool = False) -> None:
        """A helper (or method): its decorators, defaults and annotations all run when the module is imported."""
        name = func.name.value
        if method and name in _IMPORT_TIME_HOOKS:
            raise ActionError(
                f"{self.where}: `{name}` would run while the module is imported; move that logic inside `{self.name}`"
            )
        if not method and _is_dunder(name):
            raise ActionError(
                f"{self.where}: a module-level `def {name}` is called by Python itself (e.g. on attribute lookup "
                f"from outside the module); remove it"
            )
        for decorator in func.decorators:
            self._check_decorator(decorator)
        params = func.params
        defaults: list[cst.CSTNode | None] = []
        annotations: list[cst.CSTNode | None] = [func.returns]
        for param in [
            *params.posonly_params,
            *params.params,
            *params.kwonly_params,
            params.star_arg,
            params.star_kwarg,
        ]:
            if isinstance(param, cst.Param):
                defaults.append(param.default)
                annotations.append(param.annotation)
        self.check_expressions(*defaults)
        self.check_annotations(*annotations)

    def check_return_annotation(self, func: cst.FunctionDef) -> None:
        """The public function's return annotation (its parameters are rewritten from the schema)."""
        self.check_annotations(func.returns)

    def check_class(self, cls: cst.ClassDef) -> None:
        """A helper class: its decorators, bases and whole body run when the module is imported."""
        for decorator in cls.decorators:
            self._check_decorator(decorator)
        for arg in cls.bases:
            if arg.star:
                raise self._runs_on_import(arg)
            self._check_base(arg.value)
        for arg in cls.keywords:
            assert arg.keyword is not None
            if arg.keyword.value == "metaclass":
                if self._qualified(arg.value) not in _SAFE_METACLASSES:
                    raise ActionError(
                        f"{self.where}: metaclass `{self._code(arg.value)}` would run on import (class creation "
                        f"calls it); helpers may only use abc.ABCMeta or enum's; move the logic inside `{self.name}`"
                    )
            else:
                self.check_expressions(arg.value)
        enum = self._is_enum(cls)
        for stmt in statements(cls.body):
            if isinstance(stmt, cst.FunctionDef):
                self.check_def(stmt, method=True)
                if enum:
                    self._check_enum_method(cls, stmt)
            elif isinstance(stmt, cst.ClassDef):
                self.check_class(stmt)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if is_inert(small):
                        continue
                    if not isinstance(small, (cst.Assign, cst.AnnAssign)):
                        raise self._runs_on_import(small)
                    self.check_expressions(small.value)
                    if isinstance(small, cst.AnnAssign):
                        self.check_annotations(small.annotation)
            else:
                raise self._runs_on_import(stmt)
        if enum:
            for ancestor in self._local_ancestors(cls):
                for stmt in statements(ancestor.body):
                    if isinstance(stmt, cst.FunctionDef):
                        self._check_enum_method(ancestor, stmt, enum=cls)

    def _check_base(self, base: cst.BaseExpression) -> None:
        target = base.value if isinstance(base, cst.Subscript) else base
        if isinstance(base, cst.Subscript):
            self.check_expressions(*base.slice)
        if isinstance(target, cst.Name) and target.value in self.scope.classes and self._is_local(target.value):
            return
        qualified = self._qualified(target)
        if qualified in _INERT_BASES or qualified in _ENUM_BASES or _is_builtin_exception(qualified):
            return
        raise ActionError(
            f"{self.where}: base class `{self._code(base)}` could run code on import (at class creation); helper "
            f"classes may derive from classes of this module, object, built-in types and exceptions, abc.ABC, "
            f"enum's and typing's NamedTuple, TypedDict, Protocol and Generic; move the logic inside `{self.name}`"
        )

    def _is_local(self, name: str) -> bool:
        bindings = self.scope.bindings
        return bindings is not None and bindings.get(name, "") is None

    def _local_ancestors(self, cls: cst.ClassDef) -> list[cst.ClassDef]:
        """The classes of this module ``cls`` derives from, at any depth."""
        found: dict[str, cst.ClassDef] = {}
        pending = [cls]
        while pending:
            current = pending.pop()
            for arg in current.bases:
                target = arg.value.value if isinstance(arg.value, cst.Subscript) else arg.value
                if isinstance(target, cst.Name) and target.value in self.scope.classes and target.value not in found:
                    found[target.value] = self.scope.classes[target.value]
                    pending.append(found[target.value])
        return list(found.values())

    def _is_enum(self, cls: cst.ClassDef) -> bool:
        keywords = [
            self._qualified(arg.value) for arg in cls.keywords if arg.keyword and arg.keyword.value == "metaclass"
        ]
        if any(k in ("enum.EnumMeta", "enum.EnumType") for k in keywords):
            return True
        for current in [cls, *self._local_ancestors(cls)]:
            for arg in current.bases:
                target = arg.value.value if isinstance(arg.value, cst.Subscript) else arg.value
                if self._qualified(target) in _ENUM_BASES:
                    return True
        return False

    def _check_enum_method(self, cls: cst.ClassDef, func: cst.FunctionDef, *, enum: cst.ClassDef | None = None) -> None:
        name = func.name.value
        if not _is_special(name) or (name == "__init__" and _stores_only(func)):
            return
        owner = (
            f"enum `{cls.name.value}`" if enum is None else f"`{cls.name.value}` (a base of enum `{enum.name.value}`)"
        )
        raise ActionError(
            f"{self.where}: `{name}` of {owner} would run while the module is imported (an enum creates its members "
            f"then); an enum's helpers may only define ordinary methods and an `__init__` that stores its arguments "
            f"on self"
        )

    def _check_decorator(self, decorator: cst.Decorator) -> None:
        expr = decorator.decorator
        callee = expr.func if isinstance(expr, cst.Call) else expr
        if self._qualified(callee) in _SAFE_DECORATORS and (
            not isinstance(expr, cst.Call) or self._constant_args(expr)
        ):
            return
        raise ActionError(
            f"{self.where}: decorator `@{self._code(expr)}` would run on import; helpers may only use functools.cache, "
            f"functools.lru_cache, staticmethod, classmethod, property or dataclasses.dataclass"
        )

    # -- expressions -------------------------------------------------------------------------

    def check_annotations(self, *nodes: cst.CSTNode | None) -> None:
        """Annotations are evaluated on import, unless ``from __future__ import annotations``."""
        if not self.scope.lazy_annotations:
            self.check_expressions(*nodes)

    def check_expressions(self, *nodes: cst.CSTNode | None) -> None:
        """Refuse any expression Python evaluates on import that is not inert (see the module docstring)."""
        for node in nodes:
            if isinstance(node, cst.Annotation):
                node = node.annotation
            if node is not None:
                problem = self._not_inert(node)
                if problem is not None:
                    raise self._runs_on_import(problem)

    def _not_inert(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The first part of ``node`` that could run code on import, or None."""
        if literal_value(node) is not NO_VALUE or constant_value(node) is not NO_VALUE:  # type: ignore[arg-type]
            return None
        if isinstance(node, cst.Name):
            return None
        if isinstance(node, cst.Attribute):
            return None if self._inert_attribute(node) else node
        if isinstance(node, cst.Subscript):
            if not self._is_generic(node.value):
                return node
            return self._first_not_inert([node.value, *node.slice])
        if isinstance(node, cst.SubscriptElement):
            return self._not_inert(node.slice)
        if isinstance(node, cst.Index):
            return self._not_inert(node.value) if node.star is None else node
        if isinstance(node, cst.Slice):
            return self._first_not_inert([node.lower, node.upper, node.step])
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return self._first_not_inert([node.left, node.right])
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            return self._first_not_inert(node.elements)
        if isinstance(node, cst.Element):
            return self._not_inert(node.value)
        if isinstance(node, cst.Dict):
            return self._first_not_inert(node.elements)
        if isinstance(node, cst.DictElement):
            return self._first_not_inert([node.key, node.value])
        if isinstance(node, cst.Lambda):  # made now, run later; its defaults are evaluated now
            params = node.params
            return self._first_not_inert(
                [p.default for p in [*params.posonly_params, *params.params, *params.kwonly_params]]
            )
        if isinstance(node, cst.Call):
            return None if self._safe_call(node) else node
        return node

    def _first_not_inert(self, nodes: Any) -> cst.CSTNode | None:
        for node in nodes:
            if node is not None:
                problem = self._not_inert(node)
                if problem is not None:
                    return problem
        return None

    def _inert_attribute(self, node: cst.Attribute) -> bool:
        """``module.attribute`` (``import module``) or ``LocalClass.attribute``: nothing else."""
        if isinstance(node.value, cst.Name):
            name = node.value.value
            if name in self.scope.classes and self._is_local(name):
                return True
        owner = self._qualified(node.value)
        return owner is not None and owner in self.scope.modules

    def _is_generic(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name) and node.value in self.scope.classes and self._is_local(node.value):
            return True  # a class of this module: __class_getitem__ is refused there, Generic's is typing's
        if isinstance(node, cst.Attribute) and not self._inert_attribute(node):
            return False
        qualified = self._qualified(node)
        return qualified is not None and (
            qualified in _GENERIC_BUILTINS or qualified in _GENERIC_OTHERS or qualified.startswith(_GENERIC_MODULES)
        )

    def _safe_call(self, call: cst.Call) -> bool:
        callee = self._qualified(call.func)
        if callee in _CONSTANT_CALLS:
            return self._constant_args(call)
        if callee in _STORING_CALLS:
            return self._first_not_inert(arg.value for arg in call.args) is None and not any(
                arg.star for arg in call.args
            )
        return False

    def _constant_args(self, call: cst.Call) -> bool:
        return all(
            not arg.star and (literal_value(arg.value) is not NO_VALUE or constant_value(arg.value) is not NO_VALUE)
            for arg in call.args
        )

    def _qualified(self, node: cst.CSTNode) -> str | None:
        """``re.compile`` for ``re.compile`` after ``import re``; None when the name is the code's own."""
        bindings = self.scope.bindings
        if bindings is None:
            return None
        if isinstance(node, cst.Name):
            if node.value in bindings:
                return bindings[node.value]
            return f"builtins.{node.value}" if hasattr(builtins, node.value) else None
        if isinstance(node, cst.Attribute):
            base = self._qualified(node.value)
            return f"{base}.{node.attr.value}" if base and not base.startswith("builtins.") else None
        return None

    # -- messages ----------------------------------------------------------------------------

    def _code(self, node: cst.CSTNode) -> str:
        code = " ".join(self.module.code_for_node(node).split())
        return code if len(code) <= 60 else code[:57] + "..."

    def _runs_on_import(self, node: cst.CSTNode) -> ActionError:
        return ActionError(f"{self.where}: `{self._code(node)}` would run on import; move it inside `{self.name}`")


# ----------------------------------------------------------------------------- helpers


def _assigned_name(small: cst.BaseSmallStatement) -> str | None:
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
        return small.target.value
    return None


def _only_imports(stmt: cst.Try) -> bool:
    blocks = [stmt.body, *(h.body for h in stmt.handlers)]
    blocks += [block.body for block in (stmt.orelse, stmt.finalbody) if block is not None]
    return all(
        isinstance(s, cst.SimpleStatementLine)
        and all(isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass)) for small in s.body)
        for block in blocks
        for s in block.body
    )


def _is_builtin_exception(qualified: str | None) -> bool:
    if not qualified or not qualified.startswith("builtins."):
        return False
    value = getattr(builtins, qualified.removeprefix("builtins."), None)
    return isinstance(value, type) and issubclass(value, BaseException)


def _stores_only(func: cst.FunctionDef) -> bool:
    """An ``__init__`` that only puts its parameters (or literals) on ``self``: proven inert."""
    params = func.params
    names = {p.name.value for p in [*params.posonly_params, *params.params, *params.kwonly_params]}
    if isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None or func.decorators or not names:
        return False
    self_name = ([*params.posonly_params, *params.params] or [None])[0]
    if self_name is None or any(p.default is not None for p in [*params.posonly_params, *params.params]):
        return False
    for stmt in statements(func.body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            return False
        for small in stmt.body:
            if is_inert(small):
                continue
            if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
                return False
            target, value = small.targets[0].target, small.value
            if not (
                isinstance(target, cst.Attribute)
                and isinstance(target.value, cst.Name)
                and target.value.value == self_name.name.value
                and not _is_special(target.attr.value)
            ):
                return False
            if not (isinstance(value, cst.Name) and value.value in names) and literal_value(value) is NO_VALUE:
                return False
    return True


def constant_value(node: cst.BaseExpression) -> Any:
    """The value of a small constant expression (literals and arithmetic on them), or ``NO_VALUE``.

    fnreg computes it itself, refusing results that would be big (``10 ** 10 ** 10``,
    ``"x" * 10 ** 9``): Python would compute those on every import.
    """
    value = literal_value(node)
    if value is not NO_VALUE:
        return value
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus, cst.BitInvert)):
        operand = constant_value(node.expression)
        if isinstance(operand, (int, float)) and not isinstance(operand, bool):
            return _small({cst.Minus: operator.neg, cst.Plus: operator.pos}.get(type(node.operator), operator.invert)(operand))  # type: ignore[arg-type]
        return NO_VALUE
    if not isinstance(node, cst.BinaryOperation) or type(node.operator) not in _ARITHMETIC:
        return NO_VALUE
    left, right = constant_value(node.left), constant_value(node.right)
    if left is NO_VALUE or right is NO_VALUE or not _operands_small(node.operator, left, right):
        return NO_VALUE
    try:
        return _small(_ARITHMETIC[type(node.operator)](left, right))
    except (ArithmeticError, TypeError, ValueError):
        return NO_VALUE


def _operands_small(op: cst.BaseBinaryOp, left: Any, right: Any) -> bool:
    """Refuse, before computing, what would take long: big powers and long repetitions."""
    if isinstance(op, cst.Power):
        return isinstance(right, (int, float)) and abs(right) <= 64 and isinstance(left, (int, float))
    if isinstance(op, cst.Multiply) and isinstance(left, (str, bytes, tuple, list)) != isinstance(
        right, (str, bytes, tuple, list)
    ):
        count, sequence = (right, left) if isinstance(left, (str, bytes, tuple, list)) else (left, right)
        return isinstance(count, int) and count * len(sequence) <= _MAX_SEQUENCE
    if isinstance(op, cst.Modulo) and isinstance(left, (str, bytes)):
        return False  # printf-style formatting calls __format__/__str__ of the arguments
    return True


def _small(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        return NO_VALUE
    if isinstance(value, (str, bytes, tuple, list)) and len(value) > _MAX_SEQUENCE:
        return NO_VALUE
    return value
