"""The adapters serve the same repository as the MCP server's tests."""

from tests.serve.conftest import repo  # noqa: F401  (a fixture)
