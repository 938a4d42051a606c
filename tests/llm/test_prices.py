"""Built-in prices: dated, OpenAI's endpoint only, overridden by [tool.fnreg.prices]."""

from __future__ import annotations

from pathlib import Path

import pytest

from fnreg.llm import LLMClient, LLMSettings
from fnreg.llm.prices import BUILTIN_PRICES, PRICES_AS_OF, builtin_price

from .conftest import USER


@pytest.fixture(autouse=True)
def no_endpoint_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_VERSION", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_common_openai_models_have_dated_prices() -> None:
    assert PRICES_AS_OF.count("-") == 2
    assert builtin_price("gpt-4o-mini") == (0.15, 0.60) and builtin_price("gpt-4o") == (2.50, 10.00)
    assert builtin_price("gpt-4o-mini-2024-07-18") == (0.15, 0.60)  # a dated snapshot: its model's price
    assert builtin_price("gpt-4o-2024-05-13") == (5.00, 15.00)  # unless the snapshot has its own
    assert builtin_price("my-finetune") is None
    assert all(prompt <= completion for prompt, completion in BUILTIN_PRICES.values())


def test_built_in_prices_apply_to_openai_only() -> None:
    assert LLMSettings(model="gpt-4o-mini").price_for("gpt-4o-mini") == (0.15, 0.60)
    assert LLMSettings(base_url="https://api.openai.com/v1/").price_for("gpt-4o") == (2.50, 10.00)
    assert LLMSettings(base_url="http://localhost:11434/v1").price_for("gpt-4o-mini") is None  # Ollama
    azure = LLMSettings(base_url="https://r.openai.azure.com", api_version="2024-10-21")
    assert azure.price_for("gpt-4o-mini") is None  # a deployment name; Azure's prices are its own


def test_pyproject_prices_override_and_add(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fnreg.prices]\n"gpt-4o-mini" = [0.1, 0.2]\n"local" = [0, 0]\n')
    settings = LLMSettings.from_env(tmp_path)
    assert settings.price_for("gpt-4o-mini") == (0.1, 0.2) and settings.price_for("local") == (0.0, 0.0)
    assert settings.price_for("gpt-4o") == (2.50, 10.00)


def test_a_loopback_server_serving_an_openai_model_name_costs_unknown(serve) -> None:
    server = serve(script=["4"])
    with LLMClient(LLMSettings(base_url=server.base_url, model="gpt-4o-mini")) as client:
        assert client.complete(USER).usage.cost_usd is None
