"""Settings: the environment, overrides, and a missing endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from fnreg.errors import ConfigError
from fnreg.llm import LLMClient, LLMSettings, settings_from_env

from .conftest import USER

ENV = (
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_API_VERSION",
    "FNREG_MODEL",
    "FNREG_OPTIMIZER_MODEL",
    "FNREG_CONCURRENCY",
    "FNREG_TIMEOUT",
    "FNREG_MAX_RETRIES",
    "FNREG_CACHE",
    "FNREG_CACHE_NAMESPACE",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "MY_KEY",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_no_key_and_no_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no LLM endpoint configured: set OPENAI_API_KEY .* or pass --base-url"):
        LLMClient(LLMSettings())


def test_local_base_url_needs_no_key(serve) -> None:
    server = serve()
    with LLMClient(LLMSettings(base_url=server.base_url, model="m")) as client:
        assert client.complete(USER).content == "echo: What is 2 + 2?"


def test_precedence_overrides_then_env_then_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env:8000/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    monkeypatch.setenv("FNREG_MODEL", "env-model")
    monkeypatch.setenv("FNREG_CONCURRENCY", "3")
    monkeypatch.setenv("FNREG_CACHE", "/tmp/c.sqlite")
    settings = settings_from_env(model="flag-model", base_url=None, timeout=5)
    assert settings.model == "flag-model"  # override beats env
    assert settings.base_url == "http://env:8000/v1"  # a None override does not erase env
    assert (settings.api_key, settings.concurrency, settings.timeout) == ("env-key", 3, 5)
    assert settings.cache_path == Path("/tmp/c.sqlite")
    assert settings.max_retries == 5 and settings.optimizer_model is None  # defaults
    assert settings.model_for("optimizer") == "flag-model"


def test_api_key_from_a_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "openai")
    monkeypatch.setenv("MY_KEY", "mine")
    assert settings_from_env(api_key_env="MY_KEY").api_key == "mine"


def test_bad_values_say_what_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FNREG_CONCURRENCY", "many")
    with pytest.raises(ConfigError, match="FNREG_CONCURRENCY must be an integer, got 'many'"):
        settings_from_env()
    with pytest.raises(ConfigError, match="unknown LLM setting"):
        settings_from_env(modle="x")
    with pytest.raises(ConfigError, match="concurrency must be at least 1"):
        LLMSettings(concurrency=0)


def test_azure_client_reaches_the_deployment_url(serve) -> None:
    server = serve()
    settings = LLMSettings(
        base_url=server.base_url.removesuffix("/v1"), api_key="k", api_version="2024-06-01", model="my-deployment"
    )
    with LLMClient(settings) as client:
        assert client.complete(USER).content == "echo: What is 2 + 2?"
    assert server.paths == ["/openai/deployments/my-deployment/chat/completions"]


def test_from_env_layers_like_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fnreg]\nmodel = "project-model"\ntimeout = 9.0\napi_key_env = "MY_KEY"\ncache_namespace = "team"\n'
    )
    monkeypatch.setenv("MY_KEY", "from-my-key")
    monkeypatch.setenv("FNREG_TIMEOUT", "7")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    settings = LLMSettings.from_env(tmp_path, max_retries=1)
    assert (settings.model, settings.timeout, settings.max_retries) == ("project-model", 7.0, 1)
    assert (settings.api_key, settings.organization, settings.cache_namespace) == ("from-my-key", "org-1", "team")
    assert settings.cache_path == tmp_path / ".fnreg" / "cache.sqlite"
    assert "from-my-key" not in repr(settings) and "api_key=***" in repr(settings)


def test_a_bare_settings_object_reaches_the_exported_endpoint(serve, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the openai SDK does: LLMSettings(model=...) with OPENAI_API_KEY and OPENAI_BASE_URL exported."""
    server = serve(api_key="sk-exported")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-exported")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    with LLMClient(LLMSettings(model="gpt-4o-mini")) as client:
        assert client.complete(USER).content == "echo: What is 2 + 2?"
        assert client.endpoint == server.base_url
