"""`fnreg init --workflows`: CI workflows for the user's own repository that validate and do what they say."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from fnreg import __version__
from tests.commands.conftest import Project
from tests.conftest import git
from tests.training.conftest import fnreg


def validate(*paths: Path) -> subprocess.CompletedProcess:
    checker = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, paths)], capture_output=True, text=True
    )


def load(path: Path) -> dict:
    return YAML(typ="safe").load(io.StringIO(path.read_text()))


def run_blocks(workflow: dict) -> list[str]:
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def test_init_writes_valid_train_and_review_workflows(project: Project):
    repo = project.clone("work")
    result = fnreg(repo, "init", "--workflows")
    assert result.returncode == 0, result.stderr
    folder = repo / ".github" / "workflows"
    train_file, review_file = folder / "fnreg-train.yml", folder / "fnreg-review.yml"
    checked = validate(train_file, review_file)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    train, review = load(train_file), load(review_file)
    text = train_file.read_text()
    # Training only on demand; a schedule is offered as a comment, never active.
    assert list(train["on"]) == ["workflow_dispatch"]
    assert re.search(r"^  # schedule:", text, re.M)
    steps = train["jobs"]["train"]["steps"]
    install = next(s["run"] for s in steps if "pip install" in s.get("run", ""))
    assert f"fnreg=={__version__}" in install and "pip install -e ." in install and "fnreg requirements" in install
    uses = [s.get("uses", "") for s in steps]
    assert "actions/cache/restore@v4" in uses and "actions/cache/save@v4" in uses
    assert all(s["with"]["path"] == ".fnreg/cache.sqlite" for s in steps if "actions/cache" in s.get("uses", ""))
    training = next(s["run"] for s in steps if 'fnreg "${args[@]}"' in s.get("run", ""))
    assert "--push --pr" in training and '--resume "$RUN_ID"' in training
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert not upload["with"]["path"].startswith(".")  # upload-artifact silently skips hidden paths
    assert "FNREG_PR_TOKEN" in train["jobs"]["train"]["env"]["GH_TOKEN"]

    assert review["on"]["pull_request"]["paths"] == ["registry/**", "tasks/**"]
    assert review["jobs"]["review"]["strategy"]["matrix"]["task"] == ["demo"]
    (command,) = [r for r in run_blocks(review) if "fnreg review" in r]
    assert "--comment" in command and "--fail-on-regression" in command and "--skip-unchanged" in command
    for workflow in (train, review):  # inputs reach scripts through the environment, never expanded into them
        assert all("${{" not in block for block in run_blocks(workflow))


def test_sharded_review_workflow_evaluates_in_a_matrix_and_merges(project: Project):
    repo = project.clone("work")
    assert fnreg(repo, "init", "--workflows", "--review-shards", "3").returncode == 0
    path = repo / ".github" / "workflows" / "fnreg-review.yml"
    assert validate(path).returncode == 0
    review = load(path)
    matrix = review["jobs"]["evaluate"]["strategy"]["matrix"]
    assert matrix["shard"] == [1, 2, 3] and matrix["side"] == ["base", "head"]
    scripts = "\n".join(run_blocks(review))
    assert '--shard "$SHARD/3"' in scripts and "fnreg eval-merge eval-base-*.json" in scripts
    assert "--base-results base.json" in scripts and review["jobs"]["review"]["needs"] == "evaluate"


def test_existing_workflows_are_kept_unless_forced(project: Project):
    repo = project.clone("work")
    target = repo / ".github" / "workflows" / "fnreg-train.yml"
    target.parent.mkdir(parents=True)
    target.write_text("# mine\n")
    kept = fnreg(repo, "init", "--workflows")
    assert "kept .github/workflows/fnreg-train.yml" in kept.stdout and target.read_text() == "# mine\n"
    assert fnreg(repo, "init", "--workflows", "--force").returncode == 0
    assert "fnreg-train" in target.read_text()


def test_workflows_need_a_task_set(git_repo: Path):
    result = fnreg(git_repo, "init", "--workflows")
    assert result.returncode == 2 and "no task set under tasks/" in result.stderr


def test_init_ignores_build_output(git_repo: Path):
    assert fnreg(git_repo, "init").returncode == 0
    ignored = (git_repo / ".gitignore").read_text().splitlines()
    for entry in (".fnreg/", "__pycache__/", "build/", "dist/", "*.egg-info/"):
        assert entry in ignored


@pytest.mark.parametrize("shards", ["0", "65"])
def test_review_shards_are_bounded(git_repo: Path, shards: str):
    result = fnreg(git_repo, "init", "--workflows", "--review-shards", shards)
    assert result.returncode == 2
    assert git(git_repo, "status", "--porcelain") == ""
