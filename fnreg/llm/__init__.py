"""The LLM layer: chat completions from any OpenAI-compatible endpoint.

Retries with backoff, a concurrency limit, an SQLite response cache, JSONL cassettes
(record/replay), token counting that works offline, and usage/cost accounting per role.
Knows nothing of git, agents or the trainer.

    client = LLMClient(settings_from_env(model="gpt-4o-mini"))
    completion = client.complete([{"role": "user", "content": "2+2?"}], tools=schemas)
    conversation.append(completion.message())
"""

from fnreg.errors import LLMError

from .cache import ResponseCache, request_key
from .cassette import CassettePlayer, CassetteRecorder
from .client import LLMClient
from .completion import Completion, ToolCall
from .errors import LLMRequestRejected, LLMUnavailable, MalformedCompletion, ReplayMiss
from .settings import LLMSettings, settings_from_env
from .tokens import count_message_tokens, count_tokens
from .usage import MeterSnapshot, Usage, UsageMeter

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
    "request_key",
    "settings_from_env",
]
