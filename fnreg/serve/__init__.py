"""Serving a trained toolset to agents outside fnreg: an MCP server, and the framework adapters' core.

- :class:`ServedToolset` (``toolset.py``): the toolset at one ref, resolved once and exported,
  described from source, every call validated and run in the sandbox. No MCP here, so the
  adapters (:mod:`fnreg.adapters`) use it without the MCP SDK.
- ``server.py``: the MCP server (the SDK's low-level ``mcp.server.Server``) built from it.
- ``transports.py``: stdio and streamable HTTP, with bearer auth and DNS-rebinding protection.

This layer sits beside the CLI: it uses the registry and the sandbox, and neither of them
(nor anything else in fnreg but the ``serve`` command) imports it.
"""

from fnreg.serve.toolset import CallResult, ServedToolset

__all__ = ["CallResult", "ServedToolset"]
