"""Learned functions as Python source in git: reading, building, validating, committing.

This layer knows nothing of LLMs or agents.
"""

from fnreg.registry.actions import ACTION_KINDS, Action, parse_action
from fnreg.registry.git import CommitInfo, Git
from fnreg.registry.history import LogEntry
from fnreg.registry.module_builder import BuiltModule, build_module
from fnreg.registry.registry import AppliedAction, FunctionChange, Registry
from fnreg.registry.schema import DerivedFunction, derive_function
from fnreg.registry.toolset import FunctionInfo, Toolset

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
