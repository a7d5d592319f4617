"""Time-weighted monitors whose averages ignore the warm-up."""

from __future__ import annotations


class TimeWeighted:
    """The time-average of a piecewise-constant quantity, counted from ``start`` on.

    Parameters
    ----------
    start
        Time from which the integral counts (the warm-up); earlier time is ignored.
    value
        The quantity's value at time 0.

    Examples
    --------
    >>> m = TimeWeighted(start=1.0)
    >>> m.update(2.0, 3.0)   # value 0 on [0, 2), 3 from t = 2
    >>> m.mean(4.0)          # (0 * 1 + 3 * 2) / 3
    2.0
    """

    __slots__ = ("start", "value", "_last", "_area")

    def __init__(self, start: float = 0.0, value: float = 0.0) -> None:
        self.start = float(start)
        self.value = float(value)
        self._last = 0.0
        self._area = 0.0

    def update(self, now: float, value: float) -> None:
        """The quantity changes to ``value`` at time ``now``."""
        if now > self.start:
            self._area += self.value * (now - max(self._last, self.start))
        self._last = now
        self.value = value

    def area(self, until: float) -> float:
        """Integral of the quantity over ``[start, until]``."""
        if until <= self.start:
            return 0.0
        return self._area + self.value * (until - max(self._last, self.start))

    def mean(self, until: float) -> float:
        """Time-average over ``[start, until]``."""
        span = until - self.start
        return self.area(until) / span if span > 0 else float("nan")
