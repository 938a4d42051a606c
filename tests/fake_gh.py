"""A stand-in for the GitHub CLI: records every call and keeps pull requests and comments in a JSON file.

No GitHub is reachable from the test machines, so ``gh`` is the one external program the
tests replace. It answers the calls fnreg makes the way gh does (exit status, stdout), and
``calls()`` lets a test see exactly what fnreg asked for. Install it with :func:`install`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

STATE_ENV = "FAKE_GH_STATE"
URL = "https://github.com/example/project"


def install(folder: Path, state: Path, *, logged_in: bool = True) -> Path:
    """Write an executable ``gh`` into ``folder`` (put it first on PATH) that keeps its state in ``state``."""
    folder.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"calls": [], "prs": [], "comments": [], "logged_in": logged_in}))
    executable = folder / "gh"
    executable.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
                          "import fake_gh\nsys.exit(fake_gh.main(sys.argv[1:]))\n")  # fmt: skip
    executable.chmod(0o755)
    return executable


def load(state: Path) -> dict:
    return json.loads(state.read_text())


def main(args: list[str]) -> int:
    path = Path(os.environ[STATE_ENV])
    state = load(path)
    state["calls"].append({"args": args, "cwd": os.getcwd()})
    try:
        code = _answer(state, args)
    finally:
        path.write_text(json.dumps(state))
    return code


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def _answer(state: dict, args: list[str]) -> int:
    command = args[:2]
    if command == ["auth", "status"]:
        if not state["logged_in"]:
            print("You are not logged into any GitHub hosts. To log in, run: gh auth login", file=sys.stderr)
            return 1
        return 0
    if command == ["pr", "list"]:
        head = _option(args, "--head")
        print("\n".join(pr["url"] for pr in state["prs"] if pr["head"] == head and pr["state"] == "open"))
        return 0
    if command == ["pr", "create"]:
        head = _option(args, "--head")
        if any(pr["head"] == head and pr["state"] == "open" for pr in state["prs"]):
            print(f"a pull request for branch {head!r} already exists", file=sys.stderr)
            return 1
        number = len(state["prs"]) + 1
        body = Path(_option(args, "--body-file") or "").read_text()
        pr = {"number": number, "url": f"{URL}/pull/{number}", "head": head, "base": _option(args, "--base"),
              "title": _option(args, "--title"), "body": body, "state": "open"}  # fmt: skip
        state["prs"].append(pr)
        print(pr["url"])
        return 0
    if command == ["pr", "edit"]:
        pr = next(pr for pr in state["prs"] if pr["url"] == args[2])
        pr["body"] = Path(_option(args, "--body-file") or "").read_text()
        print(pr["url"])
        return 0
    if command == ["pr", "view"]:
        number = os.environ.get("FAKE_GH_CURRENT_PR")
        if not number:
            print("no pull requests found for branch", file=sys.stderr)
            return 1
        print(number)
        return 0
    if command == ["pr", "comment"]:
        comment = {
            "id": 1000 + len(state["comments"]),
            "pr": args[2],
            "body": Path(_option(args, "--body-file") or "").read_text(),
        }
        comment["html_url"] = f"{URL}/pull/{args[2]}#issuecomment-{comment['id']}"
        state["comments"].append(comment)
        print(comment["html_url"])
        return 0
    if args[0] == "api":
        return _api(state, args[1:])
    print(f"fake gh: unsupported call {args}", file=sys.stderr)
    return 2


def _api(state: dict, args: list[str]) -> int:
    endpoint = next(a for a in args if a.startswith("repos/"))
    parts = endpoint.split("/")
    if _option(args, "--method") == "PATCH":
        comment = next(c for c in state["comments"] if str(c["id"]) == parts[-1])
        field = _option(args, "-F") or ""
        comment["body"] = Path(field.removeprefix("body=@")).read_text()
        print(comment["html_url"])
        return 0
    number = parts[-2]
    print(json.dumps([c for c in state["comments"] if c["pr"] == number]))
    return 0
