"""Value checks shared by every parameter builder.

Each check returns the value, converted, or raises :class:`sim.errors.ConfigError`
naming the key, the value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from sim.errors import ConfigError

SUM_TOLERANCE = 1e-9


def _number(key: str, value: object, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, value, allowed)
    if not math.isfinite(value):
        raise ConfigError(key, value, allowed)
    return float(value)


def positive_int(key: str, value: object) -> int:
    """An integer ≥ 1."""
    allowed = "must be a whole number of at least 1"
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(key, value, allowed)
    return int(value)


def nonneg_int(key: str, value: object) -> int:
    """An integer ≥ 0."""
    allowed = "must be a whole number of at least 0"
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(key, value, allowed)
    return int(value)


def positive(key: str, value: object) -> float:
    """A finite number > 0."""
    allowed = "must be a finite number greater than 0"
    x = _number(key, value, allowed)
    if x <= 0:
        raise ConfigError(key, value, allowed)
    return x


def nonneg(key: str, value: object) -> float:
    """A finite number ≥ 0."""
    allowed = "must be a finite number of at least 0"
    x = _number(key, value, allowed)
    if x < 0:
        raise ConfigError(key, value, allowed)
    return x


def nonneg_or_inf(key: str, value: object) -> float:
    """A number ≥ 0, or ``inf`` (for a delay, "never")."""
    if value == math.inf and not isinstance(value, bool):
        return math.inf
    allowed = "must be a number of at least 0, or .inf"
    x = _number(key, value, allowed)
    if x < 0:
        raise ConfigError(key, value, allowed)
    return x


def probability(key: str, value: object) -> float:
    """A probability in [0, 1]."""
    allowed = "must be a probability between 0 and 1"
    x = _number(key, value, allowed)
    if not 0.0 <= x <= 1.0:
        raise ConfigError(key, value, allowed)
    return x


def one_of(key: str, value: object, options: Iterable[str]) -> str:
    """One of a fixed set of words."""
    options = list(options)
    if value not in options:
        raise ConfigError(key, value, "must be one of " + ", ".join(options))
    return str(value)


def distribution(key: str, shares: Mapping[str, object], exact: bool = True) -> dict[str, float]:
    """A row of probabilities: each in [0, 1], summing to 1 (or at most 1 if not ``exact``)."""
    row = {name: probability(f"{key}.{name}", p) for name, p in shares.items()}
    total = sum(row.values())
    if exact and abs(total - 1.0) > SUM_TOLERANCE * max(1, len(row)) * 1e3:
        raise ConfigError(key, dict(shares), f"must sum to 1 (they sum to {total:.6g})")
    if not exact and total > 1.0 + SUM_TOLERANCE * 1e3:
        raise ConfigError(
            key,
            dict(shares),
            f"must sum to at most 1, the remainder exits (they sum to {total:.6g})",
        )
    return row
