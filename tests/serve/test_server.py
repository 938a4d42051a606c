"""The MCP server in-process, through the SDK's own client (``mcp.Client(server)``)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from fnreg.sandbox.jail import jail_support
from fnreg.serve import ServedToolset
from fnreg.serve.server import build_server
from tests.conftest import git
from tests.serve.conftest import WALL_SECONDS, fnreg_cli

#: Both protocol eras the SDK speaks: the initialize handshake and 2026-07-28's per-request envelope.
MODES = ["legacy", "auto"]


def with_client(repo: Path, body: Callable[[Client], Awaitable[Any]], *, mode: str = "auto", workers: int = 2) -> Any:
    async def main() -> Any:
        with ServedToolset("demo", ref="v1", repo=repo, workers=workers) as served:
            async with Client(build_server(served), mode=mode) as client:
                return await body(client)

    return anyio.run(main)


def text_of(result) -> str:
    return "\n".join(block.text for block in result.content)


@pytest.mark.parametrize("mode", MODES)
def test_tools_equal_fnreg_tools_and_the_server_names_the_commit(repo: Path, mode: str):
    async def body(client: Client):
        return client.server_info, client.instructions, (await client.list_tools()).tools

    info, instructions, tools = with_client(repo, body, mode=mode)
    expected = json.loads(fnreg_cli(repo, "tools", "--toolset", "demo", "--ref", "v1").stdout)
    listed = [
        {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.input_schema}}
        for t in tools
    ]
    assert listed == expected
    short = git(repo, "rev-parse", "v1")[:7]
    assert info.name == f"fnreg:demo@{short}"
    assert instructions.startswith(f"fnreg:demo@{short}: the trained functions of fnreg toolset 'demo' at v1 ({short})")
    schemas = {t.name: t.output_schema for t in tools}
    assert schemas["shout"] is None
    assert schemas["stats"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert schemas["add"]["properties"]["result"] == {"type": "integer"}


@pytest.mark.parametrize("mode", MODES)
def test_calls_return_text_and_structured_content(repo: Path, mode: str):
    async def body(client: Client):
        return (
            await client.call_tool("add", {"a": 2, "b": 3}),
            await client.call_tool("stats", {"values": [1, 2, 6]}),
            await client.call_tool("shout", {"text": "hi"}),
        )

    add, stats, shout = with_client(repo, body, mode=mode)
    assert not add.is_error and text_of(add) == "5" and add.structured_content == {"result": 5}
    assert stats.structured_content == {"mean": 3.0, "largest": 6}
    assert text_of(stats) == 'computing\n{"mean": 3.0, "largest": 6}'
    assert text_of(shout) == "shouting\nHI" and shout.structured_content is None


@pytest.mark.parametrize("mode", MODES)
def test_bad_arguments_return_a_schema_error_naming_the_argument(repo: Path, mode: str):
    async def body(client: Client):
        return await client.call_tool("add", {"a": "two"}), await client.call_tool("add", {})

    wrong_type, missing = with_client(repo, body, mode=mode)
    assert wrong_type.is_error
    assert text_of(wrong_type) == "invalid arguments for add: argument 'a': 'two' is not of type 'integer'"
    assert missing.is_error and text_of(missing) == "invalid arguments for add: missing required argument 'a'"


def test_failures_are_error_results_of_one_line_and_the_server_keeps_serving(repo: Path):
    async def body(client: Client):
        results = {}
        for name, arguments in [
            ("divide", {"a": 1, "b": 0}),
            ("crash", {}),
            ("needs_package", {"x": 1}),
            ("nap", {"seconds": 60}),
            ("liar", {}),
        ]:
            results[name] = await client.call_tool(name, arguments)
        results["after"] = await client.call_tool("add", {"a": 1})
        return results

    results = with_client(repo, body, workers=1)
    for name in ("divide", "crash", "needs_package", "nap", "liar"):
        assert results[name].is_error, name
        assert len(results[name].content) == 1 and "\n" not in text_of(results[name]), name
    assert text_of(results["divide"]) == "ZeroDivisionError: division by zero"
    assert text_of(results["needs_package"]).startswith("ModuleNotFoundError: No module named 'fnreg_no_such_package'")
    assert text_of(results["nap"]).startswith(f"TimeoutError: call exceeded {WALL_SECONDS} s wall clock")
    assert results["after"].structured_content == {"result": 2}


def test_an_unknown_tool_is_a_protocol_error(repo: Path):
    async def body(client: Client):
        with pytest.raises(MCPError, match="unknown tool 'nope'"):
            await client.call_tool("nope", {})
        return await client.call_tool("add", {"a": 1})

    assert with_client(repo, body).structured_content == {"result": 2}


def test_a_hanging_call_times_out_while_a_second_call_completes(repo: Path):
    async def body(client: Client):
        finished: dict[str, float] = {}
        results: dict[str, Any] = {}
        started = time.monotonic()

        async def call(name: str, arguments: dict[str, Any]) -> None:
            results[name] = await client.call_tool(name, arguments)
            finished[name] = time.monotonic() - started

        async with anyio.create_task_group() as group:
            group.start_soon(call, "nap", {"seconds": 600})
            await anyio.sleep(0.5)  # the nap holds its worker
            group.start_soon(call, "add", {"a": 20, "b": 22})
        return results, finished

    results, finished = with_client(repo, body, workers=2)
    assert results["add"].structured_content == {"result": 42}
    assert finished["add"] < finished["nap"]  # it did not wait for the hanging call
    assert results["nap"].is_error and text_of(results["nap"]).startswith("TimeoutError: call exceeded")
    assert finished["nap"] < WALL_SECONDS + 30


def test_calls_run_in_parallel_up_to_the_pool_size(repo: Path):
    async def body(client: Client):
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(client.call_tool, "nap", {"seconds": 1.5})
        return time.monotonic() - started

    # Four 1.5 s naps on four workers take about 1.5 s, one after another they would take 6 s.
    assert with_client(repo, body, workers=4) < 4.5


@pytest.mark.skipif(not jail_support().available, reason="no jail here: the process sandbox has no network isolation")
def test_a_served_function_cannot_reach_the_network(repo: Path):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        result = with_client(repo, lambda client: client.call_tool("reach", {"port": port}))
    assert result.is_error, text_of(result)
    assert "connected" not in text_of(result)
