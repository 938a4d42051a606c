"""The math checker's worker processes never outlive the program that started them for long."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")

# Starts a check that would run for minutes, prints the worker's pid, then waits.
SCRIPT = textwrap.dedent("""
    import sys, threading, time
    from fnreg.evaluation import evaluators, math_pool

    threading.Thread(
        target=evaluators.math_equal, args=("9^{9^{9}}", "1"), kwargs={"timeout": float(sys.argv[1])}, daemon=True
    ).start()
    while not math_pool._the_pool or not math_pool._the_pool._all:
        time.sleep(0.05)
    time.sleep(0.5)  # the worker is now computing
    print(*(w._proc.pid for w in math_pool._the_pool._all), flush=True)
    sys.stdin.readline()  # the test has seen the worker alive
    time.sleep(float(sys.argv[2]))
    """)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie no longer runs


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return not alive(pid)


def start(timeout: float, linger: float) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(timeout), str(linger)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    worker = int(proc.stdout.readline().split()[0])
    assert alive(worker)
    proc.stdin.write("go\n")  # only now may the program go on (and exit)
    proc.stdin.flush()
    return proc, worker


def test_busy_worker_is_killed_when_the_program_exits() -> None:
    proc, worker = start(timeout=60, linger=0)
    assert proc.wait(timeout=30) == 0
    assert wait_gone(worker, 5), "a worker stuck in a computation outlived its program"


def test_busy_worker_stops_itself_when_the_program_is_killed() -> None:
    # No atexit on SIGKILL: the per-request CPU limit (timeout + 1 s) ends the computation.
    proc, worker = start(timeout=2, linger=60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # The budget is CPU seconds: on a busy machine they take longer to accrue than on an idle one.
    assert wait_gone(worker, 60), "an orphaned worker kept computing past its CPU budget"
