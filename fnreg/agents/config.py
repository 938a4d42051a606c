"""The agents' section of ``[tool.fnreg]`` and the agent kinds a task set may name."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fnreg.config import SECTION_CONFIG

#: What ``agent = ...`` in ``task.toml`` may say: native function calling, or a text ReAct loop.
AgentKind = Literal["tools", "react"]


class AgentConfig(BaseModel):
    """``[tool.fnreg]`` keys that bound an agent; the defaults of :class:`~fnreg.agents.base.AgentLimits`."""

    model_config = ConfigDict(**SECTION_CONFIG)

    max_turns: int = Field(10, ge=1, description="Model replies per task.", json_schema_extra={"expects": "at least 1"})
    task_timeout: float = Field(
        300.0, gt=0, description="Wall-clock seconds per task.", json_schema_extra={"expects": "a positive number"}
    )
