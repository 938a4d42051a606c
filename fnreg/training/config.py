"""The trainer's section of ``[tool.fnreg]``, and the whole table: every layer's section in one schema."""

from __future__ import annotations

from pathlib import Path

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
        description="Epochs in a row without strict improvement before stopping (the paper: 10).",
        json_schema_extra={"expects": "at least 1"},
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


class ProjectConfig(TrainingConfig, SandboxConfig, OptimizerConfig, AgentConfig, LLMConfig, RegistryConfig):
    """The whole ``[tool.fnreg]`` table: every section; a key none declares is a typo."""

    model_config = ConfigDict(**TABLE_CONFIG)


def load_project_config(root: Path) -> ProjectConfig:
    """``[tool.fnreg]`` of the repository at ``root``, validated whole, with the defaults filled in."""
    return project_section(root, ProjectConfig)


__all__ = ["ProjectConfig", "TRAIN_TASKS_AT_ONCE", "TrainingConfig", "load_project_config"]
