"""A loopback, OpenAI-compatible chat-completions server for tests and the offline demo.

The real ``openai`` client talks to it over HTTP on 127.0.0.1, so retries, timeouts,
tool-call parsing and concurrency are exercised for real without any LLM endpoint::

    with ChatServer(script=["hello", tool_call("add", {"a": 1}), Fault(status=429)]) as server:
        client = LLMClient(LLMSettings(base_url=server.base_url, model="scripted-model"))

Replies come from ``script`` (consumed in order) and then from ``policy`` (a function of the
request body). With neither, the server echoes the last message. Any path ending in
``/chat/completions`` is served, so an Azure-style deployment URL works too.
"""

from __future__ import annotations

import itertools
import json
import math
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union

__all__ = ["ChatServer", "Fault", "FunctionCall", "Message", "Reply", "text", "tool_call"]


@dataclass
class FunctionCall:
    """One tool call the scripted assistant makes; ``arguments`` is sent verbatim (raw JSON text)."""

    name: str
    arguments: str = "{}"
    id: str | None = None


@dataclass
class Message:
    """An assistant message: text, tool calls, or both.

    ``tool_calls`` accepts :class:`FunctionCall` objects, messages built with :func:`tool_call`
    (their calls are merged), or ``{"name", "arguments", "id"}`` dicts. ``finish_reason`` and
    ``usage`` (prompt, completion tokens) override what the server would compute.
    """

    content: str | None = None
    tool_calls: list[Any] = field(default_factory=list)
    finish_reason: str | None = None
    usage: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.tool_calls = list(_flatten_calls(self.tool_calls))


@dataclass
class Fault:
    """A failure to inject instead of a completion.

    - ``status``: answer with this HTTP status and an OpenAI-style error body (429, 500, 401...).
    - ``delay``: sleep this long first (longer than the client's timeout = a timeout). A fault
      with only a delay answers 504 afterwards, as a proxy would.
    - ``malformed``: answer 200 with a JSON object that has no ``choices``.
    - ``body``: answer 200 with exactly this text (e.g. ``"{not json"``).
    - ``drop``: close the connection without any response.
    - ``retry_after``: seconds to put in a ``Retry-After`` header.
    """

    status: int | None = None
    delay: float = 0.0
    malformed: bool = False
    drop: bool = False
    retry_after: float | None = None
    body: str | None = None
    message: str | None = None


Reply = Union[str, Message, Fault]
Policy = Callable[[dict[str, Any]], Reply]


def text(content: str) -> Message:
    """An assistant reply with plain text (finish_reason "stop")."""
    return Message(content=content)


def tool_call(
    name: str, arguments: str | dict[str, Any], *, content: str | None = None, id: str | None = None
) -> Message:
    """An assistant reply calling one tool; a dict ``arguments`` is JSON-encoded."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return Message(content=content, tool_calls=[FunctionCall(name=name, arguments=raw, id=id)])


def _flatten_calls(calls: Iterable[Any]) -> Iterator[FunctionCall]:
    for call in calls:
        if isinstance(call, FunctionCall):
            yield call
        elif isinstance(call, Message):
            yield from call.tool_calls
        elif isinstance(call, dict):
            args = call.get("arguments", "{}")
            yield FunctionCall(call["name"], args if isinstance(args, str) else json.dumps(args), call.get("id"))
        else:
            raise TypeError(f"not a tool call: {call!r}")


def echo_policy(request: dict[str, Any]) -> Reply:
    """The default policy: repeat the last message's text."""
    messages = request.get("messages") or [{}]
    content = messages[-1].get("content")
    return f"echo: {content if isinstance(content, str) else json.dumps(content)}"


def _estimate_tokens(value: Any) -> int:
    # Deterministic and dependency-free; roughly a GPT tokenizer's 4 characters per token.
    if value is None:
        return 0
    text_ = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return math.ceil(len(text_) / 4)


class ChatServer:
    """An OpenAI-compatible chat-completions server on 127.0.0.1, driven by a script or a policy.

    ``requests`` holds every chat-completion request body in arrival order; ``max_in_flight``
    is the highest number of completions being answered at once. ``api_key``, when set,
    makes the server answer 401 to any other bearer token.
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        script: Iterable[Reply] | None = None,
        latency: float = 0.0,
        model_names: Sequence[str] = ("scripted-model",),
        api_key: str | None = None,
    ) -> None:
        self.policy = policy
        self.latency = latency
        self.model_names = tuple(model_names)
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.max_in_flight = 0
        self._script: list[Reply] = list(script or [])
        self._scripted = None if script is None else len(self._script)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._ids = itertools.count(1)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("ChatServer is not started; call start() or use it as a context manager")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ChatServer:
        if self._httpd is not None:
            return self
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="ChatServer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        # Keep-alive connections outlive serve_forever: cut them so a stopped server is really gone.
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering ---------------------------------------------------------------------------

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._script:
                return self._script.pop(0)
        if self.policy is not None:
            return self.policy(body)
        if self._scripted is not None:
            return Fault(status=500, message=f"script exhausted: all {self._scripted} scripted replies were used")
        return echo_policy(body)

    def _record(self, path: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(body)
            self.paths.append(path)

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def completion(self, body: dict[str, Any], message: Message) -> dict[str, Any]:
        """The completion object answering ``body`` with ``message``."""
        n = next(self._ids)
        calls = [
            {
                "id": call.id or f"call_{n}_{i}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for i, call in enumerate(message.tool_calls)
        ]
        reply: dict[str, Any] = {"role": "assistant", "content": message.content}
        if calls:
            reply["tool_calls"] = calls
        if message.usage is not None:
            prompt, completion = message.usage
        else:
            prompt = sum(4 + _estimate_tokens(m) for m in body.get("messages", [])) + _estimate_tokens(
                body.get("tools")
            )
            completion = max(1, _estimate_tokens(message.content) + _estimate_tokens(calls))
        return {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model_names[0]),
            "choices": [
                {
                    "index": 0,
                    "message": reply,
                    "finish_reason": message.finish_reason or ("tool_calls" if calls else "stop"),
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256  # the default backlog (5) drops connections under 64 concurrent clients

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], chat: ChatServer) -> None:
        self.chat = chat
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(conn)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or hang up mid-answer are expected here; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle + delayed ACK add 40 ms each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: tests and the demo must not spam stderr

    # -- routes ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if not path.endswith("/models"):
            return self._error(404, f"no route for GET {path}; ChatServer serves /v1/models and /v1/chat/completions")
        models = [
            {"id": name, "object": "model", "created": 0, "owned_by": "fnreg"} for name in self.server.chat.model_names
        ]
        self._json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        chat = self.server.chat
        path = self.path.split("?", 1)[0].rstrip("/")
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not path.endswith("/chat/completions"):
            return self._error(404, f"no route for POST {path}; ChatServer serves /v1/chat/completions")
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return self._error(400, "request body is not valid JSON")
        if not isinstance(body, dict):
            return self._error(400, "request body must be a JSON object")
        chat._record(path, body)
        if chat.api_key is not None and self.headers.get("Authorization") != f"Bearer {chat.api_key}":
            return self._error(401, "Incorrect API key provided", kind="invalid_request_error", code="invalid_api_key")
        if body.get("stream"):
            return self._error(400, "streaming is not supported by ChatServer; send stream=false")
        if not isinstance(body.get("messages"), list) or not body["messages"] or not body.get("model"):
            return self._error(400, "'model' and a non-empty 'messages' list are required")
        chat._enter()
        try:
            if chat.latency:
                time.sleep(chat.latency)
            self._answer(body)
        finally:
            chat._leave()

    def _answer(self, body: dict[str, Any]) -> None:
        chat = self.server.chat
        try:
            reply = chat._next_reply(body)
        except Exception as exc:  # a broken policy is reported to the client, not swallowed
            return self._error(500, f"policy raised {type(exc).__name__}: {exc}", kind="server_error")
        if isinstance(reply, Fault):
            return self._fault(reply)
        message = Message(content=reply) if isinstance(reply, str) else reply
        self._json(200, chat.completion(body, message))

    def _fault(self, fault: Fault) -> None:
        if fault.delay:
            time.sleep(fault.delay)
        if fault.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        if fault.body is not None:
            return self._send(200, fault.body.encode(), "application/json", headers)
        if fault.malformed:
            return self._json(200, {"id": "chatcmpl-malformed", "object": "chat.completion", "model": "?"}, headers)
        status = fault.status or 504
        kind = "rate_limit_error" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
        self._error(status, fault.message or _default_message(status), kind=kind, headers=headers)

    # -- writing -----------------------------------------------------------------------------

    def _error(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        error = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        self._json(status, error, headers)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers or {})

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client gave up (timeout); nothing to answer


def _default_message(status: int) -> str:
    return {
        401: "Incorrect API key provided",
        404: "The model does not exist or you do not have access to it",
        429: "Rate limit reached; please retry after a short wait",
        500: "The server had an error while processing your request",
        502: "Bad gateway",
        503: "The engine is currently overloaded",
        504: "Upstream timed out",
    }.get(status, f"injected HTTP {status}")
