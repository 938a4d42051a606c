"""`fnreg serve` as a real process: stdio through the SDK's stdio client, HTTP on a loopback port,
bearer tokens, DNS-rebinding protection, and stopping with Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import git
from tests.processes import descendants, process_gone
from tests.serve.conftest import fnreg_cli, server_command, server_env

START_SECONDS = 60  # a loaded CI machine can be slow to import and start workers


def stdio_parameters(repo: Path, *args: str) -> StdioServerParameters:
    command = server_command(repo, *args)
    return StdioServerParameters(command=command[0], args=command[1:], env=server_env())


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_stdio_subprocess_serves_the_tagged_toolset(repo: Path, mode: str):
    async def main():
        async with Client(stdio_parameters(repo, "--toolset", "demo", "--ref", "v1"), mode=mode) as client:
            tools = (await client.list_tools()).tools
            return client.server_info.name, tools, await client.call_tool("add", {"a": 2, "b": 3})

    name, tools, result = anyio.run(main)
    assert name == f"fnreg:demo@{git(repo, 'rev-parse', 'v1')[:7]}"
    expected = json.loads(fnreg_cli(repo, "tools", "--toolset", "demo", "--ref", "v1").stdout)
    assert [{"name": t.name, "description": t.description, "parameters": t.input_schema} for t in tools] == [
        tool["function"] for tool in expected
    ]
    assert result.structured_content == {"result": 5}


class Server:
    """`fnreg serve` started by hand, its stderr read line by line in the background."""

    def __init__(self, repo: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            server_command(repo, *args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=server_env(),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = START_SECONDS) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if text in line:
                return line
        raise AssertionError(f"no {text!r} from the server; stderr: {''.join(self.stderr)}")

    def wait(self, timeout: float = 30) -> int:
        """The exit code, once the process has ended and all of its stderr has been read."""
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        return code

    def url(self) -> str:
        line = self.wait_for("serving at ")
        return line.split("serving at ", 1)[1].split()[0]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture
def start(repo: Path) -> Iterator:
    servers: list[Server] = []

    def start_server(*args: str) -> Server:
        server = Server(repo, *args)
        servers.append(server)
        return server

    yield start_server
    for server in servers:
        server.stop()


def http_client(url: str, token: str | None = None, host: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if host:
        headers["Host"] = host
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers, timeout=60)))


def test_http_on_a_loopback_port(start):
    server = start("--toolset", "demo", "--ref", "v1", "--transport", "http", "--port", "0")
    url = server.url()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp")

    async def main():
        async with http_client(url) as client:
            return [t.name for t in (await client.list_tools()).tools], await client.call_tool("add", {"a": 40, "b": 2})

    names, result = anyio.run(main)
    assert "add" in names and result.structured_content == {"result": 42}


def test_http_with_a_token_refuses_requests_without_it(start):
    server = start("--toolset", "demo", "--ref", "v1", "--transport", "http", "--port", "0", "--auth-token", "s3cret")
    url = server.url()

    async def call(token: str | None):
        async with http_client(url, token) as client:
            return await client.call_tool("add", {"a": 1})

    assert anyio.run(call, "s3cret").structured_content == {"result": 2}
    with pytest.raises(Exception):  # the SDK client reports the refused handshake as an error
        anyio.run(call, None)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    for token in (None, "wrong", "s3cretX"):
        sent = headers | ({"Authorization": f"Bearer {token}"} if token else {})
        refused = httpx2.post(url, json=body, headers=sent, timeout=30)
        assert refused.status_code == 401, token
        assert refused.json()["error"] == "invalid_token"


def test_http_keeps_dns_rebinding_protection_on(start):
    server = start(
        "--toolset", "demo", "--ref", "v1", "--transport", "http", "--port", "0", "--allowed-host", "my-box:*"
    )
    url = server.url()
    port = url.split(":")[2].split("/")[0]
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    rebound = httpx2.post(url, json=body, headers=headers | {"Host": f"evil.example:{port}"}, timeout=30)
    assert rebound.status_code == 421
    foreign = httpx2.post(url, json=body, headers=headers | {"Origin": "http://evil.example"}, timeout=30)
    assert foreign.status_code == 403
    for allowed in (f"127.0.0.1:{port}", f"localhost:{port}", f"my-box:{port}"):
        accepted = httpx2.post(url, json=body, headers=headers | {"Host": allowed}, timeout=30)
        assert accepted.status_code not in (403, 421), allowed


def send(server: Server, message: dict) -> None:
    assert server.proc.stdin is not None
    server.proc.stdin.write(json.dumps(message) + "\n")
    server.proc.stdin.flush()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_a_signal_stops_the_server_and_its_workers_during_a_hanging_call(start, signum: int, transport: str):
    args = ["--toolset", "demo", "--ref", "v1", "--workers", "2"]
    server = start(*args) if transport == "stdio" else start(*args, "--transport", "http", "--port", "0")
    if transport == "stdio":
        server.wait_for("serving over stdio")
        send(
            server,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "test", "version": "1"},
                },
            },
        )
        assert json.loads(server.proc.stdout.readline())["id"] == 1
        send(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        send(
            server,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "nap", "arguments": {"seconds": 600}},
            },
        )
    else:
        url = server.url()

        async def hang():
            async with http_client(url) as client:
                await client.call_tool("nap", {"seconds": 600})

        threading.Thread(target=lambda: _ignore(anyio.run, hang), daemon=True).start()
    time.sleep(2.0)  # the nap is running in the sandbox by now
    workers = descendants(server.proc.pid)  # the sandbox's processes, whatever their layout
    assert workers, "".join(server.stderr)

    server.proc.send_signal(signum)
    assert server.wait() == 0, "".join(server.stderr)
    assert server.stderr[-1].strip().endswith("stopped"), "".join(server.stderr)
    deadline = time.monotonic() + 10
    while not all(process_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(process_gone(pid) for pid in workers)


def _ignore(function, *args) -> None:
    try:
        function(*args)
    except BaseException:
        pass  # the server went away mid-call, as intended
