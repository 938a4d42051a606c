"""9. Command start-up: fnreg's quick commands, cold, against ``python -c "import click"``.

Every figure is a fresh interpreter (``python -m fnreg ...``), the way a user or a script runs
fnreg. Rounds interleave the baseline and every command, so load on the shared machine falls
on all of them alike; each figure is the median of its rounds. The repository is one fnreg
works in: ``fnreg init``'s ``[tool.fnreg]``, a toolset of 50 generated functions committed
one action at a time (so ``fnreg log`` has a history), and ``.fnreg/`` holding what an earlier
command kept there (the derived schemas). A last row shows the first read with nothing kept.

    python -m bench.cli_startup [--quick]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench.common import Context, Row, Section, git, init_repo, median, ms, ratio, run_timed, standalone, table
from bench.registry_scale import function_source
from fnreg.registry.actions import Action
from fnreg.registry.history import action_message
from fnreg.registry.init_module import PACKAGE_INIT, build_init

TITLE = "Command start-up"
FUNCTIONS = 50
FNREG = [sys.executable, "-m", "fnreg"]
BASELINE = [sys.executable, "-c", "import click"]


def toolset_repo(ctx: Context, functions: int) -> Path:
    """A repository as ``fnreg init`` leaves it, with ``functions`` functions added one commit each."""
    repo = init_repo(ctx.scratch("startup"))
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "tools"\nversion = "0"\n\n[tool.fnreg]\npackage = "registry"\n'
    )
    (repo / ".gitignore").write_text(".fnreg/\n__pycache__/\n")
    folder = repo / "registry" / "math"
    folder.mkdir(parents=True)
    (repo / "registry" / "__init__.py").write_text(PACKAGE_INIT)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "fnreg init")
    names: list[str] = []
    for i in range(functions):
        name = f"transform_{i:04d}"
        names.append(name)
        (folder / f"{name}.py").write_text(function_source(name, i))
        (folder / "__init__.py").write_text(build_init("math", names))
        git(repo, "add", "--all")
        action = Action("add_function", name, reason="The failed tasks needed it.")
        git(repo, "commit", "--quiet", "-F", "-", input=action_message(action, "math", run="r1", epoch=1 + i // 3))
    (repo / ".fnreg").mkdir()
    return repo


def run(ctx: Context) -> Section:
    rounds, functions = ctx.pick((15, FUNCTIONS), (1, 5))
    ctx.log(f"command start-up: {functions} functions, {rounds} interleaved rounds")
    repo = toolset_repo(ctx, functions)
    at = ["-C", str(repo)]
    commands = {
        "`fnreg --version`": ([*FNREG, "--version"], 2.0),
        f"`fnreg list --json` ({functions} functions)": ([*FNREG, *at, "list", "--json"], 4.0),
        f"`fnreg list` (the table, {functions} functions)": ([*FNREG, *at, "list"], 4.0),
        "`fnreg show NAME`": ([*FNREG, *at, "show", f"transform_{functions // 2:04d}", "--toolset", "math"], 4.0),
        "`fnreg tools`": ([*FNREG, *at, "tools", "--toolset", "math"], 4.0),
        f"`fnreg log --json` ({functions} commits)": ([*FNREG, *at, "log", "--json"], 4.0),
        f"`fnreg log` (the table, {functions} commits)": ([*FNREG, *at, "log"], 4.0),
    }
    run_timed(commands[f"`fnreg list --json` ({functions} functions)"][0])  # what an earlier command kept
    seconds: dict[str, list[float]] = {label: [] for label in ["baseline", *commands]}
    for _ in range(rounds):
        seconds["baseline"].append(run_timed(BASELINE)[0])
        for label, (command, _) in commands.items():
            seconds[label].append(run_timed(command)[0])
    first = []
    for _ in range(rounds):  # nothing kept: every schema is derived (libcst loads)
        shutil.rmtree(repo / ".fnreg")
        (repo / ".fnreg").mkdir()
        first.append(run_timed([*FNREG, *at, "list", "--json"])[0])
    floor = median(seconds["baseline"])
    section = Section(TITLE)
    for label, (_, target) in commands.items():
        value = median(seconds[label])
        section.rows.append(
            Row(
                f"{label}, cold",
                ms(value, 0),
                f'{ms(floor, 0)} (`python -c "import click"`)',
                ratio(value, floor, 2),
                f"≤ {target:g}× import click",
                value <= target * floor,
            )
        )
    section.rows.append(
        Row(
            f"`fnreg list --json` ({functions} functions), cold, nothing kept in .fnreg/ (every schema derived)",
            ms(median(first), 0),
            f'{ms(floor, 0)} (`python -c "import click"`)',
            ratio(median(first), floor, 2),
        )
    )
    section.details = "\n\n".join(
        [
            table(
                ["command", "median", "min", "max", "runs"],
                [
                    (label, ms(median(values), 1), ms(min(values), 1), ms(max(values), 1), len(values))
                    for label, values in [*seconds.items(), ("`fnreg list --json`, nothing kept", first)]
                ],
            ),
            f"Interpreter: `{sys.executable}`. Each command is `python -m fnreg ...` in a new process, "
            "stdout captured (a pipe, as in scripts: `show` writes the plain source, the tables are rich's). "
            "Rounds run the baseline, then each command once, in the same order.",
        ]
    )
    return section


if __name__ == "__main__":
    standalone(TITLE, run)
