"""Small resource and monitor types for the care model.

``sim/engine`` did not exist when this model was written, so the care model carries the
three pieces it needs: a time-weighted :class:`Level` monitor, a finite :class:`Pool` of places
held until released (beds, caseload places) with a priority queue, and :class:`FifoServers`,
which gives each arrival its start time on the earliest free server (exact for FIFO service
with known service times, and far cheaper than a SimPy process per customer).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any

from sim.engine.monitor import Level, Marks


class Pool:
    """A finite number of places, each held until released.

    Requests that find no free place wait in a priority queue (lowest key first, FIFO within
    a key). A waiting request can be withdrawn (reneging) by setting ``entry[0] = False``.

    Parameters
    ----------
    capacity
        Number of places; ``math.inf`` for unlimited.
    marks
        Where the monitor of places in use (``level``) keeps its integral.
    """

    __slots__ = ("capacity", "in_use", "queue", "level", "_seq", "granted")

    def __init__(self, capacity: float, marks: Marks) -> None:
        self.capacity = capacity
        self.in_use = 0
        self.queue: list[tuple[Any, int, list[Any]]] = []
        self.level = Level(marks)
        self._seq = 0
        self.granted = 0

    @property
    def free(self) -> float:
        """Places free now."""
        return self.capacity - self.in_use

    def request(self, now: float, on_grant: Callable[[float], None], key: Any = 0) -> list[Any]:
        """Ask for a place; ``on_grant(time)`` runs now or when one is released.

        Returns the queue entry ``[active, callback]`` (already inactive if granted at once).
        """
        entry: list[Any] = [True, on_grant]
        if self.in_use < self.capacity and not self.queue:
            entry[0] = False
            self._grant(now, on_grant)
        else:
            self._seq += 1
            heapq.heappush(self.queue, (key, self._seq, entry))
        return entry

    def withdraw(self, entry: list[Any]) -> bool:
        """Withdraw a waiting request; True if it was still waiting."""
        if entry[0]:
            entry[0] = False
            return True
        return False

    def release(self, now: float) -> None:
        """Give a place back and hand it to the first active waiting request."""
        self.in_use -= 1
        self.level.add(now, -1)
        self.fill(now)

    def fill(self, now: float) -> None:
        """Grant places to waiting requests while any are free."""
        while self.queue and self.in_use < self.capacity:
            _, _, entry = heapq.heappop(self.queue)
            if entry[0]:
                entry[0] = False
                self._grant(now, entry[1])

    def _grant(self, now: float, on_grant: Callable[[float], None]) -> None:
        self.in_use += 1
        self.granted += 1
        self.level.add(now, 1)
        on_grant(now)


class FifoServers:
    """``c`` identical servers taken first come, first served.

    With arrivals offered in time order and service times known on arrival, the earliest
    free server gives each customer's start time exactly (the multi-server Lindley
    recursion), so no event is needed per customer.

    Parameters
    ----------
    servers
        Number of servers (0 means every request is refused).
    open_hour, close_hour
        Working hours each day (24-hour clock); service starts only inside them.
    """

    __slots__ = ("free_at", "open", "close", "busy_time")

    def __init__(self, servers: int, open_hour: float = 0.0, close_hour: float = 24.0) -> None:
        self.free_at = [0.0] * max(0, servers)
        heapq.heapify(self.free_at)
        self.open = open_hour / 24.0
        self.close = close_hour / 24.0
        self.busy_time = 0.0

    def earliest_start(self, now: float) -> float:
        """When a customer arriving now would start (``inf`` with no servers)."""
        if not self.free_at:
            return math.inf
        return self._in_hours(max(now, self.free_at[0]))

    def take(self, now: float, service: float) -> float:
        """Serve one customer; returns the start time."""
        start = self.earliest_start(now)
        heapq.heapreplace(self.free_at, start + service)
        self.busy_time += service
        return start

    def _in_hours(self, t: float) -> float:
        if self.open <= 0.0 and self.close >= 1.0:
            return t
        day = math.floor(t)
        frac = t - day
        if frac < self.open:
            return day + self.open
        if frac >= self.close:
            return day + 1 + self.open
        return t
