"""Toolsets as read from source: a folder of function modules at some ref.

Nothing here imports learned code; every fact comes from
:func:`~fnreg.registry.schema.derive_function`.
"""

from __future__ import annotations

import copy
import keyword
import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from fnreg.errors import InputError
from fnreg.registry.derived import DerivedFunction, SchemaError

if TYPE_CHECKING:
    from fnreg.registry.derive_cache import DerivationCache

_TOOLSET_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class FunctionInfo:
    """One learned function, as the LLM and a reviewer see it."""

    name: str
    #: Tool description (the docstring).
    description: str
    #: JSON schema of the parameters.
    parameters: dict[str, Any]
    #: Declared packages (``__requires__``).
    requires: tuple[str, ...]
    #: Repository-relative path of the module, e.g. ``registry/math/solve.py``.
    path: str
    #: The module's source code.
    source: str
    #: Reviewer notes from schema derivation (unsupported annotations...).
    warnings: tuple[str, ...] = ()
    #: JSON schema of the return annotation, when it is a JSON type (else None).
    returns: dict[str, Any] | None = None

    def openai_tool(self) -> dict[str, Any]:
        """This function in the OpenAI ``tools`` format."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
            "requires": list(self.requires),
            "path": self.path,
            "warnings": list(self.warnings),
            "returns": self.returns,
        }


@dataclass(frozen=True)
class Toolset:
    """The functions of one toolset at one ref (or in the working tree)."""

    name: str
    #: The commit read, or None for the working tree.
    commit: str | None
    functions: Mapping[str, FunctionInfo] = field(default_factory=dict)
    #: Modules that are not valid function modules, with the reason.
    problems: Mapping[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[FunctionInfo]:
        return iter(self.functions.values())

    def __len__(self) -> int:
        return len(self.functions)

    def __contains__(self, name: object) -> bool:
        return name in self.functions

    def __getitem__(self, name: str) -> FunctionInfo:
        try:
            return self.functions[name]
        except KeyError:
            raise InputError(
                f"no function {name!r} in toolset {self.name!r} (functions: {name_list(self.functions)})"
            ) from None

    @property
    def names(self) -> list[str]:
        return list(self.functions)

    def openai_tools(self) -> list[dict[str, Any]]:
        """The OpenAI ``tools`` array for this toolset, sorted by name."""
        return [f.openai_tool() for f in self]

    def sources(self) -> dict[str, str]:
        """Function name → module source."""
        return {f.name: f.source for f in self}


def name_list(names: Iterable[str], limit: int = 8) -> str:
    """``a, b, c and 12 more``: names for a one-line message."""
    ordered = sorted(names)
    if not ordered:
        return "none"
    shown = ", ".join(ordered[:limit])
    return shown + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


def check_toolset_name(name: str) -> None:
    """Refuse a toolset name that is no importable package name (bad input: exit status 2)."""
    if not _TOOLSET_NAME.fullmatch(name or ""):
        raise InputError(
            f"toolset name {name!r} is not allowed: use lowercase ASCII letters, digits and _ (e.g. 'math')"
        )
    if keyword.iskeyword(name):
        raise InputError(
            f"toolset name {name!r} is a Python keyword, so `from registry.{name} import ...` could never work; "
            "choose another name"
        )


def is_function_module(filename: str) -> bool:
    """``solve.py`` is a function module; ``__init__.py`` and ``_helpers.py`` are not."""
    return filename.endswith(".py") and not filename.startswith("_")


def load_toolset(
    name: str, files: Mapping[str, bytes], base_path: str, commit: str | None, *, cache: DerivationCache | None = None
) -> Toolset:
    """Build a Toolset from the files of its folder (name → content)."""
    sources = {
        filename[:-3]: files[filename].decode("utf-8", errors="replace")
        for filename in sorted(files)
        if is_function_module(filename)
    }
    derived, problems = _derive_all(sources, base_path, cache)
    functions = {
        func_name: FunctionInfo(
            name=func_name,
            description=result.description,
            parameters=copy.deepcopy(result.parameters),
            requires=result.requires,
            path=f"{base_path}/{func_name}.py",
            source=sources[func_name],
            warnings=result.warnings,
            returns=copy.deepcopy(result.returns),
        )
        for func_name, result in derived.items()
    }
    return Toolset(name=name, commit=commit, functions=functions, problems=problems)


def _derive_all(
    sources: Mapping[str, str], base_path: str, cache: DerivationCache | None
) -> tuple[dict[str, DerivedFunction], dict[str, str]]:
    from fnreg.registry.derive_cache import cache_key  # SQLite's module too: not for `fnreg log`

    keys = {func_name: cache_key(source, func_name) for func_name, source in sources.items()}
    stored = cache.get_many(keys.values()) if cache is not None else {}
    derived: dict[str, DerivedFunction] = {}
    problems: dict[str, str] = {}
    fresh: dict[str, DerivedFunction] = {}
    missing = [(source, func_name) for func_name, source in sources.items() if keys[func_name] not in stored]
    outcomes = dict(zip((name for _, name in missing), _derive_many(missing)))
    for func_name in sources:
        key = keys[func_name]
        outcome = stored[key] if key in stored else outcomes[func_name]
        if isinstance(outcome, str):
            problems[f"{base_path}/{func_name}.py"] = outcome
        else:
            derived[func_name] = outcome
            if key not in stored:
                fresh[key] = outcome
    if cache is not None:
        cache.put_many(fresh)
    return derived, problems


#: Below this many modules to derive, a process pool costs more than it saves.
PARALLEL_FROM = 200


def _derive_many(items: list[tuple[str, str]]) -> list[DerivedFunction | str]:
    """Derive each (source, name); a str is the problem. Big batches use every core.

    Only forks from a single-threaded process: forking while other threads hold locks is unsafe.
    """
    workers = min(os.cpu_count() or 1, 8)
    if len(items) < PARALLEL_FROM or workers < 2 or threading.active_count() > 1 or sys.platform != "linux":
        return [_derive_outcome(item) for item in items]
    import multiprocessing

    import fnreg.registry.schema  # noqa: F401  (libcst: imported once here, shared by every forked worker)

    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        return pool.map(_derive_outcome, items, chunksize=max(1, len(items) // (workers * 4)))


def _derive_outcome(item: tuple[str, str]) -> DerivedFunction | str:
    try:
        return _derive_cached(*item)
    except SchemaError as exc:
        return str(exc)


@lru_cache(maxsize=8192)
def _derive_cached(source: str, name: str) -> DerivedFunction:
    # Keyed by content: a training run reads the same modules at many commits.
    from fnreg.registry.schema import (
        derive_function,  # libcst: only for content never derived before
    )

    return derive_function(source, name)
