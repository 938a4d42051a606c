"""The baseline: fnreg's previous sandbox pool (warm worker subprocesses), taken from git.

``extract(folder)`` writes ``fnreg/sandbox`` as it was at :data:`BASELINE` into ``folder`` as the
package ``fnreg_old_sandbox`` (its ``fnreg.sandbox`` imports rewritten); put ``folder`` on
``sys.path`` and ``OldSandbox`` is that pool with today's keyword arguments, so the same
evaluation code can run on either.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.common import REPO_ROOT

#: The last commit before sandbox v2 (issue 10): one warm worker subprocess per pool slot.
BASELINE = "50ed8be"
PACKAGE = "fnreg_old_sandbox"


def extract(folder: Path) -> Path:
    """The old pool's package under ``folder``; returns ``folder`` (for ``sys.path``)."""
    package = folder / PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", BASELINE, "fnreg/sandbox/"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in names:
        source = subprocess.run(
            ["git", "show", f"{BASELINE}:{name}"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout
        (package / Path(name).name).write_text(source.replace("fnreg.sandbox", PACKAGE))
    for path in [folder, package, *package.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


def old_sandbox_class():
    """The old ``Sandbox``, accepting (and ignoring) the new ``mode``, ``network``, ``wait`` and ``preload``
    arguments (it always starts its first worker before returning)."""
    module = __import__(f"{PACKAGE}.pool", fromlist=["Sandbox"])

    class OldSandbox(module.Sandbox):  # type: ignore[misc, name-defined]
        mode = "old pool"
        network = False

        def __init__(self, root, *, mode=None, network=False, wait=True, preload=(), **kwargs) -> None:
            super().__init__(root, **kwargs)

    return OldSandbox


if __name__ == "__main__":
    print(extract(Path(sys.argv[1])))
