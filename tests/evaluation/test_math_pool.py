"""The math checker runs on the sandbox's pool: bounded, warm, and gone with the program that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fnreg.evaluation import math_pool

pytestmark = pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")

# About a minute of sympy arithmetic in under 100 MB: a check that is still computing.
SLOW = r"$(3\cdot 10^{6})!$"

# Starts a slow check, prints the pids of its own descendants once one of them is computing,
# then waits argv[1] seconds (0: exits at once).
SCRIPT = textwrap.dedent(f"""
    import os, sys, threading, time
    from fnreg.evaluation import math_pool

    threading.Thread(target=math_pool.verify, args=({SLOW!r}, "1", 300.0), daemon=True).start()
    sys.path.insert(0, {str(Path(__file__).parent)!r})
    from test_math_pool import busy_descendants

    deadline = time.monotonic() + 120
    while not busy_descendants(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.2)
    print(*sorted(descendant for descendant in busy_descendants(os.getpid(), cpu=0.0)), flush=True)
    time.sleep(float(sys.argv[1]))
    """)


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_descendants(root: int, cpu: float = 1.0) -> set[int]:
    """Live descendants of ``root``; with ``cpu``, only when one of them has used that much CPU."""
    stats = {int(p.name): s for p in Path("/proc").iterdir() if p.name.isdigit() and (s := _stat(int(p.name)))}
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (parent, _) in stats.items() if parent in frontier} - found
        found |= frontier
    if cpu and not any(stats[pid][1] >= cpu for pid in found):
        return set()
    return found


def wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = {pid for pid in pids if _stat(pid) is not None}
        if not pids:
            break
        time.sleep(0.1)
    return pids


def start(linger: float) -> tuple[subprocess.Popen[str], set[int]]:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(linger)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    pids = {int(word) for word in proc.stdout.readline().split()}
    assert pids, "the check never started computing"
    return proc, pids


def test_a_check_still_computing_ends_when_the_program_exits() -> None:
    proc, pids = start(linger=0)
    assert proc.wait(timeout=60) == 0
    assert wait_gone(pids, 15) == set(), "the checker's processes outlived their program"


def test_a_check_still_computing_ends_when_the_program_is_killed() -> None:
    proc, pids = start(linger=60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert wait_gone(pids, 15) == set(), "the checker's processes outlived a killed program"


def test_a_check_that_overruns_is_rejected_and_the_next_one_is_answered() -> None:
    started = time.monotonic()
    assert math_pool.verify(SLOW, "1", timeout=1.0) is None  # overran: rejected, not waited for
    assert time.monotonic() - started < 30
    assert math_pool.verify(r"$\frac{1}{2}$", "0.5", timeout=1.0) == (True, True)


def test_an_answer_that_needs_gigabytes_is_rejected_within_the_memory_limit() -> None:
    started = time.monotonic()
    assert math_pool.verify("$2^{10^{11}}$", "1", timeout=20.0) in ((False, True), None)
    assert time.monotonic() - started < 60
    assert math_pool.verify("$3$", "3", timeout=20.0) == (True, True)  # the checker still answers
