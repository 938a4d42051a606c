"""Token and cost accounting, per call, per role and per run."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

__all__ = ["MeterSnapshot", "Usage", "UsageMeter", "cost_of"]


def _add_cost(a: float | None, b: float | None) -> float | None:
    # An unknown cost stays unknown: a total missing one model's price must not look complete.
    return None if a is None or b is None else a + b


@dataclass(frozen=True)
class Usage:
    """Tokens, calls and cost; add them with ``+`` and diff them with ``-``.

    ``prompt_tokens``/``completion_tokens`` count every answer, cached or not;
    ``cached_tokens`` is the part of them served from the cache or a cassette (not paid for).
    ``cost_usd`` is None when a model's price is unknown; cached answers cost 0.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cached_calls: int = 0
    cost_usd: float | None = 0.0
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def billed_tokens(self) -> int:
        """Tokens actually sent to the endpoint (what a ``--max-tokens`` budget should count)."""
        return self.total_tokens - self.cached_tokens

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.calls + other.calls,
            self.cached_calls + other.cached_calls,
            _add_cost(self.cost_usd, other.cost_usd),
            self.cached_tokens + other.cached_tokens,
        )

    def __sub__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        cost = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd - other.cost_usd
        return Usage(
            self.prompt_tokens - other.prompt_tokens,
            self.completion_tokens - other.completion_tokens,
            self.calls - other.calls,
            self.cached_calls - other.cached_calls,
            cost,
            self.cached_tokens - other.cached_tokens,
        )

    def to_json(self) -> dict[str, int | float | None]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, int | float | None]) -> Usage:
        """The inverse of ``to_json``; missing fields are zero (older records)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})  # type: ignore[arg-type]

    def cost_text(self) -> str:
        """``$0.0123`` or ``unknown`` (never a misleading ``$0``)."""
        return "unknown" if self.cost_usd is None else f"${self.cost_usd:.4f}"

    def __str__(self) -> str:
        cached = f", {self.cached_calls} cached" if self.cached_calls else ""
        return (
            f"{self.total_tokens:,} tokens ({self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion) "
            f"in {self.calls} call{'s' if self.calls != 1 else ''}{cached}, cost {self.cost_text()}"
        )


def cost_of(prompt_tokens: int, completion_tokens: int, price: tuple[float, float] | None) -> float | None:
    """USD for the tokens at ``price`` (USD per 1M prompt, completion tokens); None if unknown."""
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


@dataclass(frozen=True)
class MeterSnapshot:
    """Totals at one instant; ``later - earlier`` gives what was spent in between (e.g. an epoch)."""

    total: Usage = Usage()
    roles: Mapping[str, Usage] = field(default_factory=dict)

    def role(self, name: str) -> Usage:
        return self.roles.get(name, Usage())

    def __sub__(self, other: MeterSnapshot) -> MeterSnapshot:
        names = set(self.roles) | set(other.roles)
        return MeterSnapshot(self.total - other.total, {n: self.role(n) - other.role(n) for n in sorted(names)})


class UsageMeter:
    """Thread-safe running totals, overall and per role ("agent", "optimizer", ...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = Usage()
        self._roles: dict[str, Usage] = {}

    def add(self, role: str, usage: Usage) -> None:
        with self._lock:
            self._total += usage
            self._roles[role] = self._roles.get(role, Usage()) + usage

    @property
    def total(self) -> Usage:
        with self._lock:
            return self._total

    def role(self, name: str) -> Usage:
        with self._lock:
            return self._roles.get(name, Usage())

    def snapshot(self) -> MeterSnapshot:
        with self._lock:
            return MeterSnapshot(self._total, dict(self._roles))
