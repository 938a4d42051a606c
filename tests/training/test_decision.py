"""Keep or roll back: strict improvement keeps; a roll-back is one revert commit with the trainer's message."""

from __future__ import annotations

from pathlib import Path

from fnreg.registry import Git
from fnreg.training.decision import decide, roll_back
from tests.conftest import git


def test_only_strict_improvement_is_kept() -> None:
    assert decide(0.6, 0.5) == "improved"
    assert decide(0.5, 0.5) == "rolled_back"  # a tie keeps the old best, as the paper's pseudocode
    assert decide(0.4, 0.5) == "rolled_back"


def test_roll_back_reverts_the_actions_in_one_commit_naming_each(git_repo: Path) -> None:
    repo = Git(git_repo)
    shas = []
    for name in ("a", "b"):
        (git_repo / f"{name}.py").write_text(f"{name}\n")
        shas.append(repo.commit_paths([f"{name}.py"], f"add_function {name}\n", new=[f"{name}.py"]))
    commit = roll_back(repo, shas, toolset="math", run="r1", epoch=3, score=0.4, best_score=0.55)
    assert not (git_repo / "a.py").exists() and not (git_repo / "b.py").exists()
    assert git(git_repo, "log", "-1", "--format=%s", commit) == "roll back epoch 3: train 40.0% < best 55.0%"
    trailers = git(git_repo, "log", "-1", "--format=%(trailers:key=Fnreg-Rollback-Of,valueonly)", commit).split()
    assert trailers == list(reversed(shas))  # newest first, as git revert took them


def test_the_ag2_layer_names_its_roll_back_its_own_way(git_repo: Path) -> None:
    repo = Git(git_repo)
    (git_repo / "a.py").write_text("a\n")
    sha = repo.commit_paths(["a.py"], "add_function a\n", new=["a.py"])
    commit = roll_back(
        repo,
        [sha],
        toolset="agent",
        run=None,
        epoch=1,
        score=0.25,
        best_score=0.5,
        unit="step",
        split="",
        relation="<=",
    )
    assert git(git_repo, "log", "-1", "--format=%s", commit) == "roll back step 1: 25.0% <= best 50.0%"
    assert "Fnreg-Run" not in git(git_repo, "log", "-1", "--format=%B", commit)
