"""``fnreg init``: make a git repository ready to hold learned toolsets."""

from __future__ import annotations

import re
from pathlib import Path

import click

from fnreg.commands.common import console
from fnreg.config import read_pyproject
from fnreg.errors import InputError
from fnreg.registry import Git
from fnreg.registry.config import DEFAULT_PACKAGE, package_name
from fnreg.registry.init_module import PACKAGE_INIT
from fnreg.version import fnreg_version
from fnreg.workflows import render_workflows

GITIGNORE_LINE = ".fnreg/"
#: fnreg's state, bytecode, and the build output of `pip install .` / `fnreg package`.
IGNORED = (GITIGNORE_LINE, "__pycache__/", "build/", "dist/", "*.egg-info/")


def init_repository(path: Path) -> list[str]:
    """Create what fnreg needs in the repository at ``path``; returns what was done. Idempotent."""
    root = Git(path).root
    done: list[str] = []
    package = DEFAULT_PACKAGE
    done += _ensure_pyproject(root, package)
    package_init = root / package / "__init__.py"
    if not package_init.exists():
        package_init.parent.mkdir(parents=True, exist_ok=True)
        package_init.write_text(PACKAGE_INIT, encoding="utf-8")
        done.append(f"created {package}/__init__.py")
    tasks = root / "tasks"
    if not tasks.exists():
        tasks.mkdir()
        (tasks / ".gitkeep").write_text("")
        done.append("created tasks/")
    done += _ensure_gitignore(root)
    return done


def _ensure_gitignore(root: Path) -> list[str]:
    path = root / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = {line.strip() for line in text.splitlines()}
    missing = [entry for entry in IGNORED if entry not in lines and entry.rstrip("/") not in lines]
    if not missing:
        return []
    prefix = "" if not text or text.endswith("\n") else "\n"
    path.write_text(
        text + prefix + "# fnreg: run worktrees, caches, locks; build output\n" + "\n".join(missing) + "\n",
        encoding="utf-8",
    )
    return [f"added {', '.join(missing)} to .gitignore"]


def _ensure_pyproject(root: Path, package: str) -> list[str]:
    path = root / "pyproject.toml"
    if not path.exists():
        name = re.sub(r"[^A-Za-z0-9]+", "-", root.name).strip("-").lower() or "project"
        path.write_text(_NEW_PYPROJECT.format(name=name, package=package), encoding="utf-8")
        return [f"created pyproject.toml (installs `{package}` with `pip install -e .`)"]
    data = read_pyproject(root)
    if "fnreg" in data.get("tool", {}):
        return []
    text = path.read_text(encoding="utf-8")
    prefix = "" if text.endswith("\n") else "\n"
    path.write_text(text + prefix + f'\n[tool.fnreg]\npackage = "{package}"\n', encoding="utf-8")
    return [
        "added [tool.fnreg] to pyproject.toml",
        f"note: make your build include the `{package}` package so `pip install .` ships trained tools "
        f'(setuptools: [tool.setuptools.packages.find] include = ["{package}*", ...])',
    ]


_NEW_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}-tools"
version = "0.0.0"
description = "Functions learned by fnreg"
requires-python = ">=3.11"

[tool.setuptools.packages.find]
include = ["{package}*"]

[tool.fnreg]
package = "{package}"
"""


def write_workflows(
    path: Path, *, tasks: list[str] | None = None, review_shards: int = 1, force: bool = False
) -> list[str]:
    """Write ``.github/workflows/fnreg-{train,review}.yml``; existing ones are kept unless ``force``."""
    root = Git(path).root
    if not tasks:
        tasks = sorted(p.parent.name for p in (root / "tasks").glob("*/task.toml"))
    if not tasks:
        raise InputError("no task set under tasks/ to train and review; add one first, or name it with --task")
    folder = root / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    rendered = render_workflows(
        version=fnreg_version(), package=package_name(root), tasks=tasks, review_shards=review_shards
    )
    for workflow in rendered:
        target = folder / workflow.name
        if target.exists() and not force:
            done.append(f"kept .github/workflows/{workflow.name} (exists; --force replaces it)")
            continue
        target.write_text(workflow.text, encoding="utf-8")
        done.append(f"wrote .github/workflows/{workflow.name}")
    return done


@click.command("init")
@click.option("--workflows", is_flag=True, help="Also write GitHub workflows that train and review in CI.")
@click.option("--task", "tasks", multiple=True, help="With --workflows: task sets to use (default: all under tasks/).")
@click.option(
    "--review-shards",
    type=click.IntRange(min=1, max=64),
    default=1,
    show_default=True,
    help="With --workflows: split each review's evaluation over this many parallel jobs.",
)
@click.option("--force", is_flag=True, help="With --workflows: replace existing workflow files.")
@click.pass_context
def init_command(ctx: click.Context, workflows: bool, tasks: tuple[str, ...], review_shards: int, force: bool) -> None:
    """Prepare this git repository for fnreg (idempotent)."""
    path = Path(ctx.find_root().params.get("repo") or ".")
    done = init_repository(path)
    if workflows:
        done += write_workflows(path, tasks=list(tasks), review_shards=review_shards, force=force)
    for line in done:
        console.print(f"[green]✓[/] {line}")
    if not done:
        console.print("already initialised; nothing to do")
    if workflows:
        console.print("next: read the set-up notes at the top of .github/workflows/fnreg-train.yml")
