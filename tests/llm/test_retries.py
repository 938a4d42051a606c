"""Retries, backoff and the errors that end them, through the real openai client."""

from __future__ import annotations

import time

import pytest

from fnreg.errors import LLMError
from fnreg.llm import LLMRequestRejected, LLMUnavailable, MalformedCompletion
from fnreg.testing.server import Fault

from .conftest import USER


def test_429_twice_then_success(serve, connect) -> None:
    server = serve(script=[Fault(status=429), Fault(status=429), "4"])
    client = connect(server, backoff_base=0.05)
    started = time.monotonic()
    completion = client.complete(USER)
    assert completion.content == "4"
    assert len(server.requests) == 3
    # Two backoffs of base * 2**k * jitter(0.5..1): at least 0.025 + 0.05 seconds.
    assert time.monotonic() - started >= 0.07
    assert client.usage.total.calls == 1  # failed attempts are not calls


def test_retry_after_is_honoured(serve, connect) -> None:
    server = serve(script=[Fault(status=503, retry_after=0.3), "ok"])
    client = connect(server)  # backoff_base is 1 ms: only Retry-After explains the wait
    started = time.monotonic()
    assert client.complete(USER).content == "ok"
    assert time.monotonic() - started >= 0.3


def test_500_forever_gives_up_with_a_clear_error(serve, connect) -> None:
    server = serve(lambda request: Fault(status=500, message="engine on fire"))
    client = connect(server, max_retries=4)
    with pytest.raises(LLMUnavailable) as error:
        client.complete(USER)
    assert len(server.requests) == 5  # the first attempt plus max_retries
    message = str(error.value)
    assert server.base_url in message and "HTTP 500" in message and "engine on fire" in message
    assert "5 attempts" in message and "\n" not in message
    assert error.value.status == 500 and error.value.attempts == 5
    assert isinstance(error.value, LLMError)


def test_zero_retries_is_one_attempt(serve, connect) -> None:
    server = serve(lambda request: Fault(status=502))
    with pytest.raises(LLMUnavailable, match="after 1 attempt:"):
        connect(server, max_retries=0).complete(USER)
    assert len(server.requests) == 1


def test_timeouts_are_retried(serve, connect) -> None:
    server = serve(script=[Fault(delay=1.0), Fault(delay=1.0), "late but fine"])
    client = connect(server, timeout=0.2)
    assert client.complete(USER).content == "late but fine"
    assert len(server.requests) == 3


def test_timeouts_forever(serve, connect) -> None:
    server = serve(lambda request: Fault(delay=1.0))
    with pytest.raises(LLMUnavailable, match=r"3 attempts: no answer within the 0.2s timeout"):
        connect(server, timeout=0.2, max_retries=2).complete(USER)


def test_dropped_connections_are_retried(serve, connect) -> None:
    server = serve(script=[Fault(drop=True), Fault(drop=True), "ok"])
    assert connect(server).complete(USER).content == "ok"
    assert len(server.requests) == 3


def test_stopped_server_is_unavailable(serve, connect) -> None:
    server = serve()
    client = connect(server, max_retries=1)
    server.stop()
    with pytest.raises(LLMUnavailable, match="connection failed"):
        client.complete(USER)


DEEP_BODY = '{"choices": ' + "[" * 20_000 + "]" * 20_000 + "}"


@pytest.mark.parametrize(
    "fault",
    [
        Fault(malformed=True),
        Fault(body="{not json"),
        Fault(body='{"choices": [{}]}'),
        Fault(body=DEEP_BODY),  # used to raise RecursionError out of the client
        Fault(body='{"choices": [], "n": ' + "9" * 5000 + "}"),  # past Python's integer-string limit
    ],
    ids=["no-choices", "not-json", "no-message", "nested-20000-deep", "huge-number"],
)
def test_malformed_bodies_are_retried_then_reported(serve, connect, fault: Fault) -> None:
    server = serve(lambda request: fault)
    with pytest.raises(MalformedCompletion) as error:
        connect(server, max_retries=2).complete(USER)
    assert len(server.requests) == 3
    assert "3 attempts" in str(error.value) and "chat-completions protocol" in str(error.value)


def test_malformed_once_then_fine(serve, connect) -> None:
    server = serve(script=[Fault(body="<html>bad gateway</html>"), "ok"])
    assert connect(server).complete(USER).content == "ok"


def test_a_deeply_nested_body_then_a_good_one(serve, connect) -> None:
    server = serve(script=[Fault(body=DEEP_BODY), "ok"])
    assert connect(server).complete(USER).content == "ok"


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (400, "support these parameters"),
        (401, "check the API key"),
        (403, "may use model"),
        (404, "check the model name"),
    ],
)
def test_client_errors_are_not_retried(serve, connect, status: int, hint: str) -> None:
    server = serve(lambda request: Fault(status=status))
    with pytest.raises(LLMRequestRejected) as error:
        connect(server).complete(USER)
    assert len(server.requests) == 1
    assert f"HTTP {status}" in str(error.value) and hint in str(error.value)
    assert error.value.status == status


def test_wrong_key_is_a_401_naming_the_key(serve, connect) -> None:
    server = serve(api_key="right")
    with pytest.raises(LLMRequestRejected, match="Incorrect API key.*check the API key"):
        connect(server, api_key="wrong").complete(USER)
    assert connect(server, api_key="right").complete(USER).content == "echo: What is 2 + 2?"
