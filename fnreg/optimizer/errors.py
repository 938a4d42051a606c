"""Errors of the optimizer and its AG2-compatible API."""

from __future__ import annotations

from fnreg.errors import FnregError


class OptimizerError(FnregError):
    """The optimizer cannot build a request or was used out of order."""


class MissingVerdict(OptimizerError):
    """A conversation was recorded without saying whether it succeeded."""


class NothingRecorded(OptimizerError):
    """``step()`` was called before any conversation was recorded."""
