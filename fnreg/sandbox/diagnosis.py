"""What ``fnreg doctor`` reports: the isolation level here, why, and what bounds a session."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

from fnreg.errors import SandboxError
from fnreg.hardening import is_dumpable, make_undumpable
from fnreg.sandbox.jail import USERNS_SYSCTLS, bwrap_version, jail_support, resolve_mode
from fnreg.sandbox.scratch import remove_scratch, scratch_directory


def diagnose(configured: str | None, *, start: bool = True) -> dict[str, Any]:
    """Findings as ``{"mode", "reason", "rows": [(label, text)], ...}``; ``mode`` None: no sandbox."""
    support = jail_support()
    rows: list[tuple[str, str]] = []
    try:
        mode, reason = resolve_mode(configured)
    except SandboxError as exc:
        mode, reason = None, str(exc)
    rows.append(("isolation", f"{mode or 'none'}: {reason}"))
    rows.append(("setting", f"[tool.fnreg] sandbox / --sandbox: {configured or 'auto'}"))
    rows.append(("jail", "available" if support.available else f"unavailable: {support.reason}"))
    if support.bwrap:
        version = bwrap_version(support.bwrap)
        version = f", {version}" if version else ""
        rows.append(("bwrap", f"{support.bwrap.path} ({support.bwrap.source}{version})"))
    for path, _, text in USERNS_SYSCTLS:
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        rows.append((text.split(" = ")[0], value))
    rows.append(("platform", f"{platform.system()} {platform.release()}, Python {platform.python_version()}"))
    root = os.geteuid() == 0 if hasattr(os, "geteuid") else False
    rows.append(
        (
            "user",
            (
                "root: learned code runs as a borrowed unprivileged uid (40000-59999)"
                if root
                else f"uid {os.getuid()}: learned code runs as this user (in jail mode inside its namespaces)"
            ),
        )
    )
    rows.append(("memory bound", memory_bound(mode)))
    make_undumpable()
    rows.append(("fnreg's process", "not dumpable (PR_SET_DUMPABLE 0)" if is_dumpable() is False else "dumpable"))
    result: dict[str, Any] = {"mode": mode, "reason": reason, "jail": support.available}
    if start and mode is not None:
        rows.append(("check", start_check(mode)))
    result["rows"] = rows
    return result


def memory_bound(mode: str | None) -> str:
    """Which memory bound applies to a session (documented in :mod:`fnreg.sandbox`)."""
    per_session = "per session: each process's address space (RLIMIT_AS) × the session's process count (RLIMIT_NPROC)"
    if mode == "jail":
        per_session += "; /tmp and /dev/shm are size-capped tmpfs"
    return per_session + f"; {cgroup_v2_state()}"


def cgroup_v2_state() -> str:
    """Whether a cgroup v2 memory controller is delegated to this process (fnreg does not use one)."""
    if not Path("/sys/fs/cgroup/cgroup.controllers").is_file():
        return "no unified cgroup v2 hierarchy at /sys/fs/cgroup, so no cgroup memory bound"
    try:
        controllers = Path("/sys/fs/cgroup/cgroup.controllers").read_text().split()
    except OSError:
        controllers = []
    if "memory" not in controllers:
        return "cgroup v2 has no memory controller here, so no cgroup memory bound"
    return "a cgroup v2 memory controller exists, but fnreg does not create cgroups (not used)"


def start_check(mode: str) -> str:
    """Start a throw-away sandbox in ``mode`` and run one call; what happened."""
    from fnreg.sandbox import Limits, Sandbox

    folder = scratch_directory("stage")
    try:
        folder.chmod(0o755)
        package = folder / "registry" / "doctor"
        package.mkdir(parents=True)
        for path in (folder / "registry", package):
            path.chmod(0o755)
        for path, text in {
            folder / "registry" / "__init__.py": "",
            package / "__init__.py": "",
            package / "check.py": "def check():\n    import os\n    return os.getpid()\n",
        }.items():
            path.write_text(text)
            path.chmod(0o644)
        started = time.perf_counter()
        with Sandbox(folder, toolset="doctor", mode=mode, limits=Limits(wall_seconds=20)) as sandbox:
            with sandbox.session() as session:
                result = session.call_function("check", {})
            seconds = time.perf_counter() - started
        if not result.ok:
            return f"failed: a call in {mode} mode reported {result.error}"
        return f"ok: a {mode}-mode sandbox started and ran a call in {seconds * 1000:.0f} ms"
    except SandboxError as exc:
        return f"failed: {exc}"
    finally:
        remove_scratch(folder)
