"""The trainer's section of ``[tool.fnreg]``, and the whole table: every layer's section in one schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fnreg.agents.config import AgentConfig
from fnreg.config import SECTION_CONFIG, TABLE_CONFIG, project_section
from fnreg.llm.config import LLMConfig
from fnreg.optimizer.config import OptimizerConfig
from fnreg.registry.config import RegistryConfig
from fnreg.sandbox.config import SandboxConfig

#: Tasks a training run evaluates at once unless ``concurrency`` is set (fewer than LLM requests:
#: each task holds a sandbox worker).
TRAIN_TASKS_AT_ONCE = 4


class TrainingConfig(BaseModel):
    """``[tool.fnreg]`` keys of the training schedule; the defaults of :class:`~fnreg.training.TrainConfig`."""

    model_config = ConfigDict(**SECTION_CONFIG)

    epochs: int = Field(
        10, ge=1, description="Optimizer steps (the paper: 10).", json_schema_extra={"expects": "at least 1"}
    )
    patience: int = Field(
        3,
        ge=1,
        description="Epochs in a row without improvement before stopping (fnreg: 3, for cost; the paper: 10).",
        json_schema_extra={"expects": "at least 1"},
    )
    ties: Literal["rollback", "keep"] = Field(
        "rollback",
        description="A step that ties the best: roll it back (the paper's pseudocode) or keep it (its experiments).",
        json_schema_extra={"expects": '"rollback" or "keep"'},
    )
    batch_rule: Literal["paired", "paper"] = Field(
        "paired",
        description="With batches: re-evaluate the best set on the same batch (paired, fnreg's) or compare "
        "with the best's recorded score (paper).",
        json_schema_extra={"expects": '"paired" or "paper"'},
    )
    rollback: bool = Field(
        True,
        description="Roll back steps that do not improve (off: every step is kept; the paper's ablation).",
        json_schema_extra={"expects": "true or false"},
    )
    early_stop: bool = Field(
        True,
        description="Stop after `patience` epochs without improvement (off: run every epoch).",
        json_schema_extra={"expects": "true or false"},
    )
    protocol: Literal["fnreg", "paper"] = Field(
        "fnreg",
        description="A preset: fnreg's cheaper defaults, or the paper's choices (see PAPER_PROTOCOL).",
        json_schema_extra={"expects": '"fnreg" or "paper"'},
    )
    batch_size: int | None = Field(
        None,
        ge=1,
        description="Training tasks sampled per epoch (default: all).",
        json_schema_extra={"expects": "at least 1"},
    )
    seed: int = Field(0, description="Seed of the batch sampling.", json_schema_extra={"expects": "an integer"})
    max_cost: float | None = Field(
        None, ge=0, description="Stop cleanly once this many USD are spent.", json_schema_extra={"expects": "a number"}
    )
    max_tokens: int | None = Field(
        None,
        ge=1,
        description="Stop cleanly once this many tokens are billed.",
        json_schema_extra={"expects": "at least 1"},
    )


#: What ``--protocol paper`` sets (Zhang et al., 2024, and its reference implementation); the README lists each.
PAPER_PROTOCOL: dict[str, Any] = {
    "epochs": 10,  # §4: 10 training epochs
    "patience": 10,  # early-stop threshold 10: with 10 epochs it never stops early
    "max_actions": 3,  # three actions per optimizer step
    "ties": "keep",  # the reference treats only a drop as a failure (Table 1 has tied cells kept)
    "clip": "over_budget",  # the reference pastes whole histories; fnreg cuts only to fit the budget
    "show_answers": True,  # §1: the optimizer sees the agent's answer and the ground truth
    "batch_rule": "paper",  # §3.3.4: a new batch per step, compared with the previous score
}


class ProjectConfig(TrainingConfig, SandboxConfig, OptimizerConfig, AgentConfig, LLMConfig, RegistryConfig):
    """The whole ``[tool.fnreg]`` table: every section; a key none declares is a typo."""

    model_config = ConfigDict(**TABLE_CONFIG)


def load_project_config(root: Path) -> ProjectConfig:
    """``[tool.fnreg]`` of the repository at ``root``, validated whole, with the defaults filled in."""
    return project_section(root, ProjectConfig)


__all__ = ["PAPER_PROTOCOL", "ProjectConfig", "TRAIN_TASKS_AT_ONCE", "TrainingConfig", "load_project_config"]
