"""Reading fnreg's configuration files against their declared schema.

The schema is declared once, as pydantic models, by the layers that own the settings, with
the defaults inside it:

- ``[tool.fnreg]`` of ``pyproject.toml``: :class:`fnreg.training.config.ProjectConfig`, made
  of :class:`~fnreg.registry.config.RegistryConfig` (``package``),
  :class:`~fnreg.llm.config.LLMConfig` (model, endpoint, retries, prices, cache),
  :class:`~fnreg.agents.config.AgentConfig` (turns, task timeout),
  :class:`~fnreg.optimizer.config.OptimizerConfig` (actions per step, prompt budget) and
  :class:`~fnreg.training.config.TrainingConfig` (epochs, patience, batches, budgets).
  A layer validates only its own section (the registry never learns that LLM settings exist);
  the training layer, which knows every section, refuses unknown keys.
- ``task.toml``: :class:`fnreg.evaluation.task_file.TaskFile`.

The CLI's help texts and the library's dataclasses (``TrainConfig``, ``RunOptions``,
``AgentLimits``, ``LLMSettings``, ``AgentOptimizer``) take their defaults from these models (:func:`default`).

This module holds what every section shares: reading TOML, and validating a table so that any
mistake becomes one line naming the file and the key. It imports no layer, and pydantic only
when something is validated.

Precedence everywhere: command-line flags, then environment variables, then the file, then
the schema's defaults. This module only reads; the layers above combine.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fnreg.errors import ConfigError, FnregError

if TYPE_CHECKING:
    from pydantic import BaseModel

Model = TypeVar("Model", bound="BaseModel")

#: Model settings every section shares: TOML types only (no "20" for 20, no true for 1), read-only.
SECTION_CONFIG: dict[str, Any] = {"strict": True, "frozen": True, "extra": "ignore", "defer_build": True}
#: The same, for a model that is a whole table: a key it does not declare is a typo.
TABLE_CONFIG: dict[str, Any] = {**SECTION_CONFIG, "extra": "forbid"}

TOOL_TABLE = "[tool.fnreg]"


def read_toml(path: Path, error: type[FnregError] = ConfigError, label: str | None = None) -> dict[str, Any]:
    """A TOML file as a dict, read again only when it changed.

    Bad TOML is one ``error`` line starting with ``label`` (default: the path).
    """
    stat = path.stat()
    try:
        return _read_toml(path, stat.st_mtime_ns, stat.st_size)
    except UnicodeDecodeError as exc:
        raise error(
            f"{label or path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise error(f"{label or path}: invalid TOML ({exc}); fix the syntax") from None


@lru_cache(maxsize=32)
def _read_toml(path: Path, mtime: int, size: int) -> dict[str, Any]:
    del mtime, size  # part of the cache key only: an edited file is read again
    return tomllib.loads(path.read_text(encoding="utf-8"))


def read_pyproject(root: Path) -> dict[str, Any]:
    """``pyproject.toml`` of the repository at ``root`` (empty when there is none)."""
    path = Path(root) / "pyproject.toml"
    return read_toml(path) if path.is_file() else {}


def tool_table(root: Path) -> dict[str, Any]:
    """The raw ``[tool.fnreg]`` table (empty when absent)."""
    table = read_pyproject(root).get("tool", {}).get("fnreg", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{Path(root) / 'pyproject.toml'}: {TOOL_TABLE} must be a table")
    return table


def project_section(root: Path, model: type[Model]) -> Model:
    """One section of ``[tool.fnreg]`` (a layer's own settings), validated, with the defaults filled in."""
    return validate(model, tool_table(root), where=str(Path(root) / "pyproject.toml"), table=TOOL_TABLE)


def default(model: type[BaseModel], key: str) -> Any:
    """The schema's default of ``key`` (for help texts and the library's dataclasses)."""
    field = model.model_fields[key]
    return field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]


def validate(
    model: type[Model],
    data: Mapping[str, Any],
    *,
    where: str,
    table: str | None = None,
    error: type[FnregError] = ConfigError,
) -> Model:
    """``data`` checked against ``model``; the first mistake as one line: ``<where>: <what is wrong>``.

    ``table``: the TOML table ``data`` is (``[tool.fnreg]``), named in the message.
    """
    from pydantic import ValidationError

    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise error(f"{where}: {describe(model, exc.errors()[0], table)}") from None


def describe(model: type[BaseModel], problem: Mapping[str, Any], table: str | None = None) -> str:
    """One pydantic error as a sentence a user can act on (the field's metadata helps).

    A nested table (a field that is itself a model, e.g. ``[sandbox]`` in task.toml) is named
    the TOML way: ``unknown key 'x' in [sandbox]``, ``[sandbox] network must be ...``.
    """
    loc = [str(part) for part in problem["loc"]]
    while len(loc) > 1 and _submodel(model, loc[0]) is not None:  # descend into [table]
        table = f"[{table.strip('[]')}.{loc[0]}]" if table else f"[{loc[0]}]"
        model, loc = _submodel(model, loc[0]), loc[1:]  # type: ignore[assignment]
    key = loc[0] if loc else ""
    field = model.model_fields.get(key)
    extra = (field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}) or {}
    kind, value = problem["type"], problem.get("input")
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(key, list(model.model_fields), n=1)
        suggestion = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key {key!r}{f' in {table}' if table else ''}; {suggestion}allowed: {', '.join(model.model_fields)}"
    if kind == "missing":
        return str(extra.get("missing", f"missing {key}"))
    if kind in ("value_error", "assertion_error"):
        message = str(problem.get("ctx", {}).get("error", problem["msg"]))
        return f"{table} {message}" if table else message
    if kind == "literal_error":
        expected = problem.get("ctx", {}).get("expected", "").replace("'", "").replace(" or ", ", ")
        return f"unknown {key} {value!r}; use one of {expected}"
    name = " ".join(filter(None, [table, ".".join(loc)])) or "the value"
    expects = extra.get("expects", "valid")
    if kind.endswith("_type") or kind in ("is_instance_of", "dataclass_type", "model_type"):
        return f"{name} must be {expects}, not {toml_kind(value)} ({value!r})"
    return f"{name} must be {expects}, not {value!r}"


def _submodel(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    """The model a field holds, when the field is a nested table."""
    from pydantic import BaseModel

    field = model.model_fields.get(key)
    annotation = field.annotation if field is not None else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def toml_kind(value: object) -> str:
    """``an integer``, ``a string``...: a value's type in TOML's words."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)
