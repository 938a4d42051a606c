"""Project settings: the ``[tool.fnreg]`` table of ``pyproject.toml``.

Precedence everywhere: command-line flags, then environment variables, then this table,
then built-in defaults. This module only reads the file; the layers above combine.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import black

from fnreg.errors import ConfigError

if TYPE_CHECKING:
    from fnreg.llm.settings import LLMSettings
    from fnreg.sandbox.limits import Limits

DEFAULT_PACKAGE = "registry"

#: Every key ``[tool.fnreg]`` may hold, with its type; unknown keys are an error (typos).
KNOWN_KEYS: dict[str, type | tuple[type, ...]] = {
    "package": str,
    "model": str,
    "optimizer_model": str,
    "base_url": str,
    "api_key_env": str,
    "api_version": str,
    "concurrency": int,
    "timeout": (int, float),
    "temperature": (int, float),
    "max_retries": int,
    "epochs": int,
    "max_actions": int,
    "patience": int,
    "batch_size": int,
    "seed": int,
    "max_cost": (int, float),
    "max_tokens": int,
    "prompt_budget": int,
    "max_turns": int,
    "task_timeout": (int, float),
    "prices": dict,
    "cache": bool,
    "limits": dict,
}


def read_pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    return _read_toml(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _read_toml(path: Path, mtime: int) -> dict[str, Any]:
    del mtime  # part of the cache key only: an edited file is read again
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def project_settings(root: Path) -> dict[str, Any]:
    """The ``[tool.fnreg]`` table, checked for unknown keys and wrong types."""
    table = read_pyproject(root).get("tool", {}).get("fnreg", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{root / 'pyproject.toml'}: [tool.fnreg] must be a table")
    for key, value in table.items():
        expected = KNOWN_KEYS.get(key)
        if expected is None:
            raise ConfigError(
                f"{root / 'pyproject.toml'}: unknown key {key!r} in [tool.fnreg]; known: {', '.join(sorted(KNOWN_KEYS))}"
            )
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is int):
            raise ConfigError(
                f"{root / 'pyproject.toml'}: [tool.fnreg] {key} has the wrong type ({type(value).__name__})"
            )
    return dict(table)


def package_name(root: Path) -> str:
    """The import name of the repository's registry package (default ``registry``)."""
    name = project_settings(root).get("package", DEFAULT_PACKAGE)
    if not name.isidentifier():
        raise ConfigError(f"[tool.fnreg] package = {name!r} is not a Python package name")
    return name


def sandbox_limits(root: Path) -> Limits:
    """``[tool.fnreg.limits]``: what one call of learned code may use (``fnreg.sandbox.Limits`` fields).

    ::

        [tool.fnreg.limits]
        wall_seconds = 10
        memory_bytes = 1073741824
    """
    from dataclasses import fields

    from fnreg.sandbox.limits import Limits  # only callers that run learned code pay for the sandbox

    table = project_settings(root).get("limits", {})
    known = {field.name for field in fields(Limits)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{root / 'pyproject.toml'}: unknown key {unknown[0]!r} in [tool.fnreg.limits]; known: {', '.join(sorted(known))}"
        )
    try:
        return Limits(**table)
    except ValueError as exc:
        raise ConfigError(f"{root / 'pyproject.toml'}: [tool.fnreg.limits]: {exc}") from None


def black_mode(root: Path) -> black.Mode:
    """black's mode from ``[tool.black]``, so written modules pass the repo's own ``black --check``."""
    table = read_pyproject(root).get("tool", {}).get("black", {})
    options: dict[str, Any] = {}
    if "line-length" in table:
        options["line_length"] = int(table["line-length"])
    if table.get("skip-string-normalization"):
        options["string_normalization"] = False
    if table.get("skip-magic-trailing-comma"):
        options["magic_trailing_comma"] = False
    if table.get("preview"):
        options["preview"] = True
    return black.Mode(**options)


_LLM_KEYS = (
    "model",
    "optimizer_model",
    "base_url",
    "api_version",
    "concurrency",
    "timeout",
    "temperature",
    "max_retries",
)


def llm_settings(root: Path, **flags: Any) -> LLMSettings:
    """LLM settings layered: non-None ``flags`` over the environment over ``[tool.fnreg]``."""
    from fnreg.llm.settings import LLMSettings, env_values  # the registry layer must not load the LLM client

    project = project_settings(root)
    values: dict[str, Any] = {key: project[key] for key in _LLM_KEYS if key in project}
    if "prices" in project:
        values["prices"] = _prices(project["prices"], root)
    if project.get("cache", True):
        values["cache_path"] = root / ".fnreg" / "cache.sqlite"  # Registry.state_dir()
    values.update(env_values(api_key_env=project.get("api_key_env", "OPENAI_API_KEY")))
    values.update({k: v for k, v in flags.items() if v is not None})
    return LLMSettings(**values)


def _prices(table: dict[str, Any], root: Path) -> dict[str, tuple[float, float]]:
    """``[tool.fnreg.prices] "gpt-4o" = [2.5, 10.0]`` (USD per 1M prompt, completion tokens)."""
    prices = {}
    for model, pair in table.items():
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, (int, float)) for p in pair)):
            raise ConfigError(
                f"{root / 'pyproject.toml'}: [tool.fnreg.prices] {model} must be [prompt, completion] USD per 1M tokens"
            )
        prices[model] = (float(pair[0]), float(pair[1]))
    return prices
