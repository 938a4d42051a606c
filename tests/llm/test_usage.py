"""Usage and cost accounting per call, per role and per epoch."""

from __future__ import annotations

import pytest

from fnreg.llm import Usage
from fnreg.testing.server import Message

from .conftest import USER


def test_usage_adds_and_subtracts() -> None:
    a = Usage(10, 5, 1, 0, 0.5)
    b = Usage(20, 10, 2, 1, 0.25, cached_tokens=30)
    assert a + b == Usage(30, 15, 3, 1, 0.75, 30)
    assert (a + b) - a == b
    assert (a + b).total_tokens == 45 and (a + b).billed_tokens == 15
    assert (a + Usage(1, 1, 1, 0, None)).cost_usd is None  # unknown stays unknown
    assert Usage(cost_usd=None).cost_text() == "unknown" and a.cost_text() == "$0.5000"
    assert "15 tokens" in str(a) and "cost $0.5000" in str(a)


def test_meter_totals_per_role_and_cost(serve, connect) -> None:
    server = serve(
        script=[Message("a", usage=(1000, 100)), Message("b", usage=(2000, 200)), Message("c", usage=(500_000, 50_000))]
    )
    prices = {"scripted-model": (0.15, 0.60), "big-model": (10.0, 30.0)}
    client = connect(server, optimizer_model="big-model", prices=prices)
    agent1 = client.complete(USER)
    before = client.usage.snapshot()
    agent2 = client.complete(USER)
    optimizer = client.complete(USER, role="optimizer")

    assert agent1.usage == Usage(1000, 100, 1, 0, pytest.approx((1000 * 0.15 + 100 * 0.60) / 1e6))
    assert optimizer.usage.cost_usd == pytest.approx(5.0 + 1.5)
    agent = client.usage.role("agent")
    assert (agent.prompt_tokens, agent.completion_tokens, agent.calls) == (3000, 300, 2)
    assert client.usage.total.total_tokens == 3300 + 550_000
    assert client.usage.total.cost_usd == pytest.approx(agent1.usage.cost_usd + agent2.usage.cost_usd + 6.5)

    epoch = client.usage.snapshot() - before
    assert epoch.total.calls == 2 and epoch.role("agent").prompt_tokens == 2000
    assert epoch.role("optimizer").completion_tokens == 50_000


def test_unknown_price_is_unknown_not_zero(serve, connect) -> None:
    client = connect(serve())
    completion = client.complete(USER)
    assert completion.usage.cost_usd is None
    assert client.usage.total.cost_usd is None and "cost unknown" in str(client.usage.total)
