"""The sandbox's section of ``[tool.fnreg]``: how learned code is isolated."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fnreg.config import SECTION_CONFIG

SandboxMode = Literal["jail", "process", "auto"]


class SandboxConfig(BaseModel):
    """``[tool.fnreg]`` keys the sandbox reads."""

    model_config = ConfigDict(**SECTION_CONFIG)

    sandbox: SandboxMode = Field(
        "auto",
        description="jail (bubblewrap; an error where it cannot start), process, or auto: the jail where it starts.",
        json_schema_extra={"expects": "a string"},
    )
