"""A separate venv holding the reference implementation (``ag2[openai]==0.11.5``), made on demand.

Never a dependency of fnreg: it lives in ``bench/.venv-ag2`` (gitignored) and only
``bench/ag2_driver.py`` runs in it. AG2 ships ``AgentOptimizer`` up to its 0.11 series.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from filelock import FileLock

from bench.common import BENCH_DIR, Context

REQUIREMENT = "ag2[openai]==0.11.5"
VERSION = REQUIREMENT.split("==")[1]
VENV = BENCH_DIR / ".venv-ag2"
PYTHON = VENV / "bin" / "python"


def installed_version() -> str | None:
    """The ag2 version in the venv if it has the AgentOptimizer module, else None."""
    if not PYTHON.exists():
        return None
    probe = (
        "import importlib.metadata as m, importlib.util as u;"
        "assert u.find_spec('autogen.agentchat.contrib.agent_optimizer');print(m.version('ag2'))"
    )
    proc = subprocess.run([str(PYTHON), "-c", probe], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure(ctx: Context) -> tuple[Path | None, str]:
    """(the venv's python, how it was obtained) or (None, why the install failed)."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(BENCH_DIR / ".venv-ag2.lock"), timeout=900):
        if installed_version() == VERSION:
            return PYTHON, f"reused {VENV.relative_to(BENCH_DIR.parent)} ({REQUIREMENT})"
        ctx.log(f"installing {REQUIREMENT} into {VENV} (separate venv, not an fnreg dependency)")
        try:
            venv.EnvBuilder(clear=True, with_pip=True).create(VENV)
            proc = subprocess.run(
                [str(PYTHON), "-m", "pip", "install", "--quiet", REQUIREMENT],
                capture_output=True,
                text=True,
                timeout=900,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return None, f"could not create {VENV}: {exc}"
        if proc.returncode != 0 or installed_version() != VERSION:
            lines = [line for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
            return None, f"`pip install {REQUIREMENT}` failed: {lines[-1] if lines else proc.returncode}"
        return PYTHON, f"installed {REQUIREMENT} into {VENV.relative_to(BENCH_DIR.parent)} during this run"


if __name__ == "__main__":
    from bench.common import scratch_context

    with scratch_context(quick=False) as context:
        python, how = ensure(context)
    print(how)
    sys.exit(0 if python else 1)
