"""Dependencies inside ``fnreg`` point one way (DESIGN.md), lazy imports inside functions included.

cli (commands) → training → optimizer, agents, evaluation → llm, sandbox, registry; the ground
modules (errors, config, version, file_lock, tables, sqlite_db, safe_json) import no layer at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "fnreg"

LAYERS = (
    "registry",
    "sandbox",
    "llm",
    "agents",
    "evaluation",
    "optimizer",
    "training",
    "compat",
    "serve",
    "adapters",
    "commands",
)
GROUND = ("errors", "config", "version", "file_lock", "tables", "sqlite_db", "safe_json")

#: importer package → packages it must never import.
FORBIDDEN: dict[str, set[str]] = {
    "registry": {
        "llm",
        "agents",
        "optimizer",
        "training",
        "evaluation",
        "commands",
        "compat",
        "serve",
        "adapters",
        "sandbox",
    },
    "sandbox": {"llm", "agents", "optimizer", "training", "evaluation", "commands", "compat", "serve", "adapters"},
    "llm": {
        "sandbox",
        "agents",
        "optimizer",
        "training",
        "evaluation",
        "commands",
        "compat",
        "serve",
        "adapters",
        "registry",
    },
    "agents": {"optimizer", "training", "evaluation", "commands", "compat", "serve", "adapters"},
    "evaluation": {"optimizer", "training", "commands", "compat", "serve", "adapters"},
    "optimizer": {"training", "evaluation", "agents", "sandbox", "commands", "compat", "serve", "adapters"},
    "training": {"commands", "compat", "serve", "adapters"},
    "compat": {"commands", "serve", "adapters"},
    # Serving sits beside the CLI on the registry and the sandbox alone; the adapters on serving.
    "serve": {"llm", "agents", "optimizer", "training", "evaluation", "commands", "compat", "adapters"},
    "adapters": {"llm", "agents", "optimizer", "training", "evaluation", "commands", "compat"},
    "testing": {"commands"},
    **{ground: set(LAYERS) | {"testing"} for ground in GROUND},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str | None = None) -> list[tuple[int, str]]:
    """Every fnreg module ``path`` imports, at any depth (inside functions too), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return [(line, name) for line, name in found if name == "fnreg" or name.startswith("fnreg.")]


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _violations() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _layer(_module_name(path))
        forbidden = FORBIDDEN.get(importer or "", set())
        for line, imported in _imports(path):
            target = _layer(imported)
            if target in forbidden:
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {importer} imports {imported}")
            if target == "commands" and importer not in ("commands", "main"):
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: only the CLI imports {imported}")
    return problems


def test_layers_import_only_downwards() -> None:
    assert _violations() == []


def test_the_scan_sees_lazy_imports_inside_functions(tmp_path: Path) -> None:
    source = (
        "def f():\n    from fnreg.llm import LLMClient\n    from ..training import engine\n"
        "    import importlib\n    importlib.import_module('fnreg.commands.list')\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source)
    found = [name for _, name in _imports(path, "fnreg.registry.probe")]
    assert found == [
        "fnreg.llm",
        "fnreg.llm.LLMClient",
        "fnreg.training",
        "fnreg.training.engine",
        "fnreg.commands.list",
    ]
