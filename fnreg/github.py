"""Pull requests and their comments through the GitHub CLI (``gh``).

Pushing is git's job (:mod:`fnreg.registry.remote`); this module only asks ``gh`` to open or
update a pull request for a pushed branch, and to keep one review comment up to date.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from fnreg.errors import FnregError, InputError


class GitHubError(FnregError):
    """``gh`` failed; what was pushed stays pushed."""


def check_gh(flag: str) -> None:
    """Fail before anything is spent when ``gh`` cannot act for ``flag`` (missing, or not logged in)."""
    if shutil.which("gh") is None:
        raise InputError(f"{flag} needs the GitHub CLI: install gh (https://cli.github.com) and run `gh auth login`")
    status = subprocess.run(["gh", "auth", "status"], capture_output=True, text=True)
    if status.returncode != 0:
        raise InputError(f"{flag} needs a logged-in GitHub CLI: run `gh auth login` (in CI: set GH_TOKEN)")


def open_pull_request(root: Path, *, branch: str, base: str, title: str, body: Path) -> tuple[str, bool]:
    """Open a pull request from the pushed ``branch``, or update the body of the open one.

    Returns its URL and whether it was created (a resumed run updates its pull request).
    """
    existing = _gh(root, "pr", "list", "--head", branch, "--state", "open", "--json", "url", "--jq", ".[].url")
    if existing:
        url = existing.splitlines()[0]
        _gh(root, "pr", "edit", url, "--body-file", str(body))
        return url, False
    url = _gh(root, "pr", "create", "--head", branch, "--base", base, "--title", title, "--body-file", str(body))
    return url.splitlines()[-1] if url else url, True


def current_pull_request(root: Path) -> str:
    """The number of the pull request this checkout belongs to (in Actions: the triggering one)."""
    event = os.environ.get("GITHUB_EVENT_PATH")
    if event and Path(event).is_file():
        try:
            number = json.loads(Path(event).read_text(encoding="utf-8")).get("pull_request", {}).get("number")
        except ValueError:
            number = None
        if number:
            return str(number)
    try:
        return _gh(root, "pr", "view", "--json", "number", "--jq", ".number")
    except GitHubError:
        raise InputError("no pull request for this checkout; pass --pr-number N") from None


def upsert_comment(root: Path, number: str, body: Path, marker: str) -> str:
    """Create the comment holding ``marker`` on pull request ``number``, or replace its text; returns its URL."""
    listing = _gh(root, "api", "--paginate", f"repos/{{owner}}/{{repo}}/issues/{number}/comments")
    comments = _json_list(listing)
    mine = [c for c in comments if marker in str(c.get("body", ""))]
    if mine:
        comment_id = mine[-1]["id"]
        updated = _gh(
            root, "api", "--method", "PATCH", f"repos/{{owner}}/{{repo}}/issues/comments/{comment_id}",
            "-F", f"body=@{body}", "--jq", ".html_url",
        )  # fmt: skip
        return updated
    return _gh(root, "pr", "comment", number, "--body-file", str(body))


def _json_list(text: str) -> list[dict]:
    """``gh api --paginate`` prints one JSON array per page."""
    items: list[dict] = []
    decoder = json.JSONDecoder()
    position = 0
    text = text.strip()
    while position < len(text):
        value, position = decoder.raw_decode(text, position)
        items += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict)]
        while position < len(text) and text[position].isspace():
            position += 1
    return items


def _gh(root: Path, *args: str) -> str:
    proc = subprocess.run(["gh", *args], cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()] or ["unknown error"]
        raise GitHubError(f"gh {args[0]} {args[1] if len(args) > 1 else ''} failed: {lines[-1]}".replace("  ", " "))
    return proc.stdout.strip()
