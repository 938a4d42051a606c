"""What a function module may run on import: constants, safe constructors, inert defs; nothing else."""

from __future__ import annotations

import libcst as cst
import pytest

from fnreg.errors import ActionError
from fnreg.registry.policy import ImportTimePolicy, module_bindings

WHERE = "add_function f"


def statement(code: str) -> tuple[ImportTimePolicy, cst.CSTNode]:
    module = cst.parse_module(code)
    return ImportTimePolicy(module, "f", WHERE), module.body[-1]


def test_bindings_follow_imports_and_give_up_on_star_imports() -> None:
    bindings = module_bindings(
        cst.parse_module("import re\nimport numpy as np\nfrom decimal import Decimal as D\nx = 1\nx = 2\n")
    )
    assert bindings == {"re": "re", "np": "numpy", "D": "decimal.Decimal", "x": None}
    assert module_bindings(cst.parse_module("from math import *\n")) is None


@pytest.mark.parametrize(
    "code",
    [
        "import re\nPATTERN = re.compile('a+')",
        "from decimal import Decimal\nSCALE = Decimal('0.01')",
        "LIMITS = frozenset({1, 2})",
        "__all__ = ['f']",
        "try:\n    import numpy\nexcept ImportError:\n    pass",
    ],
)
def test_harmless_module_level_statements_are_kept(code: str) -> None:
    policy, stmt = statement(code)
    policy.statement(stmt)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("print('hi')", "module-level statement `print('hi')` would run on import; move it inside `f`"),
        ("CONFIG = load()", "`load()` would run on import; move it inside `f`"),
        ("PATTERN = re.compile('a')", "would run on import"),  # `re` is not imported: not the safe re.compile
        ("f = lambda: 1", "`f` is assigned (a lambda?); write it as `def f(...)`"),
        ("for i in range(3):\n    pass", "module-level statement `for i in range(3):` would run on import"),
        ("try:\n    import numpy\nexcept ImportError:\n    numpy = None", "module-level statement `try:` would run"),
        ("if __name__ == '__main__':\n    print(f())", "`if __name__ ...` blocks are not allowed at module level"),
        ("__name__ = '__main__'", "assigning `__name__` at module level"),
    ],
)
def test_code_that_would_run_on_import_is_refused(code: str, error: str) -> None:
    policy, stmt = statement(code)
    with pytest.raises(ActionError) as excinfo:
        policy.statement(stmt)
    assert error in str(excinfo.value)


def test_helpers_may_use_inert_decorators_and_literal_defaults() -> None:
    policy, func = statement(
        "import functools\n@functools.lru_cache(maxsize=8)\ndef _h(x=3, *, y: int = 2):\n    return x\n"
    )
    policy.check_def(func)
    policy, func = statement("def _h(x=open('/etc/passwd')):\n    return x\n")
    with pytest.raises(ActionError, match="`open\\('/etc/passwd'\\)` would run on import"):
        policy.check_def(func)
    policy, func = statement("@register\ndef _h():\n    return 1\n")
    with pytest.raises(ActionError, match="decorator `@register` would run on import"):
        policy.check_def(func)
    policy, func = statement("def __getattr__(name):\n    return name\n")
    with pytest.raises(ActionError, match="module-level `def __getattr__` is called by Python itself"):
        policy.check_def(func)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("class _C(metaclass=Meta):\n    pass", "would run on import"),
        ("class _C:\n    size = compute()", "`compute()` would run on import"),
        (
            "class _C:\n    def __init_subclass__(cls):\n        pass",
            "`__init_subclass__` would run while the module is imported",
        ),
        ("class _C:\n    print('x')", "would run on import"),
    ],
)
def test_class_bodies_run_on_import_and_are_checked(code: str, error: str) -> None:
    policy, cls = statement(code)
    with pytest.raises(ActionError) as excinfo:
        policy.check_class(cls)
    assert error in str(excinfo.value)


def test_a_dataclass_helper_with_constants_is_fine() -> None:
    policy, cls = statement(
        "from dataclasses import dataclass\n@dataclass\nclass _Point:\n    x: int = 0\n    y: int = 0\n"
    )
    policy.check_class(cls)


def test_lambda_bodies_run_later_but_their_defaults_now() -> None:
    policy, _ = statement("KEY = 1")
    policy.check_expressions(cst.parse_expression("lambda item: sorted(item)"))
    with pytest.raises(ActionError, match="would run on import"):
        policy.check_expressions(cst.parse_expression("lambda d=load(): d"))
