"""``fnreg init``: make a git repository ready to hold learned toolsets."""

from __future__ import annotations

import re
from pathlib import Path

import click

from fnreg.commands.common import console
from fnreg.config import default, read_pyproject
from fnreg.registry import Git
from fnreg.registry.config import RegistryConfig
from fnreg.registry.init_module import PACKAGE_INIT

GITIGNORE_LINE = ".fnreg/"


def init_repository(path: Path) -> list[str]:
    """Create what fnreg needs in the repository at ``path``; returns what was done. Idempotent."""
    root = Git(path).root
    done: list[str] = []
    package = default(RegistryConfig, "package")
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
    missing = [
        entry for entry in (GITIGNORE_LINE, "__pycache__/") if entry not in lines and entry.rstrip("/") not in lines
    ]
    if not missing:
        return []
    prefix = "" if not text or text.endswith("\n") else "\n"
    path.write_text(
        text + prefix + "# fnreg: run worktrees, caches, locks\n" + "\n".join(missing) + "\n", encoding="utf-8"
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


@click.command("init")
@click.pass_context
def init_command(ctx: click.Context) -> None:
    """Prepare this git repository for fnreg (idempotent)."""
    done = init_repository(Path(ctx.find_root().params.get("repo") or "."))
    for line in done:
        console.print(f"[green]✓[/] {line}")
    if not done:
        console.print("already initialised; nothing to do")
