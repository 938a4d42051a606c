"""A bare MCP server for bench/serve_calls.py: the MCP SDK's low-level server, fnreg's stdio
transport, and one tool ``add(a, b) -> int`` answered in this process, with no sandbox.

Its round trip is the floor of any MCP call on this machine (JSON-RPC, the SDK's validation
and dispatch on both sides, the pipes): what is left of an `fnreg serve` call above it is
fnreg's own (argument check, the hand-off to a thread, the sandbox session).

    python -m bench.bare_mcp_server
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext

from fnreg.serve.transports import run_stdio

INPUT = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
    "additionalProperties": False,
}
OUTPUT = {"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]}
TOOLS = [types.Tool(name="add", description="Add two integers.", input_schema=INPUT, output_schema=OUTPUT)]


async def list_tools(
    ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
    arguments = params.arguments or {}
    value = arguments["a"] + arguments["b"]
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=str(value))], structured_content={"result": value}
    )


def build() -> Server[Any]:
    return Server(
        "bare", version="0", get_tool_input_schema={"add": INPUT}.get, on_list_tools=list_tools, on_call_tool=call_tool
    )


if __name__ == "__main__":
    run_stdio(build())
