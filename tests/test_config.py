"""The declared configuration schema: one-line errors naming the file and key, defaults from the models."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from fnreg.agents import AgentLimits
from fnreg.config import default, project_section, read_toml, tool_table, validate
from fnreg.errors import ConfigError, TaskSetError
from fnreg.llm import LLMSettings, llm_settings
from fnreg.llm.config import LLMConfig
from fnreg.optimizer import AgentOptimizer
from fnreg.optimizer.config import OptimizerConfig
from fnreg.registry.config import RegistryConfig, package_name
from fnreg.training import RunOptions, TrainConfig, settings_from_project
from fnreg.training.config import ProjectConfig, TrainingConfig, load_project_config


def project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.fnreg]\n{table}')
    return tmp_path


def error(tmp_path: Path, table: str) -> str:
    with pytest.raises(ConfigError) as excinfo:
        load_project_config(project(tmp_path, table))
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith(f"{tmp_path / 'pyproject.toml'}: ")
    return message.split(": ", 1)[1]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("epocs = 3\n", "unknown key 'epocs' in [tool.fnreg]; did you mean 'epochs'? allowed: package, model,"),
        ('epochs = "3"\n', "[tool.fnreg] epochs must be at least 1, not a string ('3')"),
        ("epochs = 0\n", "[tool.fnreg] epochs must be at least 1, not 0"),
        ("cache = 1\n", "[tool.fnreg] cache must be valid, not an integer (1)"),
        ("concurrency = true\n", "[tool.fnreg] concurrency must be at least 1, not a boolean (True)"),
        ("timeout = -1\n", "[tool.fnreg] timeout must be a positive number, not -1"),
        ('package = "my-tools"\n', "[tool.fnreg] package = 'my-tools' is not a Python package name"),
        (
            '[tool.fnreg.prices]\n"gpt-4o" = [2.5]\n',
            "[tool.fnreg] [tool.fnreg.prices] gpt-4o must be [prompt, completion]",
        ),
    ],
)
def test_a_mistake_is_one_line_naming_the_file_and_key(tmp_path: Path, table: str, message: str) -> None:
    assert error(tmp_path, table).startswith(message)


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.fnreg\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: invalid TOML \(.*\); fix the syntax$"):
        tool_table(tmp_path)
    with pytest.raises(TaskSetError, match=r"^tasks/x/task.toml: invalid TOML"):
        read_toml(path, TaskSetError, "tasks/x/task.toml")


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    assert load_project_config(project(tmp_path, "epochs = 4\n")).epochs == 4
    (tmp_path / "pyproject.toml").write_text('[tool.fnreg]\nepochs = 5\nmodel = "m"\n')
    assert load_project_config(tmp_path).epochs == 5


def test_a_layer_reads_its_own_section_and_ignores_the_others(tmp_path: Path) -> None:
    root = project(tmp_path, 'package = "tools"\nmodel = "local-model"\nepochs = 2\n')
    assert project_section(root, LLMConfig).model == "local-model"
    assert package_name(root) == "tools" and project_section(root, RegistryConfig).package == "tools"


def test_no_file_no_table_means_the_defaults(tmp_path: Path) -> None:
    config = load_project_config(tmp_path)
    assert config == ProjectConfig() and package_name(tmp_path) == "registry"


def test_the_library_reads_its_defaults_from_the_schema() -> None:
    assert TrainConfig() == TrainConfig(
        epochs=default(TrainingConfig, "epochs"),
        patience=default(TrainingConfig, "patience"),
        batch_size=default(TrainingConfig, "batch_size"),
        seed=default(TrainingConfig, "seed"),
    )
    assert RunOptions().max_actions == default(OptimizerConfig, "max_actions")
    assert RunOptions().prompt_budget == default(OptimizerConfig, "prompt_budget")
    assert AgentLimits().max_turns == default(ProjectConfig, "max_turns")
    assert LLMSettings().model == default(LLMConfig, "model") and LLMSettings().timeout == default(LLMConfig, "timeout")
    fields = {f.name: f.default for f in dataclasses.fields(LLMSettings)}
    assert fields["concurrency"] == default(LLMConfig, "concurrency")
    assert AgentOptimizer.__init__.__kwdefaults__["prompt_budget"] == default(OptimizerConfig, "prompt_budget")


def test_settings_are_layered_flags_over_the_file_over_the_defaults(tmp_path: Path) -> None:
    root = project(tmp_path, "epochs = 4\nmax_actions = 2\nmax_turns = 6\n")
    config, options = settings_from_project(root, patience=5)
    assert (config.epochs, config.patience, options.max_actions, options.agent_limits.max_turns) == (4, 5, 2, 6)
    assert options.concurrency == 4  # training's own default while [tool.fnreg] says nothing
    _, options = settings_from_project(project(tmp_path, "concurrency = 6\n"))
    assert options.concurrency == 6


def test_llm_settings_take_the_cache_path_from_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("MY_KEY", "sk-test")
    root = project(tmp_path, 'model = "m1"\napi_key_env = "MY_KEY"\n[tool.fnreg.prices]\nm1 = [1, 2]\n')
    settings = llm_settings(root, cache_path=tmp_path / "c.sqlite", timeout=9.0)
    assert (settings.model, settings.api_key, settings.timeout) == ("m1", "sk-test", 9.0)
    assert settings.cache_path == tmp_path / "c.sqlite" and settings.prices == {"m1": (1.0, 2.0)}
    assert llm_settings(root).cache_path is None
    assert llm_settings(project(tmp_path, "cache = false\n"), cache_path=tmp_path / "c.sqlite").cache_path is None


def test_validate_raises_the_callers_error_and_sections_ignore_other_keys() -> None:
    with pytest.raises(TaskSetError, match=r"^somewhere: unknown key 'x'; allowed: package, model"):
        validate(ProjectConfig, {"x": 1}, where="somewhere", error=TaskSetError)
    assert validate(TrainingConfig, {"x": 1, "epochs": 2}, where="somewhere").epochs == 2


def test_a_nested_table_is_named_the_toml_way() -> None:
    from pydantic import BaseModel, ConfigDict, Field

    from fnreg.config import TABLE_CONFIG

    class Sandbox(BaseModel):
        model_config = ConfigDict(**TABLE_CONFIG)
        network: bool = Field(False, json_schema_extra={"expects": "true or false"})

    class Task(BaseModel):
        model_config = ConfigDict(**TABLE_CONFIG)
        name: str = "t"
        sandbox: Sandbox = Field(default_factory=Sandbox, json_schema_extra={"expects": "a table"})

    def message(data: dict) -> str:
        with pytest.raises(TaskSetError) as excinfo:
            validate(Task, data, where="task.toml", error=TaskSetError)
        return str(excinfo.value)

    assert message({"sandbox": {"netwrk": True}}) == (
        "task.toml: unknown key 'netwrk' in [sandbox]; did you mean 'network'? allowed: network"
    )
    assert message({"sandbox": {"network": "yes"}}) == (
        "task.toml: [sandbox] network must be true or false, not a string ('yes')"
    )
    assert message({"sandbox": 3}) == "task.toml: sandbox must be a table, not an integer (3)"
    assert validate(Task, {"sandbox": {"network": True}}, where="w").sandbox.network is True
