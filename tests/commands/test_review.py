"""`fnreg review`: a reviewer's edit to a learned function, evaluated before it is merged."""

from __future__ import annotations

from pathlib import Path

import pytest

from fnreg.testing.server import ChatServer
from tests.commands.conftest import Project
from tests.conftest import git
from tests.training.conftest import fnreg


@pytest.fixture
def trained_main(project: Project, server: ChatServer) -> Path:
    """A clone whose main holds trained functions, merged from a run."""
    clone = project.clone("work")
    ran = fnreg(clone, "train", "demo", "--base-url", server.base_url, "--run-id", "r1", "--epochs", "2")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    git(clone, "merge", "-q", "--no-edit", "fnreg/demo/r1")
    return clone


def break_conversion(repo: Path) -> None:
    module = repo / "registry" / "demo" / "convert_units.py"
    module.write_text(module.read_text().replace("return value * factors[key]", "return value * factors[key] * 2"))


def review(repo: Path, server: ChatServer, *args: str):
    return fnreg(repo, "review", "demo", "--base-url", server.base_url, *args)


def test_a_hand_edit_that_breaks_a_function_is_reported_and_fails_the_gate(trained_main: Path, server: ChatServer):
    git(trained_main, "switch", "-q", "-c", "edit")
    break_conversion(trained_main)
    git(trained_main, "commit", "-qam", "convert_units: a reviewer's edit")
    result = review(trained_main, server, "--base", "main", "--head", "edit", "--fail-on-regression", "-o", "r.md")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "base 100.0% → head 33.3%" in result.stderr
    text = (trained_main / "r.md").read_text()
    assert "**Regression**: head answers 4 fewer tasks correctly." in text
    assert "### Tasks that flipped: 0 fixed, 4 broken" in text
    assert "| **broken** | `test-01` | Convert 10 miles to kilometres. | 16.09344 |" in text
    assert "### Functions changed (1): revised `convert_units`" in text and "factors[key] * 2" in text
    assert '`{"value": 10.0, "from_unit": "mile", "to_unit": "km"}` → `32.18688`' in text  # how it was called
    assert "| **change** | **-66.7 pts** |" in text


def test_an_uncommitted_edit_is_reviewed_against_head_and_an_unchanged_one_passes(
    trained_main: Path, server: ChatServer
):
    unchanged = review(trained_main, server, "--base", "HEAD", "--fail-on-regression")
    assert unchanged.returncode == 0, unchanged.stderr
    assert "No change in accuracy." in unchanged.stdout and "No function of toolset `demo` changed." in unchanged.stdout
    break_conversion(trained_main)  # not committed: the default head is the working tree
    edited = review(trained_main, server, "--base", "HEAD", "--fail-on-regression")
    assert edited.returncode == 1 and "head `working tree`" in edited.stdout


def test_comment_is_created_once_then_updated(trained_main: Path, server: ChatServer, project: Project, monkeypatch):
    monkeypatch.setenv("FAKE_GH_CURRENT_PR", "7")
    first = review(trained_main, server, "--base", "HEAD", "--comment")
    assert first.returncode == 0, first.stderr
    break_conversion(trained_main)
    second = review(trained_main, server, "--base", "HEAD", "--comment")
    assert second.returncode == 0, second.stderr
    comments = project.gh["comments"]
    assert len(comments) == 1 and comments[0]["pr"] == "7"
    assert "**Regression**" in comments[0]["body"] and "<!-- fnreg-review:demo -->" in comments[0]["body"]


def test_skip_unchanged_spends_nothing_when_neither_toolset_nor_task_set_changed(
    trained_main: Path, server: ChatServer
):
    (trained_main / "README.md").write_text("docs only\n")
    git(trained_main, "add", "README.md")
    git(trained_main, "commit", "-qm", "docs")
    before = len(server.requests)
    result = review(trained_main, server, "--base", "HEAD~1", "--head", "HEAD", "--skip-unchanged")
    assert result.returncode == 0 and "nothing to review" in result.stderr
    assert len(server.requests) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("demo", "--base", "no-such-ref"), "unknown ref 'no-such-ref'"),
        (("demo", "--base", "HEAD", "--head", "nope"), "unknown ref 'nope'"),
        (("nosuch", "--base", "HEAD"), "unknown task set 'nosuch'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_any_llm_call(
    project: Project, server: ChatServer, args: tuple[str, ...], message: str
):
    clone = project.clone("work")
    result = fnreg(clone, "review", *args, "--base-url", server.base_url)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert server.requests == []


def test_comment_without_gh_login_fails_before_any_llm_call(project: Project, server: ChatServer):
    import json

    clone = project.clone("work")
    project.gh_state.write_text(json.dumps({**project.gh, "logged_in": False}))
    result = fnreg(clone, "review", "demo", "--base", "HEAD", "--comment", "--base-url", server.base_url)
    assert result.returncode == 2 and "gh auth login" in result.stderr
    assert server.requests == []
