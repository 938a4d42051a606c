"""The LLM layer: chat completions from any OpenAI-compatible endpoint.

Retries with backoff, a concurrency limit, an SQLite response cache, JSONL cassettes
(record/replay), token counting that works offline, and usage/cost accounting per role.
Knows nothing of git, agents or the trainer.

    client = LLMClient(settings_from_env(model="gpt-4o-mini"))
    completion = client.complete([{"role": "user", "content": "2+2?"}], tools=schemas)
    conversation.append(completion.message())

Names load on first use: ``fnreg.llm.usage`` alone does not import the openai SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fnreg.errors import LLMError

if TYPE_CHECKING:
    from .cache import ResponseCache, request_key
    from .cassette import CassettePlayer, CassetteRecorder
    from .client import LLMClient
    from .completion import Completion, ToolCall
    from .errors import LLMRequestRejected, LLMUnavailable, MalformedCompletion, ReplayMiss
    from .settings import LLMSettings, llm_settings, settings_from_env
    from .tokens import count_message_tokens, count_tokens
    from .usage import MeterSnapshot, Usage, UsageMeter

_LAZY = {
    "ResponseCache": "cache",
    "request_key": "cache",
    "CassettePlayer": "cassette",
    "CassetteRecorder": "cassette",
    "LLMClient": "client",
    "Completion": "completion",
    "ToolCall": "completion",
    "LLMRequestRejected": "errors",
    "LLMUnavailable": "errors",
    "MalformedCompletion": "errors",
    "ReplayMiss": "errors",
    "LLMSettings": "settings",
    "llm_settings": "settings",
    "settings_from_env": "settings",
    "count_message_tokens": "tokens",
    "count_tokens": "tokens",
    "MeterSnapshot": "usage",
    "Usage": "usage",
    "UsageMeter": "usage",
}

__all__ = [
    "CassettePlayer",
    "CassetteRecorder",
    "Completion",
    "LLMClient",
    "LLMError",
    "LLMRequestRejected",
    "LLMSettings",
    "LLMUnavailable",
    "MalformedCompletion",
    "MeterSnapshot",
    "ReplayMiss",
    "ResponseCache",
    "ToolCall",
    "Usage",
    "UsageMeter",
    "count_message_tokens",
    "count_tokens",
    "llm_settings",
    "request_key",
    "settings_from_env",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
