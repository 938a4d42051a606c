"""7. Sandbox escapes tried and contained: the escape corpus of ``tests/sandbox/escapes.py``.

Runs ``tests/sandbox/test_escapes.py`` with pytest (a subprocess, JUnit XML): every attempt of the
corpus as root and as an ordinary (unprivileged) user, in jail mode (each must be contained) and
in process mode (each must end as documented). A quick run tries a few of them.

    python -m bench.sandbox_escapes [--quick]
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter

from bench.common import REPO_ROOT, Context, Row, Section, standalone, table

TITLE = "Sandbox escapes tried and contained"
TEST_FILE = "tests/sandbox/test_escapes.py"
QUICK = "jail and root and (environ or proc-mem or bomb-fork or forge-reply)"
CASE = re.compile(r"test_escape_attempt\[(jail|process)-(root|user)-(.+)\]")


def run(ctx: Context) -> Section:
    sys.path.insert(0, str(REPO_ROOT))
    from tests.sandbox import escapes

    xml = ctx.tmp / "escapes-junit.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST_FILE, f"--junitxml={xml}"]
    if ctx.quick:
        command += ["-k", QUICK]
    ctx.log("sandbox escapes: " + " ".join(command[2:]))
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800)
    if not xml.exists():
        raise RuntimeError(
            f"pytest wrote no report (exit {proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-1000:]}"
        )
    outcomes: dict[tuple[str, str, str], str] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        match = CASE.match(case.get("name", ""))
        if not match:
            continue
        status = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                status = "failed"
            elif child.tag == "skipped":
                status = "skipped"
        outcomes[(match[1], match[2], match[3])] = status
    attempts = {a.id: a for a in escapes.ATTEMPTS}
    section = Section(TITLE)
    users = {"root": "as root", "user": "as an ordinary user"}
    per_run: dict[tuple[str, str], Counter] = {}
    for (mode, user, _), status in outcomes.items():
        per_run.setdefault((mode, user), Counter())[status] += 1
    for mode in ("jail", "process"):
        for user in ("root", "user"):
            counts = per_run.get((mode, user), Counter())
            tried = counts["passed"] + counts["failed"]
            if mode == "jail":
                measured = f"{counts['passed']}/{tried} contained" if tried else "not run (skipped)"
                target, met = "all contained", (counts["failed"] == 0 and tried > 0) if tried else None
                label = f"escape attempts in jail mode, {users[user]}"
            else:
                escaped = sum(
                    1
                    for (m, u, attempt), status in outcomes.items()
                    if (m, u) == (mode, user)
                    and status == "passed"
                    and escapes.expected(attempts[attempt], m, u) != "contained"
                )
                measured = (
                    f"{counts['passed']}/{tried} as documented ({tried - escaped - counts['failed']} contained, {escaped} get through as documented)"
                    if tried
                    else "not run (skipped)"
                )
                target, met = "the documented outcome", (counts["failed"] == 0 and tried > 0) if tried else None
                label = f"escape attempts in process mode, {users[user]}"
            section.rows.append(Row(label, measured, "— (test outcomes; no baseline)", "", target, met))
    categories = Counter(a.category for a in escapes.ATTEMPTS)
    verdict = {"passed": "as documented", "failed": "**NOT as documented**", "skipped": "skipped", None: "not run"}
    detail = []
    for attempt in escapes.ATTEMPTS:
        cells = [
            verdict[outcomes.get((mode, user, attempt.id))] for mode in ("jail", "process") for user in ("root", "user")
        ]
        detail.append(
            (
                attempt.category,
                attempt.what,
                *cells,
                escapes.expected(attempt, "process", "root").replace("escapes: ", "gets through: "),
                escapes.expected(attempt, "process", "user").replace("escapes: ", "gets through: "),
            )
        )
    section.details = "\n\n".join(
        [
            f"{len(escapes.ATTEMPTS)} attempts in {len(categories)} categories ("
            + ", ".join(f"{name} {count}" for name, count in sorted(categories.items()))
            + f"); from `pytest {TEST_FILE}` (exit {proc.returncode})"
            + ("; quick run: a few attempts only." if ctx.quick else "."),
            table(
                [
                    "category",
                    "what learned code tries",
                    "jail, root",
                    "jail, user",
                    "process, root",
                    "process, user",
                    "documented in process mode, root",
                    "… as a user",
                ],
                detail,
                "llllllll",
            ),
        ]
    )
    return section


if __name__ == "__main__":
    standalone(TITLE, run)
