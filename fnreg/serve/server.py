"""The MCP face of a served toolset, on the MCP SDK's low-level server (``mcp.server.Server``).

The low-level server, not ``MCPServer``: MCPServer derives tool schemas by importing Python
functions, and fnreg must never import learned code. Here every tool is exactly what
``fnreg tools`` derives from source, and every call goes to :meth:`ServedToolset.call`.

Calls run side by side, up to the served toolset's number of sandbox workers; each waits
for its sandbox worker in a daemon thread (:mod:`fnreg.serve.threads`), so a call that hangs holds
one worker until its wall-clock limit, never the server, and never keeps a stopping server
alive. The server runs on asyncio (anyio's default backend), as the MCP SDK's own do.
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError

from fnreg.serve.threads import CallThreads
from fnreg.serve.toolset import CallResult, ServedToolset
from fnreg.version import fnreg_version


def build_server(served: ServedToolset) -> Server[Any]:
    """An MCP server (not yet running) for ``served``; run it with :mod:`fnreg.serve.transports`."""
    tools = [
        types.Tool(
            name=function.name,
            description=function.description,
            input_schema=function.parameters,
            output_schema=served.output_schema(function.name),
        )
        for function in served.functions
    ]
    schemas = {function.name: function.parameters for function in served.functions}
    limiter = anyio.CapacityLimiter(served.workers)
    threads = CallThreads()

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in schemas:
            # The spec: a tool that does not exist is a protocol error, not a tool result.
            raise MCPError(code=types.INVALID_PARAMS, message=f"unknown tool {params.name!r}")
        async with limiter:
            result = await threads.run(served.call, params.name, params.arguments or {})
        return call_tool_result(result)

    return Server(
        served.name,
        version=fnreg_version(),
        title=f"fnreg toolset {served.toolset.name}",
        description=f"Functions of fnreg toolset {served.toolset.name!r} at {served.where}",
        instructions=(
            f"{served.name}: the trained functions of fnreg toolset {served.toolset.name!r} at {served.where}. "
            "Each call runs in fnreg's sandbox."
        ),
        get_tool_input_schema=schemas.get,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def call_tool_result(result: CallResult) -> types.CallToolResult:
    """An MCP tool result: the text an agent sees, structured content, or one error line."""
    if not result.ok:
        return types.CallToolResult(content=[types.TextContent(type="text", text=result.error or "")], is_error=True)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=result.text)], structured_content=result.structured
    )
