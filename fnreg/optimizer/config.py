"""The optimizer's section of ``[tool.fnreg]``: how many actions a step takes, how big a request may be."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fnreg.config import SECTION_CONFIG


class OptimizerConfig(BaseModel):
    """``[tool.fnreg]`` keys the optimizer reads; the defaults of :class:`~fnreg.optimizer.AgentOptimizer`."""

    model_config = ConfigDict(**SECTION_CONFIG)

    max_actions: int = Field(
        3, ge=1, description="Optimizer actions per step (the paper: 3).", json_schema_extra={"expects": "at least 1"}
    )
    prompt_budget: int = Field(
        96_000,
        ge=1_000,
        description="Tokens per optimizer request.",
        json_schema_extra={"expects": "an integer of at least 1000"},
    )
