"""Learned functions as Python source in git: reading, building, validating, committing.

This layer knows nothing of LLMs or agents. Names load on first use: reading a toolset needs
neither libcst nor black.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fnreg.registry.actions import ACTION_KINDS, Action, parse_action
    from fnreg.registry.derived import DerivedFunction
    from fnreg.registry.git import CommitInfo, Git
    from fnreg.registry.history import LogEntry
    from fnreg.registry.module_builder import BuiltModule, build_module
    from fnreg.registry.registry import AppliedAction, FunctionChange, Registry
    from fnreg.registry.schema import derive_function
    from fnreg.registry.toolset import FunctionInfo, Toolset

_LAZY = {
    "ACTION_KINDS": "actions",
    "Action": "actions",
    "parse_action": "actions",
    "CommitInfo": "git",
    "Git": "git",
    "LogEntry": "history",
    "BuiltModule": "module_builder",
    "build_module": "module_builder",
    "AppliedAction": "registry",
    "FunctionChange": "registry",
    "Registry": "registry",
    "DerivedFunction": "derived",
    "derive_function": "schema",
    "FunctionInfo": "toolset",
    "Toolset": "toolset",
}

__all__ = [
    "ACTION_KINDS",
    "Action",
    "AppliedAction",
    "BuiltModule",
    "CommitInfo",
    "DerivedFunction",
    "FunctionChange",
    "FunctionInfo",
    "Git",
    "LogEntry",
    "Registry",
    "Toolset",
    "build_module",
    "derive_function",
    "parse_action",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
