"""The GitHub workflows are valid, run what the README says, and keep secrets in settings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


from tests.conftest import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def test_workflows_match_githubs_schema():
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, sorted(WORKFLOWS.glob("*.yml")))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text()
    ci_run = (REPO_ROOT / ".ci" / "run").read_text()
    command = next(line for line in ci_run.splitlines() if "pytest" in line)
    assert command.strip() in readme
    assert "bash .ci/run" in (WORKFLOWS / "ci.yml").read_text()


def test_train_workflow_takes_inputs_and_secrets_only_from_settings():
    text = (WORKFLOWS / "train.yml").read_text()
    for name in ("task:", "epochs:", "model:"):
        assert name in text
    assert "workflow_dispatch" in text and "--pr" in text
    assert re.search(r"OPENAI_API_KEY: \$\{\{ secrets\.OPENAI_API_KEY \}\}", text)
    # Inputs reach the shell through the environment, never expanded into a script.
    for block in re.findall(r"run: \|\n((?:\s{10}.*\n)+)", text):
        assert "${{" not in block


def test_missing_git_is_a_one_line_error(git_repo: Path, tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "fnreg", "list"],
        cwd=git_repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(tmp_path)},
    )
    assert result.returncode != 0
    assert (
        result.stderr.strip()
        == "error: git is not installed or not on PATH; install git (https://git-scm.com) and try again"
    )


def test_pr_without_gh_fails_before_training(git_repo: Path, tmp_path: Path):
    subprocess.run(["git", "remote", "add", "origin", str(tmp_path / "origin.git")], cwd=git_repo, check=True)
    (tmp_path / "git").symlink_to(shutil.which("git"))
    env = {**os.environ, "PATH": str(tmp_path)}  # git, but no gh
    python = sys.executable
    result = subprocess.run(
        [python, "-m", "fnreg", "train", "unit-prices", "--pr", "--base-url", "http://127.0.0.1:9/v1"],
        cwd=git_repo,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: --pr needs the GitHub CLI: install gh (https://cli.github.com) and run `gh auth login`"
    )
