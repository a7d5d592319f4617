"""SimPy resources with tallies: c servers, FIFO or priority, finite capacity, a wait limit.

A generator process uses them as it would ``simpy.Resource``::

    with ed.request(priority=acuity) as clinician:
        if not (yield clinician):      # refused: K present, or no server within the window
            ...                        # the caller decides: lost, or diverted elsewhere
        yield env.timeout(assessment)

A request's value is ``True`` once a server is granted and ``False`` if it is refused (K
already present) or its waiting window runs out. Leaving the ``with`` block releases the
server, or withdraws a request still waiting (an interrupted process).

Why not subclasses of ``simpy.Resource``: SimPy's put/get queues and their callbacks cost
more than the whole rest of a customer's step, and tallies added on top could only make it
slower. These classes keep their own queue and counts (the same FIFO or non-pre-emptive
priority order as ``simpy.Resource`` and ``simpy.PriorityResource``), and a request that
gets a server at once is returned already processed, so the process carries on without a
trip through the event queue. ``benchmarks/engine.py`` measures the result against plain
SimPy.

Tallies count from ``warm_up`` on: time-weighted busy servers, customers present and
waiting; per priority class, the requests made, the waits of those granted (sum, count,
count that waited at all), the refused and the timed out.

Capacities of 0 and ``math.inf`` are allowed, because a care service a place does not have
is 0 and an unconstrained one is unlimited. With 0 servers (places, hours) nothing is ever
granted: a request queues like any other, so it waits for ever unless its window ends it
(value ``False``, timed out), K refuses it, or its process withdraws it; ``window=0`` or
``capacity=0`` makes every request refused at once. Utilisation is NaN (there is nothing to
use). With ``math.inf`` every request is granted at once and never waits; busy and present
are still tallied, and utilisation is 0.
"""

from __future__ import annotations

import heapq
import math
import sys
from collections import deque
from types import TracebackType
from typing import Any

import simpy
from simpy.events import Timeout

from sim.engine.monitor import Level

# Request states (plain ints: compared on every event).
WAITING, GRANTED, RELEASED, REFUSED, TIMED_OUT, WITHDRAWN = range(6)
NAN = math.nan


class Request(simpy.Event):
    """A claim on one server: yield it, then release it (or leave the ``with`` block).

    Attributes
    ----------
    resource
        The resource asked.
    priority
        Class of the request; lower is served first by :class:`PriorityServers`.
    arrived
        Simulation time of the request.
    started
        Time the server was granted (NaN until then).
    state
        ``WAITING``, ``GRANTED``, ``RELEASED``, ``REFUSED``, ``TIMED_OUT`` or ``WITHDRAWN``.
    """

    amount = 1.0  # units held; only :class:`Hours` sets another per request

    def __init__(self, resource: Servers, priority: int, now: float) -> None:
        # Event.__init__ inlined, as SimPy's own Timeout does: this runs once per request.
        self.env = resource.env
        # SimPy sets an event's callbacks to None once it is processed.
        self.callbacks: list[Any] | None = []  # type: ignore[assignment]
        self.resource = resource
        self.priority = priority
        self.arrived = now
        self.started = NAN
        self.state = WAITING

    @property
    def granted(self) -> bool:
        """The request holds (or held) a server."""
        return self.state in (GRANTED, RELEASED)

    @property
    def wait(self) -> float:
        """Time from request to grant (NaN if never granted)."""
        return self.started - self.arrived

    def cancel(self) -> None:
        """Withdraw the request if it is still waiting (a patient who dies in the queue).

        As ``simpy.Resource``'s ``Request.cancel``: a request already granted, refused or
        timed out is left alone (a granted one is freed by ``release``). Leaving the
        ``with`` block does both, so an interrupted process needs neither call.
        """
        if self.state == WAITING:
            self.resource._withdraw(self, WITHDRAWN)

    def __enter__(self) -> Request:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.resource.release(self)


class Servers:
    """c identical servers taken first come, first served, with an optional capacity K.

    Parameters
    ----------
    env
        The SimPy environment.
    servers
        Number of servers (clinicians, beds, places, teams): a whole number c ≥ 0, or
        ``math.inf`` (every request granted at once, M/M/∞). With 0 a request is never
        granted: it waits until its window or its process ends it (see the module note).
    capacity
        K, the most requests present (waiting or served); an arrival that finds K present
        is refused. ``None`` (or ``math.inf``) is unlimited; ``capacity == servers`` is a
        loss system; 0 refuses every request.
    window
        Default waiting window: a request not granted within it is withdrawn and gets the
        value ``False`` (a UCR team that cannot respond in time). ``None`` waits forever;
        0 refuses any request that cannot start at once. :meth:`request` may override it.
    warm_up
        Tallies count from this time on.
    classes
        Number of priority classes tallied (requests of class ≥ ``classes`` count in the
        last).
    level
        An optional :class:`~sim.engine.monitor.Level` that follows ``busy`` (servers in
        use): a model's daily series of occupancy (beds, places). Several resources may
        share one level (a caseload split between neighbourhoods).

    Examples
    --------
    >>> env = simpy.Environment()
    >>> ed = Servers(env, servers=1)
    >>> def patient(env, minutes):
    ...     with ed.request() as clinician:
    ...         yield clinician
    ...         yield env.timeout(minutes)
    >>> for m in (3, 2):
    ...     _ = env.process(patient(env, m))
    >>> env.run()
    >>> ed.waits()[0], ed.busy_mean(env.now)
    (1.5, 1.0)
    """

    def __init__(
        self,
        env: simpy.Environment,
        servers: float,
        capacity: float | None = None,
        *,
        window: float | None = None,
        warm_up: float = 0.0,
        classes: int = 1,
        level: Level | None = None,
    ) -> None:
        _check_count("servers", servers)
        if capacity is not None:
            _check_count("capacity", capacity)
            if capacity == math.inf:
                capacity = None  # one test (``is not None``) on the hot path, as before
        if capacity is not None and capacity < servers:
            raise ValueError(f"capacity {capacity} is below the number of servers {servers}")
        if window is not None and window < 0:
            raise ValueError(f"window must be >= 0 or None, not {window}")
        if classes < 1:
            raise ValueError(f"classes must be at least 1, not {classes}")
        self.env = env
        self.servers = servers
        # The same limit as an int for the test on every request: comparing an int with a
        # float (math.inf) costs more than int with int. No count ever reaches maxsize.
        self._limit = sys.maxsize if servers == math.inf else int(servers)
        self.capacity = capacity
        self.window = window
        self.warm_up = float(warm_up)
        self.classes = classes
        self.level = level
        self.busy = 0  # servers in use
        self.present = 0  # requests waiting or served
        self.waiting = 0  # requests waiting (withdrawn ones may still sit in the queue)
        self._init_queue()
        # Time-weighted areas after the warm-up, kept inline: they change at every event.
        self._last = 0.0
        self._area_busy = 0.0
        self._area_present = 0.0
        # Per-class counts of requests made after the warm-up, and what became of them.
        self.requested = [0] * classes
        self.refused = [0] * classes
        self.timed_out = [0] * classes
        self.wait_sum = [0.0] * classes
        self.wait_count = [0] * classes
        self.waited = [0] * classes  # granted after a positive wait
        self.arrived_total = 0  # every request, warm-up included (conservation checks)
        self.released_total = 0
        self.refused_total = 0

    # -- the queue: FIFO here, a priority heap in PriorityServers ---------------------------
    def _init_queue(self) -> None:
        self._queue: deque[Request] = deque()

    def _enqueue(self, req: Request) -> None:
        self._queue.append(req)

    def _clear(self) -> None:
        """Drop the queue once nobody in it is waiting (only withdrawn requests remain):
        with no server ever free (0 servers) nothing else would ever pop them."""
        self._queue.clear()

    def _next(self) -> Request:
        """Pop the first request still waiting (the caller knows one is)."""
        queue = self._queue
        req = queue.popleft()
        while req.state != WAITING:
            req = queue.popleft()
        return req

    # -- flow ------------------------------------------------------------------------------
    def request(self, priority: int = 0, window: float | None = -1.0) -> Request:
        """Ask for a server now.

        Parameters
        ----------
        priority
            Class of the request (0 first under :class:`PriorityServers`; tallied per class).
        window
            Waiting window for this request; the default (-1) uses the resource's.

        Returns
        -------
        Request
            An event whose value is ``True`` when a server is granted, ``False`` when the
            request is refused (K present) or times out. A request granted or refused at
            once is returned already processed.
        """
        env = self.env
        now = env._now
        last = self._last
        if now > last:  # _advance, inlined: this runs at every request
            start = last if last > self.warm_up else self.warm_up
            if now > start:
                self._area_busy += self.busy * (now - start)
                self._area_present += self.present * (now - start)
            self._last = now
        req = Request(self, priority, now)
        self.arrived_total += 1
        counted = now >= self.warm_up
        k = priority if priority < self.classes else self.classes - 1
        if counted:
            self.requested[k] += 1
        if self.busy < self._limit and not self.waiting:
            self.busy += 1
            self.present += 1
            if self.level is not None:
                self.level.add(now, 1)
            req.started = now
            req.state = GRANTED
            req._ok = True
            req._value = True
            req.callbacks = None
            if counted:
                self.wait_count[k] += 1
            return req
        if window == -1.0:
            window = self.window
        if (self.capacity is not None and self.present >= self.capacity) or window == 0:
            req.state = REFUSED
            self.refused_total += 1
            if counted:
                self.refused[k] += 1
            req._ok = True
            req._value = False
            req.callbacks = None
            return req
        self.present += 1
        self.waiting += 1
        self._enqueue(req)
        if window is not None:
            Timeout(env, window, req).callbacks.append(self._expire)
        return req

    def release(self, req: Request) -> None:
        """Free ``req``'s server (or withdraw it if still waiting); repeated calls do nothing."""
        state = req.state
        if state == GRANTED:
            now = self.env._now
            last = self._last
            if now > last:  # _advance, inlined
                start = last if last > self.warm_up else self.warm_up
                if now > start:
                    self._area_busy += self.busy * (now - start)
                    self._area_present += self.present * (now - start)
                self._last = now
            req.state = RELEASED
            self.released_total += 1
            self.present -= 1
            if self.waiting:
                self._grant(self._next(), now)
            else:
                self.busy -= 1
                if self.level is not None:
                    self.level.add(now, -1)
        elif state == WAITING:
            self._withdraw(req, WITHDRAWN)

    def _grant(self, req: Request, now: float) -> None:
        """Hand a server just freed (so ``busy`` is unchanged) to the waiting ``req``."""
        self.waiting -= 1
        req.state = GRANTED
        req.started = now
        if req.arrived >= self.warm_up:
            p = req.priority
            k = p if p < self.classes else self.classes - 1
            self.wait_sum[k] += now - req.arrived
            self.wait_count[k] += 1
            if now > req.arrived:
                self.waited[k] += 1
        req._ok = True
        req._value = True
        self.env.schedule(req)

    def _expire(self, event: simpy.Event) -> None:
        req: Request = event._value
        if req.state == WAITING:
            self._withdraw(req, TIMED_OUT)
            req._ok = True
            req._value = False
            self.env.schedule(req)

    def _withdraw(self, req: Request, state: int) -> None:
        """Take a waiting request out (it stays in the queue, skipped when reached)."""
        now = self.env._now
        if now > self._last:
            self._advance(now)
        req.state = state
        self.present -= 1
        self.waiting -= 1
        if not self.waiting:
            self._clear()
        if state == TIMED_OUT and req.arrived >= self.warm_up:
            p = req.priority
            self.timed_out[p if p < self.classes else self.classes - 1] += 1

    # -- tallies ---------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        """Add the areas of the current state from the last change to ``now``."""
        start = self._last if self._last > self.warm_up else self.warm_up
        if now > start:
            dt = now - start
            self._area_busy += self.busy * dt
            self._area_present += self.present * dt
        self._last = now

    def _mean(self, area: float, value: float, until: float) -> float:
        span = until - self.warm_up
        if span <= 0:
            return float("nan")
        tail = value * (until - max(self._last, self.warm_up)) if until > self._last else 0.0
        return (area + tail) / span

    def busy_mean(self, until: float) -> float:
        """Time-average busy servers over ``[warm_up, until]`` (``until`` ≥ the last change)."""
        return self._mean(self._area_busy, self.busy, until)

    def present_mean(self, until: float) -> float:
        """Time-average requests present (waiting or served) over ``[warm_up, until]``."""
        return self._mean(self._area_present, self.present, until)

    def waiting_mean(self, until: float) -> float:
        """Time-average requests waiting over ``[warm_up, until]``."""
        return self.present_mean(until) - self.busy_mean(until)

    def utilisation(self, until: float) -> float:
        """Busy servers as a share of all servers, time-averaged after the warm-up
        (NaN with 0 servers, 0 with ``math.inf``)."""
        if not self.servers:
            return float("nan")
        return self.busy_mean(until) / self.servers

    def waits(self) -> list[float]:
        """Mean wait of granted requests made after the warm-up, per class (NaN if none)."""
        return _ratios(self.wait_sum, self.wait_count)

    def wait_probability(self) -> list[float]:
        """Per class, the share of granted requests that waited at all."""
        return _ratios(self.waited, self.wait_count)

    def refusal_probability(self) -> list[float]:
        """Per class, the share of requests refused at arrival (K present)."""
        return _ratios(self.refused, self.requested)

    def timeout_probability(self) -> list[float]:
        """Per class, the share of requests whose waiting window ran out."""
        return _ratios(self.timed_out, self.requested)


def _check_count(name: str, value: float) -> None:
    """A number of servers, places or requests: a whole number ≥ 0, or ``math.inf``."""
    if not (value == math.inf or (value >= 0 and float(value).is_integer())):
        raise ValueError(f"{name} must be a whole number >= 0 or math.inf, not {value!r}")


def _ratios(top: list[Any], bottom: list[int]) -> list[float]:
    return [t / b if b else float("nan") for t, b in zip(top, bottom, strict=True)]


class PriorityServers(Servers):
    """:class:`Servers` with a non-pre-emptive priority queue: lowest ``priority`` first,
    FIFO within a class (as ``simpy.PriorityResource``). ED clinicians by acuity, beds."""

    def _init_queue(self) -> None:
        self._heap: list[tuple[int, int, Request]] = []
        self._seq = 0

    def _enqueue(self, req: Request) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (req.priority, self._seq, req))

    def _clear(self) -> None:
        self._heap.clear()

    def _next(self) -> Request:
        heap = self._heap
        req = heapq.heappop(heap)[2]
        while req.state != WAITING:
            req = heapq.heappop(heap)[2]
        return req


class Caseload(Servers):
    """A caseload: a count of places, each held from enrolment to discharge.

    The same queue as :class:`Servers` (a place is a server) in the words of a service:
    :meth:`enrol` asks for a place (waiting, or refused if ``capacity`` is set and reached),
    :meth:`discharge` frees it. Community and virtual-ward places, end-of-life places and
    social-care places are caseloads with or without a waiting list.
    """

    def enrol(self, priority: int = 0) -> Request:
        """Ask for a place (see :meth:`Servers.request`)."""
        return self.request(priority)

    def discharge(self, place: Request) -> None:
        """Free the place held by ``place`` (or leave the waiting list)."""
        self.release(place)

    @property
    def on_caseload(self) -> int:
        """People holding a place now."""
        return self.busy


class Teams(Servers):
    """Response teams (UCR): c teams; a call no team can take within ``window`` is lost.

    ``window`` is required here; the queue is M/M/c+D (deterministic patience), which is
    Erlang B at ``window = 0`` and Erlang C as the window grows without bound.
    """

    def __init__(
        self,
        env: simpy.Environment,
        servers: float,
        window: float,
        *,
        warm_up: float = 0.0,
        classes: int = 1,
        level: Level | None = None,
    ) -> None:
        super().__init__(
            env, servers, None, window=window, warm_up=warm_up, classes=classes, level=level
        )


class Rota(Teams):
    """:class:`Teams` that work set hours each day (UCR teams, 08:00 to 20:00).

    A team starts a call only while the rota is open, ``[open_hour, close_hour)`` of each
    day (24-hour clock, times in days). A call that finds the rota closed waits for the
    next opening, unless its window ends first; a call already being served at closing
    time is finished (a visit is not abandoned at 20:00), but no waiting call starts until
    the rota opens again. Open all day (``0``, ``24``) this is exactly :class:`Teams`.

    Parameters
    ----------
    env, servers, window, warm_up, classes, level
        As for :class:`Teams`.
    open_hour, close_hour
        Working hours, ``0 <= open_hour < close_hour <= 24``.
    """

    def __init__(
        self,
        env: simpy.Environment,
        servers: float,
        window: float,
        *,
        open_hour: float = 0.0,
        close_hour: float = 24.0,
        warm_up: float = 0.0,
        classes: int = 1,
        level: Level | None = None,
    ) -> None:
        if not 0.0 <= open_hour < close_hour <= 24.0:
            raise ValueError(
                f"open_hour and close_hour must satisfy 0 <= open < close <= 24, "
                f"not {open_hour}, {close_hour}"
            )
        super().__init__(env, servers, window, warm_up=warm_up, classes=classes, level=level)
        self.open_at = open_hour / 24.0
        self.close_at = close_hour / 24.0
        self._servers_limit = self._limit
        if self.open_at > 0.0 or self.close_at < 1.0:
            now = env.now
            if not self.is_open(now):
                self._limit = 0  # nobody starts until the rota opens
            self._schedule_change(now)

    def is_open(self, t: float) -> bool:
        """The rota is working at time ``t``."""
        frac = t - math.floor(t)
        return self.open_at <= frac < self.close_at

    def _schedule_change(self, now: float) -> None:
        """Schedule the next opening or closing strictly after ``now``.

        The boundaries are computed from the day number, and the event carries whether it
        opens or closes, so rounding in ``now`` can neither repeat a boundary nor skip one.
        """
        day = math.floor(now)
        boundaries = (
            (day + self.open_at, True),
            (day + self.close_at, False),
            (day + 1.0 + self.open_at, True),
            (day + 1.0 + self.close_at, False),
        )
        t, opens = next(b for b in boundaries if b[0] > now + 1e-9)
        Timeout(self.env, t - now, opens).callbacks.append(self._change)

    def _change(self, event: simpy.Event) -> None:
        now = self.env._now
        if now > self._last:
            self._advance(now)
        if event._value:  # opening
            self._limit = self._servers_limit
            # Calls that waited through the closed hours start now, first come first.
            while self.waiting and self.busy < self._limit:
                self.busy += 1
                if self.level is not None:
                    self.level.add(now, 1)
                self._grant(self._next(), now)
        else:
            self._limit = 0
        self._schedule_change(now)

    def release(self, req: Request) -> None:
        """Free ``req``'s team; while the rota is closed it waits for the next opening."""
        if req.state == GRANTED and self.busy > self._limit:
            # Closed (or just over the limit): the team stops rather than taking the next.
            now = self.env._now
            if now > self._last:
                self._advance(now)
            req.state = RELEASED
            self.released_total += 1
            self.present -= 1
            self.busy -= 1
            if self.level is not None:
                self.level.add(now, -1)
            return
        super().release(req)


class Hours(Servers):
    """A divisible capacity: ``total`` units (care hours a week, say); each request holds
    its ``amount`` of them until released.

    Requests are served first come, first served without overtaking: one that does not fit
    in what is free waits, and so do all behind it (as ``simpy.Container`` serves gets).
    With every amount equal to ``h`` and ``total = c·h`` this is c servers, M/M/c.
    ``busy`` counts requests being served, as for :class:`Servers`; ``units`` counts the
    units they hold, tallied by :meth:`units_mean`, and ``utilisation`` is units in use
    over ``total``. ``capacity`` and priority classes are not offered (tallies use class 0).

    Parameters
    ----------
    env
        The SimPy environment.
    total
        Units available, ≥ 0 or ``math.inf``. With 0 no request is ever granted (any
        positive amount waits until its window or its process ends it) and utilisation is
        NaN; with ``math.inf`` every request is granted at once and utilisation is 0.
    window
        Default waiting window, as for :class:`Servers`.
    warm_up
        Tallies count from this time on.
    """

    def __init__(
        self,
        env: simpy.Environment,
        total: float,
        *,
        window: float | None = None,
        warm_up: float = 0.0,
    ) -> None:
        if not total >= 0:  # also NaN
            raise ValueError(f"total must be >= 0 or math.inf, not {total}")
        super().__init__(env, 1, None, window=window, warm_up=warm_up)
        self.total = float(total)
        self.units = 0.0  # units in use
        self._area_units = 0.0

    def request(self, amount: float = 1.0, window: float | None = -1.0) -> Request:
        """Ask for ``amount`` units now (value ``True`` when granted, ``False`` on timeout).

        Raises
        ------
        ValueError
            If ``amount`` is not in (0, total]: such a request could never be granted (a
            bug in the caller), unless ``total`` is 0, where no request ever is.
        """
        if not 0 < amount <= self.total and not (amount > 0 and self.total == 0):
            raise ValueError(f"amount must be in (0, {self.total}], not {amount}")
        env = self.env
        now = env._now
        if now > self._last:
            self._advance(now)
        req = Request(self, 0, now)
        req.amount = amount
        self.arrived_total += 1
        counted = now >= self.warm_up
        if counted:
            self.requested[0] += 1
        if window == -1.0:
            window = self.window
        if not self.waiting and self.units + amount <= self.total:
            self.busy += 1
            self.present += 1
            self.units += amount
            req.started = now
            req.state = GRANTED
            req._ok = True
            req._value = True
            req.callbacks = None
            if counted:
                self.wait_count[0] += 1
            return req
        if window == 0:
            req.state = REFUSED
            self.refused_total += 1
            if counted:
                self.refused[0] += 1
            req._ok = True
            req._value = False
            req.callbacks = None
            return req
        self.present += 1
        self.waiting += 1
        self._queue.append(req)
        if window is not None:
            Timeout(env, window, req).callbacks.append(self._expire)
        return req

    def release(self, req: Request) -> None:
        """Give back ``req``'s units (or withdraw it if still waiting)."""
        if req.state == GRANTED:
            now = self.env._now
            if now > self._last:
                self._advance(now)
            req.state = RELEASED
            self.released_total += 1
            self.present -= 1
            self.busy -= 1
            self.units -= req.amount
            self._fill(now)
        elif req.state == WAITING:
            self._withdraw(req, WITHDRAWN)

    def _withdraw(self, req: Request, state: int) -> None:
        super()._withdraw(req, state)
        self._fill(self.env._now)  # the head may have left: those behind it may now fit

    def _fill(self, now: float) -> None:
        """Grant waiting requests in order while the first one fits."""
        queue = self._queue
        while queue:
            head = queue[0]
            if head.state != WAITING:
                queue.popleft()
                continue
            if self.units + head.amount > self.total + 1e-12:
                return
            queue.popleft()
            self.busy += 1
            self.units += head.amount
            self._grant(head, now)

    def _advance(self, now: float) -> None:
        start = self._last if self._last > self.warm_up else self.warm_up
        if now > start:
            self._area_units += self.units * (now - start)
        super()._advance(now)

    def units_mean(self, until: float) -> float:
        """Time-average units in use over ``[warm_up, until]``."""
        return self._mean(self._area_units, self.units, until)

    def utilisation(self, until: float) -> float:
        """Units in use as a share of ``total``, time-averaged after the warm-up (NaN with
        ``total`` 0, 0 with ``math.inf``)."""
        if not self.total:
            return float("nan")
        return self.units_mean(until) / self.total


__all__ = [
    "GRANTED",
    "REFUSED",
    "RELEASED",
    "TIMED_OUT",
    "WAITING",
    "WITHDRAWN",
    "Caseload",
    "Hours",
    "PriorityServers",
    "Request",
    "Rota",
    "Servers",
    "Teams",
]
