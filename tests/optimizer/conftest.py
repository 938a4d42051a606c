"""Fixtures for the optimizer: loopback chat servers, clients pointing at them, and actions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fnreg.llm import LLMClient, LLMSettings
from fnreg.testing.server import ChatServer

MODEL = "scripted-model"


def action(
    name: str, code: str, *, description: str | None = None, arguments: dict[str, Any] | None = None, packages: str = ""
) -> dict[str, str]:
    """Arguments of an add/revise_function call with one integer parameter ``x`` by default."""
    return {
        "name": name,
        "description": description or f"Compute {name.replace('_', ' ')} of an integer.",
        "arguments": json.dumps(arguments or {"x": {"type": "integer", "description": "The input."}}),
        "packages": packages,
        "code": code,
    }


@pytest.fixture
def connect() -> Iterator[Callable[..., LLMClient]]:
    """LLMClients for a server with millisecond backoff; all are closed at the test's end."""
    clients: list[LLMClient] = []

    def build(server: ChatServer, **overrides: Any) -> LLMClient:
        values: dict[str, Any] = {
            "base_url": server.base_url,
            "model": MODEL,
            "backoff_base": 0.001,
            "timeout": 5.0,
            "max_retries": 2,
        }
        client = LLMClient(LLMSettings(**(values | overrides)))
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
