"""Time-weighted monitors whose averages ignore the warm-up.

:class:`TimeWeighted` keeps one running integral from a start time (a resource's own
tallies work the same way). :class:`Level` is for counts that are not resources (people
boarding in ED, people delayed in a bed): it is changed by ``add(now, delta)`` and keeps its
integral at a fixed set of :class:`Marks` (every whole day, the warm-up, the horizon), so a
daily series and a mean after the warm-up cost memory per mark, not per change. A resource
can keep a ``Level`` of its busy servers (``Servers(..., level=...)``): the care model's
daily occupancy series.
"""

from __future__ import annotations

import math

import numpy as np


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


class Marks:
    """The times at which every :class:`Level` keeps its running integral.

    Parameters
    ----------
    days
        Whole days simulated; marks are 0, 1, ..., ``days`` (for daily series).
    extra
        Further times to mark: the warm-up and the horizon (for means after the warm-up),
        which need not be whole days.

    Examples
    --------
    >>> Marks(2, 0.5).times
    [0.0, 0.5, 1.0, 2.0]
    """

    __slots__ = ("times", "index")

    def __init__(self, days: int, *extra: float) -> None:
        self.times = sorted({float(d) for d in range(days + 1)} | {float(x) for x in extra})
        self.index = {t: i for i, t in enumerate(self.times)}


class Level:
    """A piecewise-constant count over time that is not a resource (people boarding in ED).

    Changes must come in time order. The integral is accumulated as they come and stored
    only at the :class:`Marks`, in the order a full integration of the history afterwards
    would add it up, so the summaries are the same to the last bit as that integration.

    Parameters
    ----------
    marks
        The times whose integral is kept (shared by every level of a replication).
    value
        The level at time 0.

    Examples
    --------
    >>> level = Level(Marks(4, 1.5))
    >>> level.add(1.0, 2)    # 0 on [0, 1), 2 on [1, 3), 1 from 3
    >>> level.add(3.0, -1)
    >>> level.mean(1.5, 4.0), level.daily_means(4).tolist()
    (1.6, [0.0, 2.0, 2.0, 1.0])
    """

    __slots__ = ("value", "_t", "_area", "_marks", "_index", "_stored", "_next")

    def __init__(self, marks: Marks, value: float = 0.0) -> None:
        self.value = float(value)
        self._t = 0.0
        self._area = 0.0
        self._marks = marks.times
        self._index = marks.index
        self._stored: list[float] = []
        self._next = self._marks[0] if self._marks else math.inf

    def add(self, now: float, delta: float) -> None:
        """Change the level by ``delta`` at ``now``.

        Raises
        ------
        RuntimeError
            If ``now`` is before the previous change: the integral would be wrong with no
            other sign of it.
        """
        if now < self._t:
            raise RuntimeError(
                f"a Level was changed at {now} after a change at {self._t}: "
                "changes must come in time order"
            )
        if now >= self._next:
            self._pass_marks(now)
        self._area += self.value * (now - self._t)
        self._t = now
        self.value += delta

    def _pass_marks(self, now: float) -> None:
        """Store the integral at every mark up to ``now``."""
        marks, stored = self._marks, self._stored
        while self._next <= now:
            stored.append(self._area + self.value * (self._next - self._t))
            self._next = marks[len(stored)] if len(stored) < len(marks) else math.inf

    def area(self, at: float) -> float:
        """Integral from 0 to ``at``: a mark, or any time from the last change on.

        Raises
        ------
        ValueError
            If ``at`` is before the last change and not a mark (that integral was not kept).
        """
        if at >= self._t:
            return self._area + self.value * (at - self._t)
        i = self._index.get(at)
        if i is None or i >= len(self._stored):
            raise ValueError(f"the integral of a Level is kept only at its marks, not at {at}")
        return self._stored[i]

    def daily_means(self, days: int) -> np.ndarray:
        """Time-weighted mean of each whole day 0 .. ``days`` - 1."""
        return np.diff([self.area(float(d)) for d in range(days + 1)])

    def mean(self, start: float, end: float) -> float:
        """Time-weighted mean over ``[start, end]`` (the warm-up and the horizon, say);
        NaN if the span is empty."""
        if not end > start:
            return float("nan")
        return float((self.area(end) - self.area(start)) / (end - start))
