"""7. Sandbox escapes tried and contained: the hazard tests of ``tests/sandbox/test_sandbox.py``.

Runs that test file with pytest (a subprocess, JUnit XML) and reads, for each escape attempt
below, whether its test passed (contained), failed (escaped) or was skipped (not tried here,
e.g. a root-only check run as an ordinary user). A quick run tries two of them.

    python -m bench.sandbox_escapes [--quick]
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

from bench.common import REPO_ROOT, Context, Row, Section, standalone, table

TITLE = "Sandbox escapes tried and contained"
TEST_FILE = "tests/sandbox/test_sandbox.py"
# test name -> what the learned code tries
ESCAPES = {
    "test_wall_clock_timeout_replaces_the_worker": "hang past the wall-clock limit",
    "test_processes_escaping_a_timed_out_worker_end_with_the_sandbox": "leave a child in a new session behind a killed worker",
    "test_cpu_limit_counts_per_call_and_stops_busy_loops": "busy-loop on the CPU",
    "test_memory_bomb_raises_memory_error": "allocate 64 GiB at once, then grow without bound",
    "test_fork_bomb_is_contained_and_cleaned_up": "fork bomb",
    "test_processes_started_by_a_task_end_with_its_session": "leave background processes for the next task",
    "test_crashes_replace_the_worker": "kill its worker (os._exit, segfault, closing the reply pipe)",
    "test_huge_output_is_truncated_with_a_marker": "flood the output (1 MB from Python, C and a child)",
    "test_printing_cannot_forge_a_reply": "forge a protocol reply on stdout",
    "test_secrets_never_reach_learned_code": "read API keys from its environment or fnreg's /proc/PID/environ",
    "test_writes_outside_the_working_directory_are_denied": "write to /etc, the checkout, other folders",
    "test_files_left_in_shared_temporary_directories_do_not_reach_the_next_task": "leave files in /tmp, /var/tmp, /dev/shm for the next task",
    "test_a_task_cannot_weaken_limits_for_the_next": "ignore SIGXCPU and close its output for the next task",
}
QUICK = ["test_fork_bomb_is_contained_and_cleaned_up", "test_secrets_never_reach_learned_code"]


def run(ctx: Context) -> Section:
    xml = ctx.tmp / "sandbox-junit.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST_FILE, f"--junitxml={xml}"]
    if ctx.quick:
        command += ["-k", " or ".join(QUICK)]
    ctx.log("sandbox escapes: " + " ".join(command[2:]))
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    if not xml.exists():
        raise RuntimeError(
            f"pytest wrote no report (exit {proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-1000:]}"
        )
    outcomes: dict[str, str] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        status = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                status = "failed"
            elif child.tag == "skipped":
                status = "skipped"
        outcomes[case.get("name", "")] = status
    wanted = QUICK if ctx.quick else list(ESCAPES)
    tried = [name for name in wanted if outcomes.get(name) in ("passed", "failed")]
    contained = [name for name in tried if outcomes[name] == "passed"]
    other = {name: status for name, status in outcomes.items() if name not in ESCAPES}
    section = Section(TITLE)
    section.rows = [
        Row(
            "escape attempts by learned code, contained",
            f"{len(contained)}/{len(tried)} contained",
            "— (test outcomes; no baseline)",
            "",
            "all contained",
            len(contained) == len(tried) and bool(tried),
        )
    ]
    verdict = {"passed": "contained", "failed": "**escaped**", "skipped": "not tried (skipped)", None: "not found"}
    section.details = "\n\n".join(
        [
            table(
                ["what learned code tries", "test", "outcome"],
                [(ESCAPES[name], f"`{name}`", verdict[outcomes.get(name)]) for name in wanted],
                "lll",
            ),
            f"From `pytest {TEST_FILE}` (exit {proc.returncode})"
            + (
                "; quick run: two attempts only."
                if ctx.quick
                else f"; the file's other {len(other)} tests (ordinary calls, errors, sessions): "
                f"{sum(s == 'passed' for s in other.values())} passed, "
                f"{sum(s == 'failed' for s in other.values())} failed, "
                f"{sum(s == 'skipped' for s in other.values())} skipped."
            ),
        ]
    )
    return section


if __name__ == "__main__":
    standalone(TITLE, run)
