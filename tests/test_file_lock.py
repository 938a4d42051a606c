"""File locks: one implementation (filelock); a holder is named, a killed holder frees the lock."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fnreg.errors import LockError
from fnreg.file_lock import acquire, toolset_lock

HOLD = "import sys, time\nfrom fnreg.file_lock import toolset_lock\nfrom pathlib import Path\nwith toolset_lock(Path(sys.argv[1]), 'math', 'run \\'other\\''):\n    print('held', flush=True)\n    time.sleep(600)\n"


def test_a_second_holder_is_told_who_holds_the_lock(tmp_path: Path) -> None:
    with toolset_lock(tmp_path / "locks", "math", "run 'r1'"):
        with pytest.raises(LockError, match=r"toolset 'math' is locked by run 'r1' \(pid \d+, since .*\); wait for it"):
            with toolset_lock(tmp_path / "locks", "math", "run 'r2'"):
                pass
        with toolset_lock(tmp_path / "locks", "other", "run 'r2'"):  # another toolset is free
            pass
    with toolset_lock(tmp_path / "locks", "math", "run 'r2'"):  # released on exit
        assert (tmp_path / "locks" / "math.json").is_file()
    assert not (tmp_path / "locks" / "math.json").exists()


def test_a_holder_killed_with_sigkill_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockError, match="locked by run 'other'"):
            with toolset_lock(tmp_path, "math", "run 'mine'"):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with toolset_lock(tmp_path, "math", "run 'mine'"):
        pass


def test_acquire_waits_then_gives_up(tmp_path: Path) -> None:
    first = acquire(tmp_path / "x.lock", timeout=0)
    assert first is not None
    started = time.monotonic()
    assert acquire(tmp_path / "x.lock", timeout=0.3, poll_interval=0.01) is None
    assert time.monotonic() - started >= 0.3
    first.release()
    again = acquire(tmp_path / "x.lock", timeout=0)
    assert again is not None
    again.release()
