"""``fnreg serve``: a toolset at a git ref as an MCP server (stdio or streamable HTTP)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import click

from fnreg.commands.common import open_registry, sandbox_option, sandbox_setting
from fnreg.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


@click.command("serve")
@click.option("--toolset", "-t", required=True, help="Toolset to serve.")
@click.option("--ref", help="Serve the toolset at this commit, branch or tag (default: working tree).")
@click.option(
    "--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True, help="How clients connect."
)
@click.option("--host", help=f"HTTP: address to listen on [default: {DEFAULT_HOST}]; others need --auth-token.")
@click.option("--port", type=click.IntRange(0, 65535), help=f"HTTP: port (0: any free one) [default: {DEFAULT_PORT}].")
@click.option(
    "--auth-token",
    envvar="FNREG_SERVE_TOKEN",
    help="HTTP: bearer token every request must carry (else FNREG_SERVE_TOKEN).",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="HOST:PORT",
    help="HTTP: a further Host header to accept (DNS-rebinding protection), e.g. my-box:8000. Repeatable.",
)
@click.option(
    "--workers", type=click.IntRange(1, 64), default=4, show_default=True, help="Sandbox workers: calls run at once."
)
@sandbox_option
@click.pass_context
def serve_command(
    ctx: click.Context,
    toolset: str,
    ref: str | None,
    transport: str,
    host: str | None,
    port: int | None,
    auth_token: str | None,
    allowed_hosts: tuple[str, ...],
    workers: int,
    sandbox_mode: str | None,
) -> None:
    """Serve TOOLSET's functions at REF to MCP clients; every call runs in fnreg's sandbox.

    The ref is resolved once, at start: the server keeps serving that commit's code whatever
    happens to the branch or the working tree. Ctrl-C or SIGTERM stops it with its workers.
    """
    # The MCP SDK is imported here, not at module level: `fnreg --version` must stay fast.
    from fnreg.serve import ServedToolset
    from fnreg.serve.server import build_server
    from fnreg.serve.transports import bind, check_exposure, run_http, run_stdio

    if transport == "stdio":
        given = [
            name for name, value in (("--host", host), ("--port", port), ("--allowed-host", allowed_hosts)) if value
        ]
        if given:
            raise InputError(f"{given[0]} applies to --transport http only")
    else:
        host = host or DEFAULT_HOST
        check_exposure(host, auth_token)
    registry = open_registry(ctx)
    mode = sandbox_setting(registry.root, sandbox_mode)
    served_toolset = ServedToolset(toolset, ref=ref, repo=registry.root, workers=workers, mode=mode)
    with _sigterm_as_interrupt(), served_toolset as served:
        _announce(served)
        server = build_server(served)
        try:
            if transport == "stdio":
                _say(f"{served.name}: serving over stdio (Ctrl-C stops)")
                run_stdio(server)
            else:
                listener = bind(host or DEFAULT_HOST, DEFAULT_PORT if port is None else port)
                ready = lambda url: _say(f"{served.name}: serving at {url} (Ctrl-C stops)")  # noqa: E731
                run_http(server, listener, auth_token=auth_token, allowed_hosts=allowed_hosts, on_ready=ready)
        except KeyboardInterrupt:
            pass
    _say(f"{served.name}: stopped")


def _announce(served) -> None:
    names = ", ".join(served.toolset.names) or "none"
    count = f"{len(served.toolset)} tool{'' if len(served.toolset) == 1 else 's'}"
    _say(f"{served.name}: {count} from toolset {served.toolset.name!r} at {served.where}: {names}")
    for path, problem in served.toolset.problems.items():
        _say(f"{served.name}: not served: {path}: {problem}")


def _say(message: str) -> None:
    click.echo(message, err=True)  # stdout carries the protocol on stdio


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the server the way Ctrl-C does (the default would skip every clean-up)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
