"""Opening a pull request for a finished run with the GitHub CLI (``gh``).

The same steps as ``.github/workflows/train.yml``: push the run branch, its best tag and the
fnreg notes, then ``gh pr create`` with the report as the body.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from fnreg.errors import FnregError
from fnreg.registry import Git
from fnreg.registry.git import NOTES_REF


def check_gh() -> None:
    """Fail before training, not after, when ``gh`` cannot open a pull request."""
    if shutil.which("gh") is None:
        raise FnregError("--pr needs the GitHub CLI: install gh (https://cli.github.com) and run `gh auth login`")
    status = subprocess.run(["gh", "auth", "status"], capture_output=True, text=True)
    if status.returncode != 0:
        raise FnregError("--pr needs an authenticated GitHub CLI: run `gh auth login` first")


def open_pull_request(
    git: Git, *, branch: str, tag: str, base: str, title: str, body: Path, remote: str = "origin"
) -> str:
    """Push the run and open the pull request; returns its URL."""
    git.run("push", remote, f"refs/heads/{branch}:refs/heads/{branch}", f"refs/tags/{tag}:refs/tags/{tag}")
    git.run("push", remote, f"refs/notes/{NOTES_REF}:refs/notes/{NOTES_REF}")
    created = subprocess.run(
        ["gh", "pr", "create", "--head", branch, "--base", base, "--title", title, "--body-file", str(body)],
        cwd=git.root,
        capture_output=True,
        text=True,
    )
    if created.returncode != 0:
        raise FnregError(f"gh pr create failed: {(created.stderr.strip().splitlines() or ['unknown error'])[-1]}")
    return created.stdout.strip()
