"""The registry's settings: its section of ``[tool.fnreg]``, and black's style from ``[tool.black]``.

:class:`RegistryConfig` is the registry's part of the one declared schema (see
:mod:`fnreg.config`). Every read command opens a registry, and importing pydantic would be
a third of ``fnreg list``'s time, so the model is built on first use, and
:func:`package_name` consults it only when the table does not plainly hold a valid name
(absent, or an identifier string): for anything else the model gives the one-line error.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fnreg.config import SECTION_CONFIG, project_section, read_pyproject, tool_table

if TYPE_CHECKING:
    import black
    from pydantic import BaseModel

#: The schema's default of ``package``: the import name of a repository's trained registry.
DEFAULT_PACKAGE = "registry"


def is_package_name(value: object) -> bool:
    """The schema's rule for ``package``: a string that is a Python identifier."""
    return isinstance(value, str) and value.isidentifier()


def package_name(root: Path) -> str:
    """The import name of the repository's registry package (default ``registry``)."""
    value = tool_table(root).get("package", DEFAULT_PACKAGE)
    if is_package_name(value):
        return value
    return project_section(root, _registry_config()).package  # raises the one-line ConfigError


@cache
def _registry_config() -> type[BaseModel]:
    from pydantic import BaseModel, ConfigDict, Field, field_validator

    class RegistryConfig(BaseModel):
        """``[tool.fnreg]`` keys the registry reads."""

        model_config = ConfigDict(**SECTION_CONFIG)

        package: str = Field(
            DEFAULT_PACKAGE,
            description="Import name of the trained registry (the folder holding the toolsets).",
            json_schema_extra={"expects": "a Python package name"},
        )

        @field_validator("package")
        @classmethod
        def _importable(cls, value: str) -> str:
            if not is_package_name(value):
                raise ValueError(f"package = {value!r} is not a Python package name; use letters, digits and _")
            return value

    RegistryConfig.__qualname__ = "RegistryConfig"
    RegistryConfig.__module__ = __name__
    return RegistryConfig


def __getattr__(name: str) -> Any:
    if name == "RegistryConfig":  # the pydantic model, built on first use
        return _registry_config()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def black_mode(root: Path) -> black.Mode:
    """black's mode from ``[tool.black]``, so written modules pass the repo's own ``black --check``."""
    import black

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
