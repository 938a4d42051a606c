"""The schema of ``task.toml``: which toolset a task set trains, with which agent, evaluator and data."""

from __future__ import annotations

import string
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fnreg.agents.config import AgentKind
from fnreg.config import TABLE_CONFIG
from fnreg.evaluation.lookup import check_evaluator_spec

DEFAULT_PROMPT = "{question}"


class SandboxTable(BaseModel):
    """``[sandbox]`` of task.toml: what learned code may reach while the task set is evaluated."""

    model_config = ConfigDict(**TABLE_CONFIG)

    network: bool = Field(
        False,
        description="Let learned code use the network (web tools); off by default, and reports say when on.",
        json_schema_extra={"expects": "true or false"},
    )


class TaskFile(BaseModel):
    """``tasks/<name>/task.toml``; see ``tasks/README.md``."""

    model_config = ConfigDict(**TABLE_CONFIG)

    name: str | None = Field(
        None, description="Name of the task set (default: its folder).", json_schema_extra={"expects": "a string"}
    )
    description: str = Field("", description="What the tasks are.", json_schema_extra={"expects": "a string"})
    toolset: str = Field(
        description="The toolset it trains (the package under registry/).",
        json_schema_extra={
            "expects": "a string",
            "missing": 'missing toolset; add toolset = "<name>" (the package under registry/)',
        },
    )
    agent: AgentKind = Field(
        "tools",
        description="tools: native function calling + python; react: a text ReAct loop.",
        json_schema_extra={"expects": "a string"},
    )
    evaluator: str = Field(
        "math",
        description="math (math-verify) | numeric | exact | 'package.module:function'.",
        json_schema_extra={"expects": "a string"},
    )
    prompt: str = Field(
        DEFAULT_PROMPT, description="Template filled from each row's fields.", json_schema_extra={"expects": "a string"}
    )
    train: str | None = Field(
        None,
        description="Training data (JSONL): relative, absolute, ~ or ${VARIABLES}.",
        json_schema_extra={"expects": "a path string"},
    )
    test: str | None = Field(None, description="Test data (JSONL).", json_schema_extra={"expects": "a path string"})
    val: str | None = Field(
        None,
        description="Validation data (JSONL); it decides keep, roll-back, early stop and best.",
        json_schema_extra={"expects": "a path string"},
    )
    train_size: int | None = Field(
        None,
        ge=1,
        description="Seeded sample of the training rows.",
        json_schema_extra={"expects": "a positive integer"},
    )
    test_size: int | None = Field(
        None, ge=1, description="Seeded sample of the test rows.", json_schema_extra={"expects": "a positive integer"}
    )
    val_size: int | None = Field(
        None,
        ge=1,
        description="Seeded sample of the validation rows; without `val`, taken from the training file.",
        json_schema_extra={"expects": "a positive integer"},
    )
    system_prompt: str | None = Field(
        None,
        description="The agent's system message (default: fnreg's, naming the toolset's package).",
        json_schema_extra={"expects": "a string"},
    )
    max_turns: int | None = Field(
        None,
        ge=1,
        description="Model replies per task for this task set (default: [tool.fnreg] max_turns).",
        json_schema_extra={"expects": "a positive integer"},
    )
    seed: int = Field(0, description="Seed of the samples.", json_schema_extra={"expects": "an integer"})
    sandbox: SandboxTable = Field(
        default_factory=SandboxTable, description="The [sandbox] table.", json_schema_extra={"expects": "a table"}
    )

    @field_validator("toolset")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError(f"toolset {value!r} is not a Python identifier; use letters, digits and _")
        return value

    @field_validator("evaluator")
    @classmethod
    def _known_evaluator(cls, value: str) -> str:
        problem = check_evaluator_spec(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("prompt")
    @classmethod
    def _template(cls, value: str) -> str:
        check_prompt(value)
        return value

    @model_validator(mode="after")
    def _has_data(self) -> TaskFile:
        if self.train is None and self.test is None:
            raise ValueError('no data; add train = "train.jsonl" and/or test = "test.jsonl"')
        return self


def check_prompt(prompt: str) -> None:
    """Refuse a template ``str.format`` cannot fill from named fields (``ValueError``)."""
    try:
        placeholders = [name for _, name, _, _ in string.Formatter().parse(prompt) if name is not None]
    except ValueError as exc:
        raise ValueError(f"prompt is not a valid template ({exc}); write literal braces as {{{{ and }}}}") from None
    if "" in placeholders or any(name.isdigit() for name in placeholders):
        raise ValueError("prompt has an empty placeholder {}; write literal braces as {{}} (e.g. \\boxed{{}})")


def task_file_keys() -> list[str]:
    """The keys ``task.toml`` may hold, in the schema's order."""
    return list(TaskFile.model_fields)


__all__: list[Any] = ["DEFAULT_PROMPT", "TaskFile", "check_prompt", "task_file_keys"]
