"""fnreg's version has one source, pyproject.toml, read back from the installed package's metadata."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import fnreg
from fnreg.version import fnreg_version
from tests.conftest import REPO_ROOT


def test_the_version_is_pyprojects() -> None:
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert fnreg_version() == declared == fnreg.__version__
    out = subprocess.run([sys.executable, "-m", "fnreg", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"fnreg, version {declared}"
