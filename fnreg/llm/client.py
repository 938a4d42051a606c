"""One chat-completions client for any OpenAI-compatible endpoint, shared by many threads.

Retries are ours, not the SDK's (it is built with ``max_retries=0``): we need to count attempts
for the error message, honour ``Retry-After`` on every retryable status, retry malformed
bodies too, release the concurrency slot while backing off, and back off in milliseconds in
tests. The SDK does the HTTP; we read the raw JSON body ourselves so that the cache, the
cassettes and the parser all see exactly what the endpoint sent.
"""

from __future__ import annotations

import copy
import dataclasses
import email.utils
import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import openai

try:  # the SDK's HTTP library: httpx2 from openai 3 on, httpx before
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older openai releases
    import httpx  # type: ignore[no-redef]

from fnreg import safe_json
from fnreg.errors import ConfigError

from .cache import ResponseCache, request_key
from .cassette import CassettePlayer, CassetteRecorder
from .completion import Completion, parse_completion
from .endpoint import OPENAI_URL, Endpoint, resolve_endpoint
from .errors import LLMRequestRejected, LLMUnavailable, MalformedCompletion
from .settings import LLMSettings
from .tokens import count_message_tokens, count_tokens
from .usage import Usage, UsageMeter, cost_of

__all__ = ["LLMClient", "check_endpoint"]

log = logging.getLogger(__name__)

# Local servers (vLLM, Ollama, llama.cpp, LM Studio) ignore the key, but the SDK wants one.
PLACEHOLDER_KEY = "fnreg-no-key"
MAX_BACKOFF = 60.0
MAX_RETRY_AFTER = 120.0
RETRYABLE_STATUS = {408, 409, 425, 429}  # plus every 5xx

AZURE_NEEDS_URL = "Azure OpenAI (api_version set) needs base_url = https://<resource>.openai.azure.com"
NO_ENDPOINT = (
    "no LLM endpoint configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a non-OpenAI endpoint) "
    "or pass --base-url"
)


@dataclasses.dataclass
class _Failure:
    """Why one attempt failed, kept for the final error message."""

    detail: str
    status: int | None = None
    retry_after: float | None = None
    malformed: bool = False


class LLMClient:
    """Chat completions with retries, a concurrency limit, caching, cassettes and accounting.

    Thread-safe: create one per run and share it. ``usage`` holds the running totals.
    """

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.usage = UsageMeter()
        self.endpoint_info = resolve_endpoint(settings)
        self.endpoint = self.endpoint_info.label  # for messages: no credentials, no query
        self._cache_parts = self.endpoint_info.cache_parts()
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._random = random.Random()
        self._player = CassettePlayer(settings.replay_path) if settings.replay_path else None
        # With a cassette to replay, no endpoint is needed and none is contacted.
        self._openai = None if self._player else _make_openai(self.endpoint_info, settings.timeout)
        self._cache = ResponseCache(settings.cache_path) if settings.cache_path else None
        self._recorder = CassetteRecorder(settings.record_path) if settings.record_path else None
        #: Keyed with every request (``repeat``): a repeat asks again instead of hitting the cache.
        self._key_parts: dict[str, Any] = {}
        self._owns_resources = True

    def variant(self, *, repeat: int = 0, temperature: float | None = None) -> LLMClient:
        """A view of this client for repeat ``repeat`` of an evaluation, optionally at another temperature.

        Repeat 0 is the plain request (it shares the cache with an ordinary evaluation); repeat
        ``i > 0`` puts its index in the cache and cassette key, so the same request is really asked
        again, and replays deterministically. The view shares the connection, the concurrency
        limit, the cache, the cassettes and ``usage``; closing it closes nothing.
        """
        if repeat == 0 and temperature is None:
            return self
        view = copy.copy(self)
        view._key_parts = {**self._key_parts, **({"repeat": repeat} if repeat else {})}
        if temperature is not None:
            view.settings = dataclasses.replace(self.settings, temperature=temperature)
        view._owns_resources = False
        return view

    # -- public ------------------------------------------------------------------------------

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        role: str = "agent",
    ) -> Completion:
        """One assistant turn for ``messages``.

        ``model`` defaults to the role's model (``optimizer_model`` for role "optimizer");
        ``temperature`` to the settings'. Usage is added to ``self.usage`` under ``role``.
        Raises an :class:`~fnreg.errors.LLMError` subclass: ``LLMUnavailable`` (retries
        exhausted), ``LLMRequestRejected`` (4xx), ``MalformedCompletion``, ``ReplayMiss``.
        """
        model = model or self.settings.model_for(role)
        request = _request(
            model=model,
            messages=messages,
            tools=tools,
            tool_choice=tool_choice,
            temperature=self.settings.temperature if temperature is None else temperature,
            max_tokens=max_tokens,
        )
        # A cassette records one endpoint's exchanges: the request (and the repeat) alone keys them.
        key = request_key(request, **self._key_parts)
        response, cached = self._respond(key, request)
        completion, usage_block = parse_completion(response, fallback_id=key[:8])
        completion.cached = cached
        completion.model = completion.model or model
        completion.usage = self._usage(model, request, completion, usage_block, cached)
        self.usage.add(role, completion.usage)
        if self._recorder is not None:
            self._recorder.append(key, request, response)
        return completion

    def close(self) -> None:
        """Release the HTTP pool, the cache's connections and the cassette file (a :meth:`variant`: nothing)."""
        if not self._owns_resources:
            return
        if self._openai is not None:
            self._openai.close()
        if self._cache is not None:
            self._cache.close()
        if self._recorder is not None:
            self._recorder.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- where the answer comes from ---------------------------------------------------------

    def _respond(self, key: str, request: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        if self._player is not None:
            return self._player.answer(key, request), True
        # Sampling at temperature > 0 is meant to differ between calls: never cache it.
        cacheable = self._cache is not None and request["temperature"] == 0
        cache_key = request_key(request, **self._cache_parts, **self._key_parts) if cacheable else ""
        if cacheable and (hit := self._cache_get(cache_key)) is not None:
            return hit, True
        response = self._fetch(request)
        if cacheable:
            self._cache_put(cache_key, request["model"], response)
        return response, False

    def _cache_get(self, key: str) -> dict[str, Any] | None:
        assert self._cache is not None
        try:
            return self._cache.get(key)
        except sqlite3.Error as exc:  # a cache problem costs money, not the run
            log.warning("response cache %s unreadable (%s); asking the endpoint", self._cache.path, exc)
            return None

    def _cache_put(self, key: str, model: str, response: dict[str, Any]) -> None:
        assert self._cache is not None
        try:
            self._cache.put(key, model, response, endpoint=self.endpoint_info.label)
        except sqlite3.Error as exc:
            log.warning("could not write response cache %s: %s", self._cache.path, exc)

    # -- the network -------------------------------------------------------------------------

    def _fetch(self, request: dict[str, Any]) -> dict[str, Any]:
        """POST the request, retrying transient failures; the validated response JSON."""
        attempts = self.settings.max_retries + 1
        failure = _Failure("no attempt made")
        for attempt in range(1, attempts + 1):
            response, failure = self._attempt(request)
            if response is not None:
                return response
            if attempt < attempts:
                delay = self._backoff(attempt, failure.retry_after)
                log.info("LLM attempt %d/%d failed (%s); retrying in %.2fs", attempt, attempts, failure.detail, delay)
                time.sleep(delay)  # outside the slot: a backing-off request is not in flight
        raise self._exhausted(request, failure, attempts)

    def _attempt(self, request: dict[str, Any]) -> tuple[dict[str, Any] | None, _Failure]:
        assert self._openai is not None
        try:
            with self._slots:
                raw = self._openai.chat.completions.with_raw_response.create(**request)
                body = raw.text
        except openai.APIStatusError as exc:
            if not _retryable(exc.status_code):
                raise LLMRequestRejected(self._rejected(exc, request), status=exc.status_code) from None
            detail = f"HTTP {exc.status_code}: {_server_message(exc)}"
            return None, _Failure(detail, exc.status_code, _retry_after(exc.response.headers))
        except openai.APITimeoutError:
            return None, _Failure(f"no answer within the {self.settings.timeout:g}s timeout")
        except openai.APIConnectionError as exc:
            return None, _Failure(f"connection failed: {_cause(exc)}")
        except httpx.HTTPError as exc:  # e.g. the connection dropped while the body was read
            return None, _Failure(f"connection failed: {type(exc).__name__}: {exc}")
        try:
            response = safe_json.loads(body)
            parse_completion(response)
        except safe_json.JSONTooDeep as exc:
            return None, _Failure(f"the body is JSON {exc}", malformed=True)
        except ValueError:
            return None, _Failure(f"the body is not JSON: {_clip(body)}", malformed=True)
        except MalformedCompletion as exc:
            return None, _Failure(str(exc), malformed=True)
        return response, _Failure("")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        # Exponential with jitter, so many threads that failed together do not retry in lockstep.
        delay = min(MAX_BACKOFF, self.settings.backoff_base * 2 ** (attempt - 1)) * self._random.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))  # at least what the server asked
        return delay

    # -- messages ----------------------------------------------------------------------------

    def _exhausted(self, request: dict[str, Any], failure: _Failure, attempts: int) -> Exception:
        where = f"LLM endpoint {self.endpoint} (model {request['model']!r})"
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        if failure.malformed:
            return MalformedCompletion(
                f"{where} sent no usable chat completion in {tries}: {failure.detail}; "
                f"check that the server speaks the OpenAI chat-completions protocol",
                attempts=attempts,
            )
        return LLMUnavailable(
            f"{where} failed after {tries}: {failure.detail}; check that the endpoint is up and not "
            f"rate-limiting, or raise --max-retries / --timeout",
            status=failure.status,
            attempts=attempts,
        )

    def _rejected(self, exc: openai.APIStatusError, request: dict[str, Any]) -> str:
        status, model = exc.status_code, request["model"]
        hint = {
            401: "check the API key (OPENAI_API_KEY or --api-key)",
            403: f"check that the API key may use model {model!r}",
            404: f"check the model name {model!r} and the base URL {self.endpoint}",
            413: "the request is too large: shorten the prompt or lower the token budget",
        }.get(
            status,
            f"check the request: does model {model!r} support these parameters (tools, temperature, max_tokens)?",
        )
        return f"LLM endpoint {self.endpoint} rejected the request with HTTP {status}: {_server_message(exc)}; {hint}"

    def _usage(
        self,
        model: str,
        request: dict[str, Any],
        completion: Completion,
        block: dict[str, Any] | None,
        cached: bool,
    ) -> Usage:
        prompt, answer = _reported_tokens(block)
        if prompt is None or answer is None:  # some local servers send no usage: estimate it
            prompt = count_message_tokens(request["messages"], request.get("tools"), model)
            answer = count_tokens(completion.content or "", model) + sum(
                count_tokens(c.name, model) + count_tokens(c.arguments, model) for c in completion.tool_calls
            )
        price = self.settings.price_for(model) or self.settings.price_for(completion.model)
        cost = 0.0 if cached else cost_of(prompt, answer, price)
        return Usage(prompt, answer, 1, int(cached), cost, prompt + answer if cached else 0)


# -- helpers -----------------------------------------------------------------------------------


def check_endpoint(settings: LLMSettings) -> None:
    """Raise the ``ConfigError`` :class:`LLMClient` would, without making one (nothing is opened)."""
    endpoint = resolve_endpoint(settings)
    if not endpoint.api_key and not endpoint.base_url:
        raise ConfigError(NO_ENDPOINT)
    if endpoint.api_version and not endpoint.base_url:
        raise ConfigError(AZURE_NEEDS_URL)


def _make_openai(endpoint: Endpoint, timeout: float) -> openai.OpenAI:
    if not endpoint.api_key and not endpoint.base_url:
        raise ConfigError(NO_ENDPOINT)
    key = endpoint.api_key or PLACEHOLDER_KEY
    account = {"organization": endpoint.organization, "project": endpoint.project}
    # max_retries=0: retrying is ours (see the module docstring).
    if endpoint.api_version:
        if not endpoint.base_url:
            raise ConfigError(AZURE_NEEDS_URL)
        return openai.AzureOpenAI(
            azure_endpoint=endpoint.base_url,
            api_version=endpoint.api_version,
            api_key=key,
            timeout=timeout,
            max_retries=0,
            **account,
        )
    return openai.OpenAI(
        base_url=endpoint.base_url or OPENAI_URL, api_key=key, timeout=timeout, max_retries=0, **account
    )


def _request(
    *,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None,
    tool_choice: str | Mapping[str, Any] | None,
    temperature: float,
    max_tokens: int | None,
) -> dict[str, Any]:
    """The request body as plain JSON data: what is sent, hashed, cached and recorded."""
    request: dict[str, Any] = {"model": model, "messages": _plain(list(messages)), "temperature": temperature}
    if tools:
        request["tools"] = _plain(list(tools))
    if tool_choice is not None:
        request["tool_choice"] = _plain(tool_choice)
    if max_tokens is not None:
        request["max_tokens"] = max_tokens
    return request


def _plain(value: Any) -> Any:
    # A JSON round trip: SDK message objects and dataclasses become dicts, and the cache key
    # is computed from exactly the data that goes over the wire.
    return json.loads(json.dumps(value, default=_to_json))


def _to_json(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(exclude_none=True)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"cannot send a {type(obj).__name__} to the LLM: messages and tools must be JSON data")


def _retryable(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    return None


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return _clip(str(message))
    return _clip(exc.message)


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return f"{type(cause).__name__}: {cause}" if cause else str(exc)


def _clip(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reported_tokens(block: dict[str, Any] | None) -> tuple[int | None, int | None]:
    if not block:
        return None, None
    prompt, answer = block.get("prompt_tokens"), block.get("completion_tokens")
    if isinstance(prompt, int) and isinstance(answer, int):
        return prompt, answer
    return None, None
