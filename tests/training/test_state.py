"""A run's state is recomputed from its branch's commits and trailers, whatever point it stopped at."""

from __future__ import annotations

from pathlib import Path

from fnreg.registry import Git
from fnreg.registry import history
from fnreg.registry.history import ACTION, EPOCH, FUNCTION, RUN, epoch_message, format_message
from fnreg.training.decision import roll_back
from fnreg.registry.history import BEST_SCORE, SPLIT
from fnreg.training.state import load_state
from tests.conftest import git

TOOLSET, RUN_ID = "math", "r1"
TOOLSET_KEY = history.TOOLSET


class Branch:
    """Writes a run branch the way the trainer does, one commit at a time."""

    def __init__(self, repo: Path) -> None:
        git(repo, "checkout", "-q", "-b", f"fnreg/{TOOLSET}/{RUN_ID}")
        self.repo, self.git = repo, Git(repo)
        self.git.commit_empty(
            format_message("create the registry package", None, [(RUN, RUN_ID), (TOOLSET_KEY, TOOLSET)])
        )

    def action(self, epoch: int, name: str) -> str:
        (self.repo / f"{name}.py").write_text(f"# {name} {epoch}\n")
        trailers = [(RUN, RUN_ID), (TOOLSET_KEY, TOOLSET), (EPOCH, epoch), (ACTION, "add_function"), (FUNCTION, name)]
        return self.git.commit_paths([f"{name}.py"], format_message(f"add_function {name}", None, trailers))

    def epoch(self, epoch: int, score: float, best_score: float, decision: str) -> str:
        best = decision in ("baseline", "improved")
        message = epoch_message(
            TOOLSET, RUN_ID, epoch, score=score, tasks=4, best=best, decision=decision, extra=[(BEST_SCORE, best_score)]
        )
        return self.git.commit_empty(message)

    def state(self):
        return load_state(self.git, f"fnreg/{TOOLSET}/{RUN_ID}", RUN_ID)


def test_a_new_branch_has_no_epochs(git_repo: Path) -> None:
    state = Branch(git_repo).state()
    assert state.epochs == [] and state.next_epoch == 0 and state.best is None and state.pending == []
    assert state.start == git(git_repo, "rev-parse", "main")


def test_epochs_best_failures_and_patience(git_repo: Path) -> None:
    branch = Branch(git_repo)
    branch.epoch(0, 0.25, 0.25, "baseline")
    a = branch.action(1, "f1")
    branch.epoch(1, 0.5, 0.25, "improved")
    b = branch.action(2, "f2")
    branch.epoch(2, 0.25, 0.5, "rolled_back")
    roll_back(branch.git, [b], toolset=TOOLSET, run=RUN_ID, epoch=2, score=0.25, best_score=0.5)
    branch.epoch(3, 0.5, 0.5, "no_change")
    state = branch.state()
    assert [e.epoch for e in state.epochs] == [0, 1, 2, 3] and state.next_epoch == 4
    assert state.best is not None and state.best.epoch == 1 and state.best.actions == [a]
    assert [e.epoch for e in state.failures] == [2] and state.patience_used == 2
    assert state.epochs[2].rollback is not None and state.needs_rollback is None


def test_a_step_never_evaluated_is_pending(git_repo: Path) -> None:
    branch = Branch(git_repo)
    branch.epoch(0, 0.25, 0.25, "baseline")
    first, second = branch.action(1, "f1"), branch.action(1, "f2")
    assert branch.state().pending == [first, second]


def test_a_decided_roll_back_not_yet_written_is_due(git_repo: Path) -> None:
    branch = Branch(git_repo)
    branch.epoch(0, 0.5, 0.5, "baseline")
    branch.action(1, "f1")
    branch.epoch(1, 0.25, 0.5, "rolled_back")
    state = branch.state()
    assert state.needs_rollback is state.epochs[-1] and state.epochs[-1].best_score == 0.5


def test_the_test_evaluation_is_recorded(git_repo: Path) -> None:
    branch = Branch(git_repo)
    branch.epoch(0, 0.5, 0.5, "baseline")
    trailers = [(RUN, RUN_ID), (TOOLSET_KEY, TOOLSET), (EPOCH, 0), (SPLIT, "test"), ("Fnreg-Score", "0.750000")]
    branch.git.commit_empty(format_message("test: 75.0% with epoch 0's functions", None, trailers))
    state = branch.state()
    assert state.test is not None and state.test.trailer("Fnreg-Score") == "0.750000" and len(state.epochs) == 1
