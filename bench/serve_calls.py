"""8. Serving a learned function over MCP: a call through `fnreg serve` (stdio) vs a direct sandbox call.

Builds a throw-away repository with ``registry/demo/add.py`` (``add(a: int, b: int) -> int``)
and times one call of ``add(a=1, b=2)`` three ways, interleaved call by call so that all
three see the same machine load:

- direct: ``Sandbox`` + ``with sandbox.session() as s: s.call_function(...)``, what the server
  itself does for every call (a fresh session per call), in this process;
- MCP over stdio, 2025-11-25: the MCP SDK's ``Client`` driving ``fnreg -C REPO serve`` as a
  subprocess, with the initialize handshake (the protocol today's desktop and IDE clients speak);
- MCP over stdio, 2026-07-28: the same client in its default mode (per-request envelope).

The overhead is the MCP call's median minus the direct call's median: JSON-RPC framing, the
pipes, the server's argument check and thread hand-off, structured content and the client's
own output-schema validation.

    python -m bench.serve_calls [--quick]
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from bench.common import REPO_ROOT, Context, Row, Section, git, init_repo, median, ms, p95, standalone, table
from fnreg.sandbox import Sandbox

TITLE = "Serving a learned function over MCP"
ADD = 'def add(a: int, b: int) -> int:\n    """Add two integers."""\n    return a + b\n'
TARGET_SECONDS = 0.001
MODES = {"2025-11-25 (handshake)": "legacy", "2026-07-28 (default)": "auto"}
BARE = "bare MCP server, no sandbox (bench/bare_mcp_server.py), 2026-07-28"


def make_repo(ctx: Context) -> Path:
    repo = init_repo(ctx.scratch("serve-repo"))
    for relative, text in {
        "registry/__init__.py": "",
        "registry/demo/__init__.py": "",
        "registry/demo/add.py": ADD,
    }.items():
        path = repo / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o755)
        path.write_text(text)
        path.chmod(0o644)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "demo toolset")
    return repo


async def measure(repo: Path, calls: int) -> dict[str, list[float]]:
    """Seconds per call, by way of calling, interleaved."""
    command = [sys.executable, "-m", "fnreg", "-C", str(repo), "serve", "--toolset", "demo", "--workers", "1"]
    parameters = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    results: dict[str, list[float]] = {"direct sandbox call (session per call)": []}
    results |= {f"MCP over stdio, {label}": [] for label in MODES}
    results[BARE] = []
    bare = StdioServerParameters(
        command=sys.executable,
        args=["-m", "bench.bare_mcp_server"],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},  # as the other benchmarks start their helpers
    )
    with Sandbox(repo, toolset="demo", size=1) as sandbox:

        def direct() -> None:
            with sandbox.session() as session:
                session.call_function("add", {"a": 1, "b": 2})

        with open(os.devnull, "w") as quiet:  # the servers' start and stop lines are not results
            clients = [Client(stdio_client(parameters, errlog=quiet), mode=mode) for mode in MODES.values()]
            clients.append(Client(stdio_client(bare, errlog=quiet)))  # the SDK's default mode
            async with clients[0], clients[1], clients[2]:
                await _rounds(clients, direct, calls, results)
    return results


async def _rounds(
    clients: list[Client], direct: Callable[[], None], calls: int, results: dict[str, list[float]]
) -> None:
    for client in clients:
        await client.list_tools()  # as a client does first; the schemas are cached from here on
    for round_ in range(calls + 5):  # the first five rounds warm up, untimed
        start = time.perf_counter()
        direct()
        timed = [time.perf_counter() - start]
        for client in clients:
            start = time.perf_counter()
            result = await client.call_tool("add", {"a": 1, "b": 2})
            timed.append(time.perf_counter() - start)
            if result.structured_content != {"result": 3}:
                raise RuntimeError(f"unexpected result from fnreg serve: {result}")
        if round_ >= 5:
            for series, seconds in zip(results.values(), timed):
                series.append(seconds)


def run(ctx: Context) -> Section:
    calls = ctx.pick(1000, 20)
    ctx.log(f"serve calls: {calls} rounds of direct + 3 MCP calls")
    results = anyio.run(measure, make_repo(ctx), calls)
    direct = results["direct sandbox call (session per call)"]
    section = Section(TITLE)
    for label in MODES:
        served = results[f"MCP over stdio, {label}"]
        overhead = median(served) - median(direct)
        section.rows.append(
            Row(
                f"one call of add(1, 2) over MCP stdio, protocol {label}: median overhead",
                f"+{ms(overhead, 3)} ({ms(median(served), 3)} per call)",
                f"{ms(median(direct), 3)} (direct sandbox call, session per call)",
                f"{median(served) / median(direct):.2f}× the direct call",
                "overhead ≤ 1 ms",
                overhead <= TARGET_SECONDS,
            )
        )
    floor = median(results[BARE])
    section.rows.append(
        Row(
            "one call of add(1, 2) to a bare MCP server (same SDK and stdio transport, answered in-process, "
            "no sandbox): the protocol's own floor",
            ms(floor, 3),
            "— (what any MCP call costs on this machine)",
            "",
            "",
            None,
        )
    )
    default = median(results[f"MCP over stdio, {list(MODES)[-1]}"]) - median(direct)
    section.details = "\n\n".join(
        [
            table(
                ["call of add(1, 2)", "median", "p95", "calls"],
                [(name, ms(median(s), 3), ms(p95(s), 3), len(s)) for name, s in results.items()],
            ),
            "One server per protocol version, each with one sandbox worker, and one direct `Sandbox` with one "
            "worker, all started before timing; each round times one direct call, then one call through each "
            "server, so all of them share the machine's load at that moment. Both sides run a fresh sandbox "
            "session per call (take the worker, call, reset), as `fnreg serve` does for every call. The MCP "
            "side includes the client: the SDK's `Client` over `mcp.client.stdio` with its default settings, "
            "which validates the structured result against the tool's output schema. "
            f"{'As root, workers drop to a dedicated uid.' if os.geteuid() == 0 else 'Workers run as the current user.'}",
            "The bare server (`bench/bare_mcp_server.py`) is timed in the same rounds: the MCP SDK's low-level server "
            "on fnreg's stdio transport, answering `add` in its own process. Its round trip is part of every MCP "
            f"call here, so of the default protocol's overhead (+{ms(default, 3)}) at most "
            f"+{ms(max(0.0, default - floor), 3)} is fnreg's own: the argument check, the hand-off to a thread and "
            "back, and the sandbox session seen from a server process (whose next session is prepared while the "
            "reply goes out).",
        ]
    )
    return section


if __name__ == "__main__":
    standalone(TITLE, run)
