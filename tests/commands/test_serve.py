"""`fnreg serve` as a command: what it refuses, in one line, and what it does not load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.serve.conftest import fnreg_cli
from tests.serve.conftest import repo  # noqa: F401  (a fixture)


def test_a_public_interface_needs_a_token(repo: Path):
    result = fnreg_cli(repo, "serve", "--toolset", "demo", "--transport", "http", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --host 0.0.0.0 is not a loopback address: add --auth-token (a bearer token clients must send), "
        "or serve on 127.0.0.1"
    ]


def test_http_options_are_refused_with_stdio(repo: Path):
    result = fnreg_cli(repo, "serve", "--toolset", "demo", "--port", "9000")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --port applies to --transport http only"


def test_a_missing_toolset_is_one_line(repo: Path):
    result = fnreg_cli(repo, "serve", "--toolset", "nope")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: no toolset 'nope' under registry/ at the working tree; toolsets there: demo"


def test_the_cli_loads_the_mcp_sdk_only_to_serve():
    probe = (
        "import sys\n"
        "from fnreg.main import main\n"
        "for argv in (['--version'], ['serve', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'fnreg.serve'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
