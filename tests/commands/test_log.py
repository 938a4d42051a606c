"""``fnreg log``: one line per commit like ``git log --oneline``, 80 columns in a pipe; ``--json`` as before."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from fnreg.llm import LLMSettings
from fnreg.testing.scripted_model import scripted_policy
from fnreg.testing.server import ChatServer
from fnreg.training import RunOptions, TrainConfig, prepare_run
from tests.conftest import git

LINE = re.compile(r"^[0-9a-f]{7} (action|epoch|test|rollback|other) +(e\d+)? +(\d+\.\d%)? +(\S.*)?$")


def _train(repo: Path, server: ChatServer, run: str, epochs: int) -> None:
    settings = LLMSettings(base_url=server.base_url, model="fnreg-scripted")
    trainer = prepare_run(
        repo,
        "demo",
        TrainConfig(epochs=epochs, patience=2, test=True),
        llm=settings,
        options=RunOptions(max_actions=3),
        run=run,
    )
    for _ in trainer.run():
        pass


def test_log_is_one_line_per_commit_in_80_columns(user_repo: Path) -> None:
    with ChatServer(policy=scripted_policy) as server:
        _train(user_repo, server, "first", 4)
        _train(user_repo, server, "second", 1)
    shown = subprocess.run([sys.executable, "-m", "fnreg", "log"], cwd=user_repo, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    commits = [line for line in lines if not line.startswith("run ")]
    branches = "fnreg/demo/first fnreg/demo/second".split()
    every_commit = git(user_repo, "log", "--format=%H %s", *branches).splitlines()
    assert len(commits) == len(every_commit) - 2  # all but the user's own two commits
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert [line for line in lines if line.startswith("run ")] == [
        "run second (toolset demo)",
        "run first (toolset demo)",
    ]
    assert all(LINE.match(line) for line in commits), [line for line in commits if not LINE.match(line)]
    best = [line for line in commits if ", best" in line]
    assert len(best) == 2 and all(" epoch " in line for line in best)  # each run's best-tagged epoch
    rollback = next(line for line in commits if " rollback " in line)
    assert rollback.endswith(("= …", "=…", "<…"))  # the subject is cut after a word, not inside a number
    assert any(re.search(r" epoch +e0 +37\.5% baseline", line) for line in commits)
    assert any(re.search(r" action +e1 +add_function convert_units$", line) for line in commits)

    as_json = json.loads(
        subprocess.run([sys.executable, "-m", "fnreg", "log", "--json"], cwd=user_repo, capture_output=True).stdout
    )
    assert len(as_json) == len(commits)
    assert all(
        set(entry) == {"commit", "kind", "subject", "toolset", "run", "epoch", "score", "val_score", "tags", "trailers"}
        for entry in as_json
    )  # the keys as they were before this change to the human output (score and val_score: issue 15)


def test_json_for_a_long_history_is_the_library_log_whole(git_repo: Path) -> None:
    """Written while git walks the history, in batches: one valid array, every entry, in order."""
    from fnreg.registry import Registry
    from fnreg.registry.history import epoch_message

    stream = "".join(
        f"commit refs/heads/fnreg/demo/long\ncommitter a <a@b> {1_700_000_000 + i} +0000\n"
        f"data <<EOF\n{epoch_message('demo', 'long', i, score=i / 1000, tasks=4, best=False, decision='no_change')}EOF\n\n"
        for i in range(700)  # more than two of the command's batches
    )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=git_repo, input=stream.encode(), check=True)
    shown = subprocess.run(
        [sys.executable, "-m", "fnreg", "log", "--json", "--run", "long"], cwd=git_repo, capture_output=True
    )
    assert shown.returncode == 0, shown.stderr
    as_json = json.loads(shown.stdout)
    assert as_json == [json.loads(json.dumps(e.to_json())) for e in Registry(git_repo).log(run="long")]
    assert [entry["epoch"] for entry in as_json] == list(range(699, -1, -1))
    nothing = subprocess.run(
        [sys.executable, "-m", "fnreg", "log", "--json", "--run", "none"], cwd=git_repo, capture_output=True
    )
    assert nothing.returncode == 0 and json.loads(nothing.stdout) == []
