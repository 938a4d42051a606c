"""3. Applying an action: ``Registry.apply`` vs a bare ``git add`` + ``git commit`` of the same files.

Two throw-away repositories, driven in lock step. Each round applies one optimizer action
(alternately ``add_function`` of a new function and ``revise_function`` of it) with fnreg —
validate, build the module with libcst, format with black, check the derived schema, commit
with trailers — then writes the very files fnreg wrote (the module and the toolset's
``__init__.py``) into the other repository and commits them with ``git add`` + ``git commit``
and the same message. ``Registry.prepare`` (validate + build + black, no write) is timed on
its own too.

    python -m bench.apply_action [--quick]
"""

from __future__ import annotations

import json
import subprocess
import time

from bench.common import Context, Row, Section, compare, git, init_repo, median, ms, p95, standalone, table
from fnreg.registry import Registry
from fnreg.registry.history import action_message
from fnreg.registry.actions import parse_action

TITLE = "Applying an action"
TOOLSET = "bench"
SCHEMA = {
    "value": {"type": "number", "description": "The quantity to convert."},
    "from_unit": {"type": "string", "description": "Unit of the value, e.g. mile, km, pound, kg."},
    "to_unit": {"type": "string", "description": "Unit to convert to."},
}


def action(round_: int) -> dict:
    """Round 2k adds ``convert_k``, round 2k+1 revises it."""
    name = f"convert_{round_ // 2}"
    code = (
        f"# revision {round_ % 2 + 1}\n"
        "to_base = {'mile': 1.609344, 'km': 1.0, 'pound': 1 / 0.45359237, 'kg': 1.0}\n"
        "source, target = from_unit.lower().rstrip('s'), to_unit.lower().rstrip('s')\n"
        "if source not in to_base or target not in to_base:\n"
        f"    raise ValueError(f'cannot convert {{from_unit}} to {{to_unit}} ({round_})')\n"
        "return value * to_base[source] / to_base[target]\n"
    )
    return {
        "action": "revise_function" if round_ % 2 else "add_function",
        "name": name,
        "description": "Convert a quantity between units of length or mass.",
        "arguments": json.dumps(SCHEMA),
        "packages": "",
        "code": code,
        "reason": "Conversions guessed their factors; an exact function fixes them.",
    }


def bare_commit(repo, files: dict[str, str], message: str) -> float:
    """Write ``files`` and commit them with plain git; seconds for ``git add`` + ``git commit``."""
    for relative, text in files.items():
        path = repo / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    subprocess.run(["git", "add", "--", *files], cwd=repo, check=True, capture_output=True)
    subprocess.run(["git", "commit", "--quiet", "-F", "-"], cwd=repo, input=message, text=True, check=True)
    return time.perf_counter() - started


def run(ctx: Context) -> Section:
    rounds = ctx.pick(60, 6)
    ctx.log(f"apply action: {rounds} rounds")
    repos = []
    for name in ("fnreg", "bare"):
        repo = init_repo(ctx.scratch(f"apply-{name}"))
        (repo / "README.md").write_text("benchmark\n")
        git(repo, "add", "README.md")
        git(repo, "commit", "--quiet", "-m", "start")
        repos.append(repo)
    fnreg_repo, bare_repo = repos
    registry = Registry(fnreg_repo)
    applied_s, prepare_s, bare_s = [], [], []
    for round_ in range(rounds + 2):  # the first two rounds (imports, first commit of the package) are warm-up
        raw = action(round_)
        started = time.perf_counter()
        registry.prepare(raw, toolset=TOOLSET)
        prepared = time.perf_counter() - started
        started = time.perf_counter()
        applied = registry.apply(raw, toolset=TOOLSET, run="bench", epoch=1)
        applied_seconds = time.perf_counter() - started
        base = f"registry/{TOOLSET}"
        files = {p: (fnreg_repo / p).read_text() for p in (applied.path, f"{base}/__init__.py", "registry/__init__.py")}
        message = action_message(parse_action(raw), TOOLSET, run="bench", epoch=1)
        bare_seconds = bare_commit(bare_repo, files, message)
        if round_ >= 2:
            applied_s.append(applied_seconds)
            prepare_s.append(prepared)
            bare_s.append(bare_seconds)
    assert git(fnreg_repo, "ls-tree", "-r", "HEAD") == git(bare_repo, "ls-tree", "-r", "HEAD"), "trees differ"

    overhead = median(applied_s) / median(bare_s)
    git_part = [applied - prepared for applied, prepared in zip(applied_s, prepare_s)]
    section = Section(TITLE)
    section.rows = [
        Row(
            "apply one action (validate + build + black + commit), median",
            ms(median(applied_s), 1),
            f"{ms(median(bare_s), 1)} (git add + git commit)",
            compare(median(applied_s), median(bare_s), 2),
            "≤ 1.5× bare git",
            overhead <= 1.5,
        ),
        Row(
            "apply one action, p95",
            ms(p95(applied_s), 1),
            f"{ms(p95(bare_s), 1)} (git add + git commit)",
            compare(p95(applied_s), p95(bare_s)),
        ),
    ]
    section.details = "\n\n".join(
        [
            table(
                ["step", "median", "p95", "rounds"],
                [
                    ("`Registry.apply` (all of it)", ms(median(applied_s), 2), ms(p95(applied_s), 2), len(applied_s)),
                    (
                        "… of which validate + build + black (`Registry.prepare` alone)",
                        ms(median(prepare_s), 2),
                        ms(p95(prepare_s), 2),
                        len(prepare_s),
                    ),
                    (
                        "… the rest: HEAD, add (new files) + commit, writing files (per-round apply − prepare)",
                        ms(median(git_part), 2),
                        ms(p95(git_part), 2),
                        len(git_part),
                    ),
                    (
                        "bare `git add` + `git commit`, same files and message",
                        ms(median(bare_s), 2),
                        ms(p95(bare_s), 2),
                        len(bare_s),
                    ),
                ],
            ),
            "Rounds alternate `add_function convert_k` and `revise_function convert_k` (a 6-line body, a "
            "3-parameter schema); the toolset grows to "
            f"{(rounds + 2) // 2} functions. Both repositories end with identical trees (checked). The bare "
            "side's file writes are not timed; fnreg's are.",
        ]
    )
    return section


if __name__ == "__main__":
    standalone(TITLE, run)
