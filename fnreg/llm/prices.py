"""Built-in prices of OpenAI's common chat models, dated: what costs are computed with by default.

USD per 1M tokens, (prompt, completion), standard tier, as listed on https://openai.com/api/pricing
on the date below; cached-input discounts and batch prices are not modelled. Prices change:
``[tool.fnreg.prices]`` in ``pyproject.toml`` (or ``LLMSettings(prices=...)``) overrides any entry
and adds models. They apply only to OpenAI's own endpoint: the same model name served by
Azure, vLLM or Ollama has another price (or none), which only its user knows.
"""

from __future__ import annotations

import re

__all__ = ["BUILTIN_PRICES", "PRICES_AS_OF", "builtin_price"]

PRICES_AS_OF = "2025-08-07"

BUILTIN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-2024-05-13": (5.00, 15.00),
    "gpt-4o-mini": (0.15, 0.60),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4-0125-preview": (10.00, 30.00),
    "gpt-4-1106-preview": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "gpt-3.5-turbo-1106": (1.00, 2.00),
}

# A dated snapshot (``gpt-4o-mini-2024-07-18``) costs what its model costs unless listed itself.
_SNAPSHOT = re.compile(r"^(?P<model>.+)-\d{4}-\d{2}-\d{2}$")


def builtin_price(model: str) -> tuple[float, float] | None:
    """The built-in price of ``model`` (or of the model a dated snapshot belongs to), if listed."""
    if model in BUILTIN_PRICES:
        return BUILTIN_PRICES[model]
    snapshot = _SNAPSHOT.match(model)
    return BUILTIN_PRICES.get(snapshot["model"]) if snapshot else None
