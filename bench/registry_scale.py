"""5. Registry scale: 1,000 functions, 10,000 commits, a toolset read at an old ref.

- ``fnreg list --json`` on a toolset of 1,000 generated function modules (varied annotations:
  ``Annotated``, ``Literal``, defaults, ``list[...]``, ``dict[str, ...]``, optional), cold in a
  fresh process, from the working tree and from git objects (``--ref HEAD``); baseline: the same
  command on a one-function toolset, and ``fnreg --version`` (interpreter + imports).
- ``fnreg log --json`` over a run branch of 10,000 commits (actions, epoch commits, roll-backs,
  with fnreg's trailers, written with ``git fast-import``); baseline: ``git log`` printing the
  same fields.
- ``fnreg list --ref <old>`` on that history: the toolset at its first epoch vs at the tip.

Every CLI figure is the median of several cold runs (``python -m fnreg``: a new interpreter).

    python -m bench.registry_scale [--quick]
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import black

from bench.common import Context, Row, Section, compare, git, init_repo, median, run_timed, secs, standalone, table
from fnreg.registry.history import (
    ACTION,
    EPOCH,
    FUNCTION,
    RUN,
    TOOLSET,
    epoch_message,
    format_message,
    rollback_message,
)
from fnreg.registry.init_module import PACKAGE_INIT, build_init

TITLE = "Registry scale"
FNREG = [sys.executable, "-m", "fnreg"]
# The history's __init__.py files are fnreg's, minus black's pass over the long `__all__` line
# (nothing here reads them; black would make building 10,000 commits take a minute).
NO_WRAP = black.Mode(line_length=10**6)
# The same fields Git.log asks for: sha, parents, time, subject, body, trailers.
GIT_LOG_FORMAT = (
    "--format=%H%x1f%P%x1f%ct%x1f%s%x1f%b%x1f%(trailers:only,unfold,separator=%x1d,key_value_separator=%x1c)%x1e"
)


def function_source(name: str, i: int) -> str:
    """A realistic function module; the signature varies with ``i``."""
    params = ['value: Annotated[float, "The quantity to work on."]']
    if i % 2:
        params.append('factor: Annotated[int, "How many times."] = 2')
    if i % 3 == 0:
        params.append('mode: Literal["exact", "rounded", "scientific"] = "exact"')
    if i % 4 == 1:
        params.append("tags: list[str] | None = None")
    if i % 5 == 2:
        params.append('weights: Annotated[dict[str, float], "Weight per unit."] = {}')
    if i % 7 == 3:
        params.append("precision: Optional[int] = None")
    signature = ",\n    ".join(params)
    doc = f"Transform a quantity, variant {i}: scale it, round it and report it with its unit."
    return (
        f'"""{doc}"""\n\n'
        "import math\nfrom typing import Annotated, Literal, Optional\n\n"
        f'__requires__ = {["sympy"] if i % 6 == 0 else []!r}\n\n\n'
        f"def {name}(\n    {signature},\n) -> str:\n"
        f'    """{doc}\n\n    Returns the result as text.\n    """\n'
        f"    result = value * {i % 9 + 1}\n"
        "    if result < 0:\n        raise ValueError(f'negative result: {result}')\n"
        "    return str(round(math.sqrt(result), 6))\n"
    )


# ---------------------------------------------------------------------------- 1,000 functions


def big_toolset_repo(ctx: Context, functions: int) -> Path:
    repo = init_repo(ctx.scratch("scale-list"))
    for toolset, count in (("big", functions), ("small", 1)):
        folder = repo / "registry" / toolset
        folder.mkdir(parents=True)
        names = [f"transform_{i:04d}" for i in range(count)]
        for i, name in enumerate(names):
            (folder / f"{name}.py").write_text(function_source(name, i))
        (folder / "__init__.py").write_text(build_init(toolset, names))
    (repo / "registry" / "__init__.py").write_text(PACKAGE_INIT)
    (repo / ".gitignore").write_text(".fnreg/\n")
    (repo / ".fnreg").mkdir()
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "toolsets")
    return repo


def cold(command: list[str], repeats: int) -> tuple[float, str]:
    """Median wall seconds of ``repeats`` fresh-process runs, and the last stdout."""
    runs = [run_timed(command) for _ in range(repeats)]
    return median([seconds for seconds, _ in runs]), runs[-1][1]


def paired(first: list[str], second: list[str], repeats: int) -> tuple[float, float, str, str]:
    """Median cold seconds of two commands run alternately (so drift in machine load hits both)."""
    a, b = [], []
    for _ in range(repeats):
        a.append(run_timed(first))
        b.append(run_timed(second))
    return median([t for t, _ in a]), median([t for t, _ in b]), a[-1][1], b[-1][1]


# ---------------------------------------------------------------------------- 10,000 commits


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def history_stream(commits: int, toolset: str, run: str, start: int) -> tuple[str, str]:
    """A fast-import stream of a plausible run branch: actions, epoch commits, roll-backs.

    Returns (the stream, the mark of the first epoch commit). Seeded: the same every run.
    """
    rng = random.Random(10_000)
    base = f"registry/{toolset}"
    live: dict[str, str] = {}
    parts: list[str] = []
    mark, epoch, first_epoch = 0, 0, ""
    clock = start

    def commit(message: str, changes: dict[str, str | None]) -> None:
        nonlocal mark, clock
        mark += 1
        clock += 7
        lines = [
            f"commit refs/heads/fnreg/{toolset}/{run}",
            f"mark :{mark}",
            f"committer fnreg <fnreg@localhost> {clock} +0000",
        ]
        parts.append("\n".join(lines) + "\n" + _data(message) + ("from refs/heads/main^0\n" if mark == 1 else ""))
        for path, text in changes.items():
            parts.append(f"D {path}\n" if text is None else f"M 100644 inline {path}\n{_data(text)}")
        parts.append("\n")

    def trailers(*extra: tuple[str, object]) -> list[tuple[str, object]]:
        return [(RUN, run), (TOOLSET, toolset), (EPOCH, epoch), *extra]

    # A start like a run that already learned 30 functions, then epochs until the count is reached.
    initial = {f"fn_{i:04d}": function_source(f"fn_{i:04d}", i) for i in range(30)}
    live.update(initial)
    changes: dict[str, str | None] = {f"{base}/{n}.py": s for n, s in initial.items()}
    changes[f"{base}/__init__.py"] = build_init(toolset, list(live), mode=NO_WRAP)
    changes["registry/__init__.py"] = PACKAGE_INIT
    commit(format_message("add 30 functions", None, trailers()), changes)
    best, serial = 0.3, 30
    while mark < commits:
        epoch += 1
        before = dict(live)
        actions = []
        for _ in range(rng.randint(1, 3)):
            if mark + 2 >= commits:
                break
            kind = rng.choice(["add_function", "revise_function", "revise_function", "remove_function"])
            if kind != "add_function" and not live:
                kind = "add_function"
            if kind == "add_function":
                serial += 1
                name = f"fn_{serial:04d}"
            else:
                name = rng.choice(sorted(live))
            if kind == "remove_function":
                del live[name]
                text = None
            else:
                live[name] = function_source(name, serial + epoch).replace("* ", f"* {epoch} * ", 1)
                text = live[name]
            message = format_message(
                f"{kind} {name}", "The failed tasks needed it.", trailers((ACTION, kind), (FUNCTION, name))
            )
            commit(
                message,
                {f"{base}/{name}.py": text, f"{base}/__init__.py": build_init(toolset, list(live), mode=NO_WRAP)},
            )
            actions.append(f":{mark}")
        score = round(rng.uniform(0.2, 0.9), 3) if actions else best
        improved = score > best
        decision = "improved" if improved else "rolled_back" if actions else "no_change"
        commit(epoch_message(toolset, run, epoch, score=score, tasks=100, best=improved, decision=decision), {})
        first_epoch = first_epoch or f":{mark}"
        if improved:
            best = score
        elif actions and mark < commits:
            restore: dict[str, str | None] = {
                f"{base}/{n}.py": before.get(n) for n in set(before) | set(live) if before.get(n) != live.get(n)
            }
            restore[f"{base}/__init__.py"] = build_init(toolset, list(before), mode=NO_WRAP)
            live = before
            # The real trailers name the reverted commits' shas; marks stand in (fast-import has no shas yet).
            commit(rollback_message(toolset, run, epoch, score=score, best_score=best, reverted=actions), restore)
    return "".join(parts), first_epoch


def long_history_repo(ctx: Context, commits: int) -> tuple[Path, str, str]:
    """(repository, branch, sha of the first epoch commit) with ``commits`` commits on the run branch."""
    repo = init_repo(ctx.scratch("scale-log"))
    (repo / "README.md").write_text("a project\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "--quiet", "-m", "start")
    start = int(git(repo, "log", "-1", "--format=%ct"))
    stream, first_epoch = history_stream(commits, "scale", "r1", start)
    marks = repo / ".git" / "bench-marks"
    subprocess.run(
        ["git", "fast-import", "--quiet", f"--export-marks={marks}"], cwd=repo, input=stream, text=True, check=True
    )
    sha = dict(line.split() for line in marks.read_text().splitlines())[first_epoch]
    branch = "fnreg/scale/r1"
    git(repo, "tag", "--annotate", "-m", "best epoch", "fnreg/scale/r1/best", f"{branch}~3")
    return repo, branch, sha


# ---------------------------------------------------------------------------- the benchmark


def run(ctx: Context) -> Section:
    functions, commits, repeats = ctx.pick((1_000, 10_000, 5), (50, 300, 1))
    section = Section(TITLE)
    details = []

    ctx.log(f"registry scale: list a toolset of {functions} functions")
    repo = big_toolset_repo(ctx, functions)
    floor, _ = cold([*FNREG, "--version"], repeats)
    small, _ = cold([*FNREG, "-C", str(repo), "list", "--toolset", "small", "--json"], repeats)
    small_ref, _ = cold([*FNREG, "-C", str(repo), "list", "--toolset", "small", "--ref", "HEAD", "--json"], repeats)
    listing = {}
    for label, extra in (("working tree", []), ("git objects, `--ref HEAD`", ["--ref", "HEAD"])):
        command = [*FNREG, "-C", str(repo), "list", "--toolset", "big", *extra, "--json"]
        shutil.rmtree(repo / ".fnreg")
        (repo / ".fnreg").mkdir()
        first, out = run_timed(command)  # nothing derived before, in this process or on disk
        assert len(json.loads(out)["big"]) == functions, "not every generated function was listed"
        kept = any(path.is_file() for path in (repo / ".fnreg").rglob("*"))  # e.g. a schema cache
        later, _ = cold(command, repeats)
        listing[label] = (first, later)
    state = "what fnreg kept in .fnreg/ from the first run" if kept else "nothing kept on disk"
    for (label, (first, later)), one in zip(listing.items(), (small, small_ref)):
        section.rows += [
            Row(
                f"`fnreg list --json`, {functions:,} functions, {label}: first run (cold process, nothing cached)",
                secs(first),
                f"{secs(one)} (same, 1 function)",
                compare(first, one),
                "< 1 s",
                first < 1.0,
            ),
            Row(
                f"… the same, later runs (fresh process, {state}; median of {repeats})",
                secs(later),
                f"{secs(one)} (same, 1 function)",
                compare(later, one),
                "< 1 s",
                later < 1.0,
            ),
        ]
    details.append(
        f"Listing: a fresh `python -m fnreg` process per run; the repository has a `.fnreg/` folder, as one "
        f"fnreg has worked in does (fnreg may keep caches there), and the first run finds nothing cached. "
        f"`fnreg --version` (interpreter start + imports, no work): {secs(floor)}; the 1-function baselines are "
        f"medians of {repeats} runs. Deriving the schemas with nothing cached costs about "
        + ", ".join(
            f"{(first - one) / functions * 1e3:.2f} ms per function ({label})"
            for (label, (first, _)), one in zip(listing.items(), (small, small_ref))
        )
        + " over the 1-function run."
    )

    ctx.log(f"registry scale: build a run branch of {commits} commits")
    repo, branch, old = long_history_repo(ctx, commits)
    on_branch = int(git(repo, "rev-list", "--count", f"main..{branch}"))
    logged, bare, out, _ = paired(
        [*FNREG, "-C", str(repo), "log", "--json"],
        ["git", "-C", str(repo), "log", GIT_LOG_FORMAT, "HEAD", branch],
        repeats,
    )
    entries = json.loads(out)
    assert len(entries) == on_branch, f"fnreg log listed {len(entries)} of {on_branch} commits"
    listing = [*FNREG, "-C", str(repo), "list", "--toolset", "scale", "--json", "--ref"]
    at_old, at_tip, out_old, out_tip = paired([*listing, old], [*listing, branch], repeats)
    old_count, tip_count = len(json.loads(out_old)["scale"]), len(json.loads(out_tip)["scale"])
    depth = int(git(repo, "rev-list", "--count", f"{old}..{branch}"))
    section.rows += [
        Row(
            f"`fnreg log --json` over {on_branch:,} commits (cold process)",
            secs(logged),
            f"{secs(bare)} (`git log` of the same fields)",
            compare(logged, bare),
            "≤ 3× git log",
            logged <= 3 * bare,
        ),
        Row(
            f"toolset at an old ref ({depth:,} commits back, {old_count} functions), `fnreg list --ref` (cold)",
            secs(at_old),
            f"{secs(at_tip)} (at the branch tip, {tip_count} functions)",
            compare(at_old, at_tip, 2),
        ),
    ]
    kinds: dict[str, int] = {}
    for entry in entries:
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    details.append(
        table(
            ["history built with `git fast-import`", "value"],
            [
                ("commits on the run branch", f"{on_branch:,}"),
                *(
                    (f"… {kind} commits (as `fnreg log` classifies them)", f"{n:,}")
                    for kind, n in sorted(kinds.items())
                ),
                ("`fnreg log --json` (median, cold)", secs(logged, 3)),
                ("`git log` with the same format (median)", secs(bare, 3)),
                (f"`fnreg list --ref <first epoch>` ({old_count} functions)", secs(at_old, 3)),
                (f"`fnreg list --ref {branch}` ({tip_count} functions)", secs(at_tip, 3)),
            ],
            "lr",
        )
    )
    section.details = "\n\n".join(details)
    return section


if __name__ == "__main__":
    standalone(TITLE, run)
