"""Fixtures for the LLM layer: a loopback ChatServer and settings pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fnreg.llm import LLMClient, LLMSettings
from fnreg.testing.server import ChatServer

MODEL = "scripted-model"
USER = [{"role": "user", "content": "What is 2 + 2?"}]


def fast_settings(server: ChatServer | None = None, **overrides: Any) -> LLMSettings:
    """Settings for tests: tiny backoff and a short timeout, so failures take milliseconds."""
    values: dict[str, Any] = {"model": MODEL, "backoff_base": 0.001, "timeout": 2.0, "max_retries": 3}
    if server is not None:
        values["base_url"] = server.base_url
    values.update(overrides)
    return LLMSettings(**values)


@pytest.fixture
def connect() -> Iterator[Callable[..., LLMClient]]:
    """Build LLMClients with fast settings; all are closed at the test's end."""
    clients: list[LLMClient] = []

    def build(server: ChatServer | None = None, **overrides: Any) -> LLMClient:
        client = LLMClient(fast_settings(server, **overrides))
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
