"""Settings of the LLM layer, layered from flags, the environment and ``[tool.fnreg]``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from fnreg.config import default, project_section
from fnreg.errors import ConfigError
from fnreg.llm.config import LLMConfig

__all__ = ["LLMSettings", "env_values", "llm_settings", "settings_from_env"]


@dataclass(frozen=True)
class LLMSettings:
    """How to reach the chat-completions endpoint, and how hard to try.

    Attributes:
        base_url: Endpoint root, e.g. ``http://localhost:8000/v1`` for vLLM; None = OpenAI.
            With ``api_version`` set it is the Azure resource endpoint.
        api_key: Bearer key. May be omitted when ``base_url`` is set (local servers).
        model: The agent's model (Azure: the deployment name).
        optimizer_model: The optimizer's model; None = ``model``.
        concurrency: Most requests in flight at once, across all threads sharing the client.
        timeout: Seconds one HTTP attempt may take before it counts as a timeout.
        temperature: Default sampling temperature; responses are cached only at 0.
        max_retries: Retries after the first attempt on 429, 5xx, timeouts, dropped
            connections and malformed bodies (0 = a single attempt).
        backoff_base: First backoff in seconds; doubles per retry, with jitter, capped at 60 s.
            A ``Retry-After`` header from the server is honoured when longer.
        cache_path: SQLite response cache; None disables caching.
        record_path: JSONL cassette every exchange is appended to; None = no recording.
        replay_path: JSONL cassette to answer from; the network is never used.
        prices: ``model -> (USD per 1M prompt tokens, USD per 1M completion tokens)``, over
            fnreg's dated built-in prices of OpenAI's models (:mod:`fnreg.llm.prices`, used only
            against OpenAI's own endpoint); other models have an unknown cost.
        api_version: Set for Azure OpenAI (uses ``AzureOpenAI`` with ``azure_endpoint=base_url``).
        organization, project: OpenAI organisation and project ids, sent with each request.
        cache_namespace: Keeps these answers apart in the cache from anyone else's on the same
            endpoint (cached answers are keyed by endpoint, API version, organisation and project).

    Endpoint fields left unset (``api_key``, ``base_url``, ``api_version``, ``organization``,
    ``project``) are read by the client from the openai SDK's own environment variables
    (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``...). Everything the CLI reads (``FNREG_*``
    variables, ``[tool.fnreg]``) comes with :meth:`from_env`.
    """

    base_url: str | None = default(LLMConfig, "base_url")
    api_key: str | None = None
    model: str = default(LLMConfig, "model")
    optimizer_model: str | None = default(LLMConfig, "optimizer_model")
    concurrency: int = default(LLMConfig, "concurrency")
    timeout: float = default(LLMConfig, "timeout")
    temperature: float = default(LLMConfig, "temperature")
    max_retries: int = default(LLMConfig, "max_retries")
    backoff_base: float = 1.0
    cache_path: Path | None = None
    record_path: Path | None = None
    replay_path: Path | None = None
    prices: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    api_version: str | None = default(LLMConfig, "api_version")
    organization: str | None = default(LLMConfig, "organization")
    project: str | None = default(LLMConfig, "project")
    cache_namespace: str | None = default(LLMConfig, "cache_namespace")

    @classmethod
    def from_env(cls, root: str | os.PathLike[str] = ".", **overrides: Any) -> LLMSettings:
        """Settings as ``fnreg`` commands make them in repository ``root``.

        Precedence: non-None ``overrides`` > environment variables (``OPENAI_API_KEY`` or the
        ``api_key_env`` named in ``[tool.fnreg]``, ``OPENAI_BASE_URL``, ``FNREG_MODEL``...) >
        ``[tool.fnreg]`` of ``root/pyproject.toml`` > defaults. Answers are cached in
        ``root/.fnreg/cache.sqlite`` unless ``[tool.fnreg] cache = false`` or ``cache_path`` is given.

        >>> LLMSettings.from_env(".", model="gpt-4o-mini")  # doctest: +SKIP
        """
        cache = overrides.pop("cache_path", None) or Path(root) / ".fnreg" / "cache.sqlite"
        return llm_settings(Path(root), cache_path=cache, **overrides)

    def __repr__(self) -> str:  # never print the key
        shown = ", ".join(
            f"{f.name}={'***' if f.name == 'api_key' and self.api_key else repr(getattr(self, f.name))}"
            for f in fields(self)
        )
        return f"LLMSettings({shown})"

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be positive seconds, got {self.timeout}")
        if self.max_retries < 0:
            raise ConfigError(f"max_retries must be 0 or more, got {self.max_retries}")
        if self.backoff_base < 0:
            raise ConfigError(f"backoff_base must be 0 or more seconds, got {self.backoff_base}")
        for name in ("cache_path", "record_path", "replay_path"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))  # accept str paths from callers

    def model_for(self, role: str) -> str:
        """The model a role uses by default: the optimizer's own if set, else ``model``."""
        if role == "optimizer" and self.optimizer_model:
            return self.optimizer_model
        return self.model

    def price_for(self, model: str) -> tuple[float, float] | None:
        """USD per 1M (prompt, completion) tokens for ``model``, or None when unknown.

        ``prices`` first, then fnreg's built-in prices when the endpoint is OpenAI's own.
        """
        if model in self.prices:
            return self.prices[model]
        from .endpoint import resolve_endpoint
        from .prices import builtin_price

        return builtin_price(model) if resolve_endpoint(self).is_openai else None

    def with_overrides(self, **overrides: Any) -> LLMSettings:
        """A copy with the non-None ``overrides`` applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


# Environment variable -> (field, parser). OPENAI_* names are the ones the SDK and most
# OpenAI-compatible tools already use; FNREG_* are ours.
_ENV: dict[str, tuple[str, Callable[[str], Any]]] = {
    "OPENAI_BASE_URL": ("base_url", str),
    "OPENAI_API_VERSION": ("api_version", str),
    "OPENAI_ORG_ID": ("organization", str),
    "OPENAI_PROJECT_ID": ("project", str),
    "FNREG_CACHE_NAMESPACE": ("cache_namespace", str),
    "FNREG_MODEL": ("model", str),
    "FNREG_OPTIMIZER_MODEL": ("optimizer_model", str),
    "FNREG_CONCURRENCY": ("concurrency", int),
    "FNREG_TIMEOUT": ("timeout", float),
    "FNREG_MAX_RETRIES": ("max_retries", int),
    "FNREG_CACHE": ("cache_path", Path),
}


def settings_from_env(*, api_key_env: str = default(LLMConfig, "api_key_env"), **overrides: Any) -> LLMSettings:
    """Settings from the environment, with explicit ``overrides`` on top.

    Precedence: non-None overrides > environment > defaults. Reads ``OPENAI_BASE_URL``,
    the key from ``api_key_env`` (default ``OPENAI_API_KEY``), ``OPENAI_API_VERSION``,
    ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``, ``FNREG_MODEL``, ``FNREG_OPTIMIZER_MODEL``,
    ``FNREG_CONCURRENCY``, ``FNREG_TIMEOUT``, ``FNREG_MAX_RETRIES``, ``FNREG_CACHE`` and
    ``FNREG_CACHE_NAMESPACE``. Empty variables count as unset. (``[tool.fnreg]`` too:
    :meth:`LLMSettings.from_env`.)
    """
    known = {f.name for f in fields(LLMSettings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown LLM setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values = env_values(api_key_env=api_key_env)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return LLMSettings(**values)


def env_values(*, api_key_env: str = default(LLMConfig, "api_key_env")) -> dict[str, Any]:
    """Only the settings the environment sets (for layering under command-line flags)."""
    values: dict[str, Any] = {}
    for var, (name, parse) in _ENV.items():
        raw = os.environ.get(var, "").strip()
        if raw:
            values[name] = _parse(var, raw, parse)
    key = os.environ.get(api_key_env, "").strip()
    if key:
        values["api_key"] = key
    return values


def _parse(var: str, raw: str, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(raw)
    except ValueError:
        kind = "an integer" if parse is int else "a number" if parse is float else "valid"
        raise ConfigError(f"environment variable {var} must be {kind}, got {raw!r}") from None


#: ``[tool.fnreg]`` keys that are LLMSettings fields of the same name.
_PROJECT_KEYS = (
    "model",
    "optimizer_model",
    "base_url",
    "api_version",
    "organization",
    "project",
    "cache_namespace",
    "concurrency",
    "timeout",
    "temperature",
    "max_retries",
)


def llm_settings(root: Path, *, cache_path: Path | None = None, **flags: Any) -> LLMSettings:
    """Settings layered: non-None ``flags`` over the environment over ``[tool.fnreg]`` over the defaults.

    ``cache_path``: where the caller keeps the response cache (fnreg's commands: ``.fnreg/cache.sqlite``);
    used unless ``[tool.fnreg] cache = false``.
    """
    project = project_section(root, LLMConfig)
    values: dict[str, Any] = {key: getattr(project, key) for key in _PROJECT_KEYS if key in project.model_fields_set}
    if project.prices:
        values["prices"] = {model: (pair[0], pair[1]) for model, pair in project.prices.items()}
    if project.cache and cache_path is not None:
        values["cache_path"] = cache_path
    values.update(env_values(api_key_env=project.api_key_env))
    values.update({k: v for k, v in flags.items() if v is not None})
    return LLMSettings(**values)
