"""fnreg: agent training with functions as learnable weights, kept as Python source in git.

The library API the CLI is built on::

    from fnreg import Registry
    registry = Registry(".")
    registry.toolset("math").openai_tools()

Names are loaded on first use, so ``import fnreg.sandbox`` (or ``fnreg --version``) does not
pay for the registry, git or libcst.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fnreg.errors import FnregError
    from fnreg.registry import Action, Registry, Toolset, parse_action

__all__ = ["Action", "FnregError", "Registry", "Toolset", "__version__", "parse_action"]

_LAZY = {
    "FnregError": "fnreg.errors",
    "Action": "fnreg.registry",
    "Registry": "fnreg.registry",
    "Toolset": "fnreg.registry",
    "parse_action": "fnreg.registry",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from fnreg.version import fnreg_version

        return fnreg_version()
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fnreg' has no attribute {name!r}")
