"""The offline demo's data (a task set written for fnreg, shipped inside the package) and its repository."""

from __future__ import annotations

import shutil
from pathlib import Path

from fnreg.registry import Git
from fnreg.registry.history import format_message

DEMO_TASK = Path(__file__).parent / "demo_task"


def prepare_demo_repo(path: Path) -> Path:
    """A git repository holding the demo task set (created, or reused from an earlier demo)."""
    path.mkdir(parents=True, exist_ok=True)
    git = Git(path) if (path / ".git").exists() else Git.init(path, initial_branch="main")
    target = path / "tasks" / "demo"
    if not target.exists():
        shutil.copytree(DEMO_TASK, target)
        (path / ".gitignore").write_text(".fnreg/\n__pycache__/\n", encoding="utf-8")
        (path / "README.md").write_text(DEMO_README, encoding="utf-8")
        git.run("add", "--all")
        git.run("commit", "--quiet", "-F", "-", input=format_message("fnreg demo: task set", None))
    return git.root


DEMO_README = """# fnreg demo repository

Made by `fnreg demo`. The model in this demo is **scripted** (a deterministic policy behind a
loopback chat-completions server), not a language model: the accuracies in its history show
that the training machinery works, not what any LLM achieves.

    fnreg log                       # the training history, read from git
    fnreg list --ref <best tag>     # the learned functions
    fnreg diff HEAD <best tag>      # what training changed
"""
