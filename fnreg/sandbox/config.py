"""The sandbox's section of ``[tool.fnreg]``: how learned code is isolated (``sandbox``) and
``[tool.fnreg.limits]``, what one call of learned code may use.

::

    [tool.fnreg.limits]
    wall_seconds = 10
    memory_bytes = 1073741824

The defaults are :class:`~fnreg.sandbox.limits.Limits`'s own; ``fnreg eval``, ``train`` and
``serve`` apply the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fnreg.config import SECTION_CONFIG, TABLE_CONFIG, project_section
from fnreg.sandbox.limits import Limits

_DEFAULT = Limits()
SandboxMode = Literal["jail", "process", "auto"]


def _positive(default: float, description: str, *, integer: bool = False):
    expects = "a positive integer" if integer else "a positive number"
    return Field(default, gt=0, description=description, json_schema_extra={"expects": expects})


class LimitsConfig(BaseModel):
    """``[tool.fnreg.limits]``: one field per :class:`~fnreg.sandbox.limits.Limits` field."""

    model_config = ConfigDict(**TABLE_CONFIG)

    cpu_seconds: float = _positive(_DEFAULT.cpu_seconds, "CPU seconds of one call.")
    wall_seconds: float = _positive(_DEFAULT.wall_seconds, "Wall-clock seconds of one call.")
    memory_bytes: int = _positive(_DEFAULT.memory_bytes, "Address space of each process.", integer=True)
    file_size_bytes: int = _positive(_DEFAULT.file_size_bytes, "Largest file written.", integer=True)
    max_processes: int = _positive(_DEFAULT.max_processes, "Processes and threads a call may add.", integer=True)
    tmp_bytes: int = _positive(_DEFAULT.tmp_bytes, "Size of the session's private /tmp (jail).", integer=True)
    output_chars: int = _positive(_DEFAULT.output_chars, "Characters of output handed back.", integer=True)


class SandboxConfig(BaseModel):
    """``[tool.fnreg]`` keys the sandbox reads."""

    model_config = ConfigDict(**SECTION_CONFIG)

    sandbox: SandboxMode = Field(
        "auto",
        description="jail (bubblewrap; an error where it cannot start), process, or auto: the jail where it starts.",
        json_schema_extra={"expects": "a string"},
    )
    limits: LimitsConfig = Field(
        default_factory=LimitsConfig,
        description="Limits on one call of learned code (eval, train, serve).",
        json_schema_extra={"expects": "a table"},
    )


def sandbox_limits(root: Path) -> Limits:
    """The limits ``[tool.fnreg.limits]`` of the repository at ``root`` sets (defaults for what it omits)."""
    return Limits(**project_section(root, SandboxConfig).limits.model_dump())
