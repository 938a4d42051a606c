"""What deriving a function module yields: the tool description, or why there is none.

Kept apart from :mod:`~fnreg.registry.schema` (which parses with libcst) so that reading
derivations back from the cache loads no parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SchemaError(ValueError):
    """A schema or annotation fnreg cannot translate; the message says which and why."""


@dataclass(frozen=True)
class DerivedFunction:
    """What the LLM is told about one function, derived from its source."""

    name: str
    #: The function's docstring, cleaned (``inspect.cleandoc``); the tool description.
    description: str
    #: JSON schema of the parameters: ``{"type": "object", "properties": ..., "required": [...]}``.
    parameters: dict[str, Any]
    #: Packages the module declares in ``__requires__`` (recorded, never installed).
    requires: tuple[str, ...] = ()
    #: Things a reviewer should know (unsupported annotations, ``*args``...); never fatal.
    warnings: tuple[str, ...] = field(default=())
    #: JSON schema of the return annotation; None when there is none or it is not a JSON type
    #: (``Any``, a class...). Served tools declare it as their output schema.
    returns: dict[str, Any] | None = None
