"""JSON values written as Python source: the other direction of :func:`~fnreg.registry.syntax.literal_value`."""

from __future__ import annotations

import json
import unicodedata
from typing import Any


def py_literal(value: Any) -> str:
    """Python source for a JSON value (``true`` → ``True``), stable and readable."""
    if isinstance(value, str):
        # Readable unicode, but invisible format/control characters as escapes a reviewer can see,
        # and U+2028/U+2029 too: libcst's tokenizer ends a line at them, even inside a string.
        text = json.dumps(value, ensure_ascii=False)
        if text.isascii():  # json.dumps already escaped ASCII control characters
            return text
        hidden = ("Cc", "Cf", "Cs", "Zl", "Zp")
        return "".join(_escape(c) if unicodedata.category(c) in hidden else c for c in text)
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(str(k))}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"not a JSON value: {value!r}")


def _escape(char: str) -> str:
    # JSON writes a character beyond U+FFFF as a surrogate pair, which Python reads as two characters.
    return json.dumps(char)[1:-1] if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"
