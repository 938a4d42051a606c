"""The registry's settings: its section of ``[tool.fnreg]``, and black's style from ``[tool.black]``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fnreg.config import SECTION_CONFIG, project_section, read_pyproject

if TYPE_CHECKING:
    import black


class RegistryConfig(BaseModel):
    """``[tool.fnreg]`` keys the registry reads."""

    model_config = ConfigDict(**SECTION_CONFIG)

    package: str = Field(
        "registry",
        description="Import name of the trained registry (the folder holding the toolsets).",
        json_schema_extra={"expects": "a Python package name"},
    )

    @field_validator("package")
    @classmethod
    def _importable(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError(f"package = {value!r} is not a Python package name; use letters, digits and _")
        return value


def package_name(root: Path) -> str:
    """The import name of the repository's registry package (default ``registry``)."""
    return project_section(root, RegistryConfig).package


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
