"""Which endpoint a client talks to, resolved once: what the SDK is given and what the cache keys on.

Fields that the settings leave unset come from the environment variables the openai SDK reads
itself (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_API_VERSION``, ``OPENAI_ORG_ID``,
``OPENAI_PROJECT_ID``), so ``LLMSettings(model="gpt-4o-mini")`` reaches OpenAI with the exported key,
as the SDK would. :meth:`Endpoint.cache_parts` is what makes two endpoints never share a cached
answer: the normalised base URL, the API version (Azure), the organisation and project when
set, and the user's namespace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from .settings import LLMSettings

__all__ = ["OPENAI_URL", "Endpoint", "normalise_url", "resolve_endpoint"]

OPENAI_URL = "https://api.openai.com/v1"
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Settings field → the environment variable the openai SDK reads when the field is unset.
SDK_ENV = {
    "api_key": "OPENAI_API_KEY",
    "base_url": "OPENAI_BASE_URL",
    "api_version": "OPENAI_API_VERSION",
    "organization": "OPENAI_ORG_ID",
    "project": "OPENAI_PROJECT_ID",
}


@dataclass(frozen=True)
class Endpoint:
    """One chat-completions endpoint and the credentials that select an account on it."""

    #: As given (None: OpenAI's).
    base_url: str | None
    api_key: str | None
    api_version: str | None
    organization: str | None
    project: str | None
    namespace: str | None = None

    @property
    def url(self) -> str:
        """The normalised base URL: lower-case scheme and host, no default port, no trailing slash."""
        return normalise_url(self.base_url or OPENAI_URL)

    @property
    def label(self) -> str:
        """The URL as shown to a user (and stored beside a cached answer): without credentials or query."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    @property
    def is_openai(self) -> bool:
        """OpenAI's own API (where fnreg's built-in prices apply); Azure and local servers are not."""
        return self.api_version is None and urlsplit(self.url).hostname == "api.openai.com"

    def cache_parts(self) -> dict[str, Any]:
        """What, besides the request body, decides an answer: part of every cache key."""
        parts: dict[str, Any] = {"endpoint": self.url}
        for name in ("api_version", "organization", "project", "namespace"):
            value = getattr(self, name)
            if value:
                parts[name] = value
        return parts


def resolve_endpoint(settings: LLMSettings) -> Endpoint:
    """The settings' endpoint, with unset fields taken from the SDK's own environment variables."""
    values = {field: getattr(settings, field) or _env(variable) for field, variable in SDK_ENV.items()}
    return Endpoint(**values, namespace=settings.cache_namespace or None)


def _env(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def normalise_url(url: str) -> str:
    """``HTTPS://API.OpenAI.com:443/v1/`` → ``https://api.openai.com/v1``; the path's case is kept."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a number: keep the URL as written, it will fail loudly when used
        return url.strip().rstrip("/")
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{netloc}"
    path = "/".join(segment for segment in parts.path.split("/") if segment)
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return urlunsplit((scheme, netloc, f"/{path}" if path else "", query, ""))
