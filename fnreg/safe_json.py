"""Reading JSON that an LLM or an endpoint wrote: nesting is bounded, every failure is a ValueError.

``json.loads`` recurses once per nesting level: ``[[[[...]]]]`` a few thousand levels deep raises
``RecursionError`` (not ``ValueError``), and a structure just under the interpreter's limit parses
but then breaks whatever walks it next (a schema check, ``json.dumps`` for the cache key).
:func:`loads` refuses anything nested deeper than :data:`MAX_DEPTH` with :class:`JSONTooDeep`, a
``ValueError``, so callers that already treat bad JSON as bad input need no other case.
Other ``ValueError`` s (a 5,000-digit number exceeds Python's integer-string limit) pass through
as they are: also ``ValueError``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "JSONTooDeep", "loads", "nesting_depth"]

#: Deepest nesting of arrays and objects accepted. A chat completion is about 6 levels deep and a
#: tool schema about 10; nothing an LLM should send comes near it.
MAX_DEPTH = 100


class JSONTooDeep(ValueError):
    """JSON nested deeper than allowed."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"nested more than {max_depth} levels deep")
        self.max_depth = max_depth


def loads(text: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` with nesting bounded by ``max_depth``; any failure is a ``ValueError``."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")  # UnicodeDecodeError is a ValueError too
    # Fast path: with fewer brackets than the limit, no nesting can exceed it.
    if text.count("[") + text.count("{") <= max_depth:
        return json.loads(text)
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSONTooDeep(max_depth) from None
    if nesting_depth(value, stop_after=max_depth) > max_depth:
        raise JSONTooDeep(max_depth)
    return value


def nesting_depth(value: Any, *, stop_after: int | None = None) -> int:
    """How deeply lists and dicts nest in ``value`` (a scalar is 0), without recursion.

    ``stop_after``: return as soon as the depth is known to exceed it.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if stop_after is not None and deepest > stop_after:
                return deepest
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list)))
    return deepest
