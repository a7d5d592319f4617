"""A frozen copy of the engine this project had before the SimPy resource classes.

``ServiceNode`` (callbacks, no process per customer) and the queue model's ``Network`` as
they were at commit 8e179e4, kept only so that ``benchmarks/engine.py`` can time "before"
and "after" in one invocation on one machine. Nothing in ``sim/`` imports this.
"""

# ruff: noqa: D101, D102, D103, D105, D107

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from sim.engine.records import Outcome, VisitLog
from sim.models.base import RunParams
from sim.models.queue_network.params import NodeParams, QueueModelParams
from sim.rng import BufferedStream, Streams

Callback = Callable[["Visit"], None]


class Visit:
    """One customer's visit to one node.

    Attributes
    ----------
    customer
        The owner's id for the customer.
    service
        Service time, fixed at arrival so that capacity cannot change which number is used.
    priority
        Lower is served first (priority discipline only).
    hold
        If true, the server stays busy after the service time until :meth:`ServiceNode.release`.
    data
        Anything the owner wants to carry along (e.g. the next destination).
    """

    __slots__ = ("customer", "service", "priority", "hold", "on_start", "on_end", "row", "data")

    def __init__(
        self,
        customer: int,
        service: float,
        priority: int,
        hold: bool,
        on_start: Callback | None,
        on_end: Callback | None,
        row: int,
        data: Any,
    ) -> None:
        self.customer = customer
        self.service = service
        self.priority = priority
        self.hold = hold
        self.on_start = on_start
        self.on_end = on_end
        self.row = row
        self.data = data


class ServiceNode:
    """c parallel servers with a FIFO or non-pre-emptive priority queue.

    Parameters
    ----------
    env
        The SimPy environment.
    index
        The node's id in the visit log.
    servers
        Number of servers, c ≥ 1.
    capacity
        K, the most customers present (waiting or in service); ``None`` for unlimited.
    priority
        Serve the lowest ``Visit.priority`` first (FIFO within a priority) instead of FIFO.
    log
        Shared visit log; every visit gets a row.
    warm_up
        Monitors count time from here on.
    """

    def __init__(
        self,
        env: simpy.Environment,
        index: int,
        servers: int,
        capacity: int | None = None,
        *,
        priority: bool = False,
        log: VisitLog | None = None,
        warm_up: float = 0.0,
    ) -> None:
        if servers < 1:
            raise ValueError("servers must be at least 1")
        if capacity is not None and capacity < servers:
            raise ValueError("capacity must be at least the number of servers")
        self.env = env
        self.index = index
        self.servers = servers
        self.capacity = capacity
        self.log = log if log is not None else VisitLog()
        self.busy = 0
        self.in_system = 0
        self.arrived = self.departed = self.blocked = 0
        self._priority = priority
        self._fifo: deque[Visit] = deque()
        self._heap: list[tuple[int, int, Visit]] = []
        self._seq = 0
        # Time-weighted areas of customers present and busy servers after the warm-up
        # (queue length is their difference), kept inline: this runs at every event.
        self.warm_up = float(warm_up)
        self._last = 0.0
        self._area_present = 0.0
        self._area_busy = 0.0
        self._last_present = 0
        self._last_busy = 0

    # -- state -----------------------------------------------------------------------------
    @property
    def queued(self) -> int:
        """Customers waiting for a server."""
        return len(self._heap) if self._priority else len(self._fifo)

    def _observe(self) -> None:
        now = self.env.now
        warm = self.warm_up
        if now > warm:
            dt = now - (self._last if self._last > warm else warm)
            self._area_present += self._last_present * dt
            self._area_busy += self._last_busy * dt
        self._last = now
        self._last_present = self.in_system
        self._last_busy = self.busy

    def _mean(self, area: float, last: int, until: float) -> float:
        span = until - self.warm_up
        if span <= 0:
            return float("nan")
        tail = last * (until - max(self._last, self.warm_up)) if until > self._last else 0.0
        return (area + tail) / span

    def number_in_system_mean(self, until: float) -> float:
        """Time-average number present (waiting or in service) over ``[warm_up, until]``."""
        return self._mean(self._area_present, self._last_present, until)

    def busy_servers_mean(self, until: float) -> float:
        """Time-average number of busy servers over ``[warm_up, until]``."""
        return self._mean(self._area_busy, self._last_busy, until)

    def queue_length_mean(self, until: float) -> float:
        """Time-average number waiting over ``[warm_up, until]``."""
        return self.number_in_system_mean(until) - self.busy_servers_mean(until)

    # -- flow ------------------------------------------------------------------------------
    def arrive(
        self,
        customer: int,
        service: float,
        *,
        priority: int = 0,
        hold: bool = False,
        on_start: Callback | None = None,
        on_end: Callback | None = None,
        data: Any = None,
    ) -> Visit | None:
        """A customer arrives now needing ``service`` time units.

        Returns the visit, or ``None`` if it was blocked because K customers were present
        (the row is logged as blocked; the caller decides whether the customer is lost or
        goes elsewhere, and may relabel it with :meth:`mark_diverted`).
        """
        now = self.env.now
        log = self.log
        row = log.open(self.index, customer, priority, now)
        self.arrived += 1
        if self.capacity is not None and self.in_system >= self.capacity:
            self.blocked += 1
            log.outcome[row] = Outcome.BLOCKED
            return None
        visit = Visit(customer, service, priority, hold, on_start, on_end, row, data)
        self.in_system += 1
        if self.busy < self.servers:
            self._start(visit)
        elif self._priority:
            self._seq += 1
            heapq.heappush(self._heap, (priority, self._seq, visit))
        else:
            self._fifo.append(visit)
        self._observe()
        return visit

    def mark_diverted(self) -> None:
        """Relabel the last blocked arrival as diverted to another node."""
        self.log.outcome[len(self.log) - 1] = Outcome.DIVERTED

    def _start(self, visit: Visit) -> None:
        self.busy += 1
        self.log.start[visit.row] = self.env.now
        if visit.on_start is not None:
            visit.on_start(visit)
        self.env.timeout(visit.service, value=visit).callbacks.append(self._service_done)

    def _service_done(self, event: simpy.Event) -> None:
        visit: Visit = event.value
        if visit.hold:
            # The server stays busy until the owner calls release (e.g. a bed kept while a
            # medically fit patient waits for onward care).
            if visit.on_end is not None:
                visit.on_end(visit)
            return
        self._leave(visit)
        if visit.on_end is not None:
            visit.on_end(visit)

    def release(self, visit: Visit) -> None:
        """Free the server a held visit kept after its service time."""
        self._leave(visit)

    def _leave(self, visit: Visit) -> None:
        self.log.end[visit.row] = self.env.now
        self.log.outcome[visit.row] = Outcome.SERVED
        self.busy -= 1
        self.in_system -= 1
        self.departed += 1
        if self._priority:
            if self._heap:
                self._start(heapq.heappop(self._heap)[2])
        elif self._fifo:
            self._start(self._fifo.popleft())
        self._observe()


def service_sampler(node: NodeParams, stream: BufferedStream) -> Callable[[], float]:
    """A function drawing one service time for ``node`` from its own stream."""
    mean = node.service_mean
    if node.service_distribution == "deterministic":
        return lambda: mean
    if node.service_distribution == "lognormal":
        sigma = math.sqrt(math.log1p(node.service_cv**2))
        mu = math.log(mean) - sigma * sigma / 2
        return lambda: math.exp(mu + sigma * stream.normal())
    return lambda: stream.exponential(mean)


class Network:
    """The nodes of one replication, wired by Markov routing.

    Every node draws from streams named after it (``arrivals/<node>``, ``service/<node>``,
    ``routing/<node>``, ``priority/<node>``), one purpose per stream. A customer's service
    time is drawn when it arrives, so the arrival and service samples of externally arriving
    customers do not depend on how many servers there are: common random numbers.
    """

    def __init__(self, params: QueueModelParams, run: RunParams, replication: int) -> None:
        self.params = params
        self.run = run
        self.env = simpy.Environment()
        self.streams = Streams(run.seed, replication)
        self.log = VisitLog()
        self.index = {n.name: i for i, n in enumerate(params.nodes)}
        self.nodes = [
            ServiceNode(
                self.env,
                i,
                n.servers,
                n.capacity,
                priority=n.discipline == "priority",
                log=self.log,
                warm_up=run.warm_up,
            )
            for i, n in enumerate(params.nodes)
        ]
        self.service = [
            service_sampler(n, self.streams.buffered(f"service/{n.name}")) for n in params.nodes
        ]
        self.routing = [self.streams.buffered(f"routing/{n.name}") for n in params.nodes]
        self.priority = [self.streams.buffered(f"priority/{n.name}") for n in params.nodes]
        # Cumulative routing rows: one uniform picks the next node, or exit past the last.
        self.route_cum = [np.cumsum([p for _, p in n.routing]).tolist() for n in params.nodes]
        self.route_to = [[self.index[t] for t, _ in n.routing] for n in params.nodes]
        self.mix_cum = [np.cumsum(n.priority_mix).tolist() for n in params.nodes]
        self.customers = 0

    def _class(self, i: int) -> int:
        cum = self.mix_cum[i]
        if len(cum) == 1:
            return 0
        u = self.priority[i].uniform()
        return next((k for k, c in enumerate(cum) if u < c), len(cum) - 1)

    def enter(self, i: int, customer: int) -> None:
        """``customer`` arrives at node ``i`` now (blocked arrivals are lost or diverted).

        A blocked arrival follows the ``blocked_to`` chain until a node takes it. Diversions
        can form a cycle (``a`` blocked to ``b`` and ``b`` to ``a``); when the chain comes
        back to a node already tried at this instant, every node on it is full, so the
        customer is lost at the last node tried.
        """
        tried = {i}
        while True:
            node = self.nodes[i]
            visit = node.arrive(
                customer, self.service[i](), priority=self._class(i), on_end=self._route
            )
            if visit is not None:
                return
            target = self.params.nodes[i].blocked_to
            if target is None or self.index[target] in tried:
                return
            node.mark_diverted()
            i = self.index[target]
            tried.add(i)

    def _route(self, visit: Visit) -> None:
        i = self.log.node[visit.row]
        cum = self.route_cum[i]
        if not cum:
            return
        u = self.routing[i].uniform()
        for k, c in enumerate(cum):
            if u < c:
                self.enter(self.route_to[i][k], visit.customer)
                return

    def arrivals(self, i: int) -> Generator[simpy.Event, None, None]:
        """External Poisson arrivals at node ``i``."""
        stream = self.streams.buffered(f"arrivals/{self.params.nodes[i].name}")
        mean_gap = 1.0 / self.params.nodes[i].arrival_rate
        env = self.env
        while True:
            yield env.timeout(stream.exponential(mean_gap))
            self.customers += 1
            self.enter(i, self.customers)
