"""The optimizer's section of ``[tool.fnreg]``: how many actions a step takes, how big a request may be."""

from __future__ import annotations

from typing import Literal

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
    clip: Literal["always", "over_budget"] = Field(
        "always",
        description="Cut long messages, conversations and old failed sets always (cheaper), or only when the "
        "request would exceed the prompt budget.",
        json_schema_extra={"expects": '"always" or "over_budget"'},
    )
    show_answers: bool = Field(
        False,
        description="Show the optimizer each task's final answer and the ground truth (the paper does).",
        json_schema_extra={"expects": "true or false"},
    )
    update: Literal["progressive", "one_shot"] = Field(
        "progressive",
        description="One action per request, List B updated in between (the paper's), or all of a step's "
        "actions in one reply (its ablation).",
        json_schema_extra={"expects": '"progressive" or "one_shot"'},
    )
