"""Running an MCP server over stdio or streamable HTTP until Ctrl-C or SIGTERM.

HTTP binds to a loopback address unless a bearer token is set (fnreg never runs an
unauthenticated server on a public interface), and always keeps the MCP SDK's DNS-rebinding
protection on: only the Host and Origin values of the bound address (and any extra ones the
caller allows) are accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import os
import signal
import socket
import stat
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import anyio
from mcp.server import Server
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings

from fnreg.errors import InputError

#: Seconds a stopping HTTP server waits for calls in flight before it cancels them.
GRACEFUL_SECONDS = 2.0
#: Longest JSON-RPC message read from stdin (a line).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------- stdio


def run_stdio(server: Server[Any]) -> None:
    """Serve one client over this process's stdin and stdout until EOF, Ctrl-C or SIGTERM."""
    anyio.run(_serve_stdio, server)


async def _serve_stdio(server: Server[Any]) -> None:
    async with anyio.create_task_group() as group:
        group.start_soon(_cancel_on_signal, group.cancel_scope)
        async with _event_loop_stdio() as (stdin, stdout):
            async with stdio_server(stdin=stdin, stdout=stdout) as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())
        group.cancel_scope.cancel()  # EOF: the client is gone


async def _cancel_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            scope.cancel()
            return


@contextlib.asynccontextmanager
async def _event_loop_stdio() -> AsyncIterator[tuple[Any, Any]]:
    """stdin and stdout as pipes of the event loop itself, or (None, None) to let the SDK do it.

    The SDK reads and writes through worker threads. A read in a thread cannot be interrupted,
    so a server stopped by a signal while its client keeps stdin open would wait in it at exit,
    and every message would pay two thread hops. Pipes watched by the event loop avoid both.
    Like the SDK, the wire moves to a private descriptor and fd 1 points at stderr meanwhile,
    so nothing printed by accident can corrupt the protocol. What the event loop cannot watch
    (a regular file, /dev/null) is left to the SDK.
    """
    opened = await _open_pipes() if _watchable(0) and _watchable(1) else None
    if opened is None:
        yield None, None
        return
    reader, (read_transport, write_transport, writer) = opened
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield _lines(reader), _PipeWriter(writer)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        read_transport.close()
        write_transport.close()


async def _open_pipes() -> tuple[asyncio.StreamReader, tuple[Any, Any, asyncio.StreamWriter]] | None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
    stdin = os.fdopen(os.dup(0), "rb", buffering=0)
    stdout = os.fdopen(os.dup(1), "wb", buffering=0)
    read_transport = None
    try:
        read_transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
        write_transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, stdout)
    except (OSError, ValueError):  # e.g. epoll refuses the descriptor
        if read_transport is not None:
            read_transport.close()
        stdin.close()
        stdout.close()
        return None
    writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
    return reader, (read_transport, write_transport, writer)


def _watchable(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


async def _lines(reader: asyncio.StreamReader) -> AsyncIterator[str]:
    while line := await reader.readline():
        yield line.decode("utf-8", errors="replace")


class _PipeWriter:
    """The two methods the SDK's stdio transport calls on its stdout."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))
        await self._writer.drain()

    async def flush(self) -> None:
        pass  # nothing is buffered: write() hands every byte to the pipe transport


# ----------------------------------------------------------------------------------------- http


def check_exposure(host: str, auth_token: str | None) -> None:
    """Refuse an unauthenticated server on anything but a loopback address."""
    if not is_loopback(host) and not auth_token:
        raise InputError(
            f"--host {host} is not a loopback address: add --auth-token (a bearer token clients must send), "
            "or serve on 127.0.0.1"
        )


class StaticBearerToken:
    """The MCP SDK's TokenVerifier for one shared secret (compared in constant time)."""

    def __init__(self, token: str) -> None:
        self._token = token.encode("utf-8")

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode("utf-8"), self._token):
            return AccessToken(token=token, client_id="fnreg-serve", scopes=[])
        return None


def http_security(host: str, port: int, allowed_hosts: Sequence[str] = ()) -> TransportSecuritySettings:
    """DNS-rebinding protection for ``host:port``: Host and Origin must name this server."""
    names = ["127.0.0.1", "localhost", "[::1]"]
    bound = f"[{host}]" if ":" in host and not host.startswith("[") else host
    if bound not in names and not _is_unspecified(host):
        names.append(bound)
    hosts = [f"{name}:{port}" for name in names] + list(allowed_hosts)
    origins = [f"{scheme}://{value}" for value in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port), bound before anything is announced."""
    try:
        return socket.create_server(
            (host.strip("[]"), port), family=socket.AF_INET6 if ":" in host else socket.AF_INET, reuse_port=False
        )
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def run_http(
    server: Server[Any],
    listener: socket.socket,
    *,
    auth_token: str | None = None,
    allowed_hosts: Sequence[str] = (),
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve streamable HTTP at ``/mcp`` on ``listener`` until Ctrl-C or SIGTERM."""
    import uvicorn  # only the HTTP transport needs it

    host, port = listener.getsockname()[:2]
    check_exposure(host, auth_token)
    shown = f"[{host}]" if ":" in host else host
    auth: dict[str, Any] = {}
    if auth_token:
        auth = {
            "auth": AuthSettings(issuer_url=f"http://{shown}:{port}", resource_server_url=None),
            "token_verifier": StaticBearerToken(auth_token),
        }
    app = server.streamable_http_app(host=host, transport_security=http_security(host, port, allowed_hosts), **auth)
    config = uvicorn.Config(
        app, log_level="warning", timeout_graceful_shutdown=int(GRACEFUL_SECONDS), lifespan="on", access_log=False
    )
    if on_ready is not None:
        on_ready(f"http://{shown}:{port}/mcp")
    uvicorn.Server(config).run(sockets=[listener])
