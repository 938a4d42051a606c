"""The results file: a header naming the run, one summary table, then each benchmark's details."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bench.common import Section, fnreg_revision, git_version, machine, table


def _target(row) -> str:
    if not row.target:
        return ""
    return f"{row.target}: {'met' if row.met else '**missed**'}" if row.met is not None else row.target


def summary_table(sections: Sequence[Section]) -> str:
    rows = []
    for index, section in enumerate(sections, 1):
        number = section.number or index
        for letter, row in enumerate(section.rows):
            label = f"{number}{chr(ord('a') + letter)}" if len(section.rows) > 1 else str(number)
            rows.append((label, row.measured, row.fnreg, row.baseline, row.ratio, _target(row)))
        if section.error:
            rows.append((str(number), section.title, "**failed**", section.error.splitlines()[-1][:200], "", ""))
    return table(["#", "what is measured", "fnreg", "baseline (same run)", "ratio", "target"], rows, "llllll")


def render_section(section: Section, number: int | None = None) -> str:
    heading = f"## {number}. {section.title}" if number else f"## {section.title}"
    parts = [heading]
    if section.error:
        parts.append(f"**This benchmark failed:**\n\n```\n{section.error[-3000:]}\n```")
    if section.rows:
        parts.append(
            table(
                ["what is measured", "fnreg", "baseline", "ratio", "target"],
                [(r.measured, r.fnreg, r.baseline, r.ratio, _target(r)) for r in section.rows],
                "lllll",
            )
        )
    if section.details:
        parts.append(section.details)
    parts.append(f"_({section.seconds:.1f} s)_")
    return "\n\n".join(parts) + "\n"


def render_results(
    sections: Sequence[Section], *, command: str, quick: bool, total_seconds: float, load: str = ""
) -> str:
    if quick:  # tiny sizes: a target met or missed would mean nothing
        for section in sections:
            for row in section.rows:
                row.met = None
    missed = [f"{row.measured} ({row.target})" for section in sections for row in section.rows if row.met is False]
    failed = [section.title for section in sections if section.error]
    header = [
        "# fnreg benchmarks" + (" (quick smoke run: sizes are tiny, figures mean nothing)" if quick else ""),
        "",
        "Written by `python -m bench`; do not edit by hand. Every figure below was measured in one run, "
        "on one machine, fnreg and its baseline side by side.",
        "",
        f"- **command**: `{command}`",
        f"- **date**: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- **machine**: {machine()}; {git_version()}",
        f"- **code**: {fnreg_revision()} (its bytecode compiled before timing, as `pip install` does)",
        f"- **run time**: {total_seconds:.0f} s" + (f"; load average (1 min) {load}" if load else ""),
        "- **targets missed**: " + ("not judged in a quick run" if quick else "; ".join(missed) if missed else "none"),
    ]
    if failed:
        header.append(f"- **benchmarks that failed**: {', '.join(failed)}")
    parts = ["\n".join(header), "## Summary", summary_table(sections)]
    parts += [render_section(section, section.number or index) for index, section in enumerate(sections, 1)]
    return "\n\n".join(parts).rstrip("\n") + "\n"
