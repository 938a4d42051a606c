"""Errors of the LLM layer; all are :class:`fnreg.errors.LLMError`, so callers can catch one type."""

from __future__ import annotations

from fnreg.errors import LLMError

__all__ = ["LLMError", "LLMRequestRejected", "LLMUnavailable", "MalformedCompletion", "ReplayMiss"]


class LLMUnavailable(LLMError):
    """The endpoint kept failing (429, 5xx, timeouts, dropped connections) through every retry."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


class LLMRequestRejected(LLMError):
    """The endpoint refused the request (400, 401, 403, 404...); retrying would not help."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = 1


class MalformedCompletion(LLMError):
    """A response that is not a usable chat completion (non-JSON, no choices, bad tool arguments)."""

    def __init__(self, message: str, *, attempts: int = 0) -> None:
        super().__init__(message)
        self.attempts = attempts


class ReplayMiss(LLMError):
    """A replayed run asked for a request the cassette does not hold."""
