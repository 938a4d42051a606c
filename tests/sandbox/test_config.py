"""``[tool.fnreg.limits]``: the sandbox's section of the project settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from fnreg.errors import ConfigError
from fnreg.sandbox import Limits
from fnreg.sandbox.config import sandbox_limits
from fnreg.training.config import load_project_config


def project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(text)
    return tmp_path


def test_the_table_overrides_the_defaults_it_names(tmp_path: Path):
    assert sandbox_limits(tmp_path) == Limits()
    root = project(tmp_path, "[tool.fnreg.limits]\nwall_seconds = 3\nmemory_bytes = 1073741824\n")
    assert sandbox_limits(root) == Limits(wall_seconds=3, memory_bytes=1024**3)
    assert load_project_config(root).limits.wall_seconds == 3  # the whole table accepts it too


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "[tool.fnreg.limits]\nwall_second = 3\n",
            "unknown key 'wall_second' in [tool.fnreg.limits]; did you mean 'wall_seconds'?",
        ),
        (
            "[tool.fnreg.limits]\nwall_seconds = -1\n",
            "[tool.fnreg.limits] wall_seconds must be a positive number, not -1",
        ),
        (
            "[tool.fnreg.limits]\nmax_processes = 1.5\n",
            "[tool.fnreg.limits] max_processes must be a positive integer, not a float (1.5)",
        ),
        ('[tool.fnreg]\nlimits = "tight"\n', "[tool.fnreg] limits must be a table, not a string ('tight')"),
    ],
)
def test_mistakes_are_one_line_naming_the_table_and_key(tmp_path: Path, text: str, message: str):
    root = project(tmp_path, text)
    for read in (sandbox_limits, load_project_config):
        with pytest.raises(ConfigError) as raised:
            read(root)
        assert message in str(raised.value) and "\n" not in str(raised.value)
