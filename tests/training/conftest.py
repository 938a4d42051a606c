"""A user's repository holding the demo task set, and the scripted model on a loopback server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fnreg.testing.scripted_model import scripted_policy
from fnreg.testing.server import ChatServer


@pytest.fixture
def server():
    with ChatServer(policy=scripted_policy) as running:
        yield running


def fnreg(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fnreg", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
