"""The README's MCP client configurations, run as written (with this test's repository and run)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from tests.conftest import REPO_ROOT, git

README = (REPO_ROOT / "README.md").read_text()


def fnreg_executable() -> str:
    """The `fnreg` console script of this environment (what a client's "command" names)."""
    beside = Path(sys.executable).parent / "fnreg"
    return str(beside) if beside.exists() else shutil.which("fnreg") or "fnreg"


def client_configs() -> list[dict]:
    blocks = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", README, re.S)]
    servers = [block.get("mcpServers") or block.get("servers") for block in blocks]
    return [entry["math"] for entry in servers if entry and "math" in entry]


def test_the_readme_client_configurations_start_a_working_server(repo: Path):
    git(repo, "tag", "fnreg/demo/RUN/best", "v1")
    configs = client_configs()
    assert len(configs) >= 2  # mcpServers (Claude Desktop, Cursor...) and VS Code
    for config in configs:
        args = [
            arg.replace("/path/to/repo", str(repo)).replace("fnreg/math/", "fnreg/demo/").replace("math", "demo")
            for arg in config["args"]
        ]
        assert config["command"] == "fnreg"
        parameters = StdioServerParameters(command=fnreg_executable(), args=args, env=dict(os.environ))

        async def main():
            async with Client(parameters) as client:
                return client.server_info.name, await client.call_tool("add", {"a": 1, "b": 1})

        name, result = anyio.run(main)
        assert name == f"fnreg:demo@{git(repo, 'rev-parse', 'v1')[:7]}"
        assert result.structured_content == {"result": 2}
    claude_code = re.search(r"claude mcp add math -- (fnreg .*)", README).group(1).split()
    assert claude_code == ["fnreg", *configs[0]["args"]]
