"""Run one replication of the verification network (``model=queue``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import numpy as np
import simpy

from sim.engine import Outcome, PriorityServers, Servers, VisitLog
from sim.models.base import OutputParams, ReplicationResult, RunParams
from sim.models.queue_network.params import NodeParams, QueueModelParams
from sim.rng import BufferedStream, Streams


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
    """The nodes of one replication, wired by Markov routing; each customer is a process.

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
        self.nodes: list[Servers] = [
            (PriorityServers if n.discipline == "priority" else Servers)(
                self.env,
                n.servers,
                n.capacity,
                warm_up=run.warm_up,
                classes=len(n.priority_mix),
            )
            for n in params.nodes
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
        self.diverts_to = [
            None if n.blocked_to is None else self.index[n.blocked_to] for n in params.nodes
        ]
        self.customers = 0

    def _class(self, i: int) -> int:
        cum = self.mix_cum[i]
        if len(cum) == 1:
            return 0
        u = self.priority[i].uniform()
        return next((k for k, c in enumerate(cum) if u < c), len(cum) - 1)

    def _next_node(self, i: int) -> int | None:
        """Where a customer served at node ``i`` goes next (``None``: it leaves)."""
        cum = self.route_cum[i]
        if not cum:
            return None
        u = self.routing[i].uniform()
        for k, c in enumerate(cum):
            if u < c:
                return self.route_to[i][k]
        return None

    def journey(self, i: int, customer: int) -> Generator[simpy.Event, None, None]:
        """One customer's path: visit node ``i``, then wherever routing sends it.

        A customer refused at a full node follows the ``blocked_to`` chain at the same
        instant until a node takes it. Diversions can form a cycle (``a`` blocked to ``b``
        and ``b`` to ``a``); when the chain comes back to a node already tried, every node
        on it is full, so the customer is lost at the last node tried.
        """
        env, log = self.env, self.log
        tried = {i}
        while True:
            service = self.service[i]()
            priority = self._class(i)
            row = log.open(i, customer, priority, env.now)
            with self.nodes[i].request(priority) as server:
                if not (yield server):
                    target = self.diverts_to[i]
                    if target is None or target in tried:
                        log.outcome[row] = Outcome.BLOCKED
                        return
                    log.outcome[row] = Outcome.DIVERTED
                    i = target
                    tried.add(i)
                    continue
                log.start[row] = env.now
                yield env.timeout(service)
            log.end[row] = env.now
            log.outcome[row] = Outcome.SERVED
            nxt = self._next_node(i)
            if nxt is None:
                return
            i = nxt
            tried = {i}

    def arrivals(self, i: int) -> Generator[simpy.Event, None, None]:
        """External Poisson arrivals at node ``i``, each starting a :meth:`journey`."""
        stream = self.streams.buffered(f"arrivals/{self.params.nodes[i].name}")
        mean_gap = 1.0 / self.params.nodes[i].arrival_rate
        env = self.env
        while True:
            yield env.timeout(stream.exponential(mean_gap))
            self.customers += 1
            env.process(self.journey(i, self.customers))


def _node_metrics(net: Network, i: int, cols: dict[str, np.ndarray]) -> dict[str, float]:
    node, params = net.nodes[i], net.params.nodes[i]
    warm, horizon = net.run.warm_up, net.run.horizon
    span = horizon - warm
    here = cols["node"] == i
    after = here & (cols["arrival"] >= warm)
    started = after & ~np.isnan(cols["start"])
    done = after & (cols["outcome"] == Outcome.SERVED)
    refused = after & np.isin(cols["outcome"], (Outcome.BLOCKED, Outcome.DIVERTED))
    name = params.name

    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if x.size else float("nan")

    metrics = {
        f"wait_mean__{name}": mean(cols["start"][started] - cols["arrival"][started]),
        f"sojourn_mean__{name}": mean(cols["end"][done] - cols["arrival"][done]),
        f"utilisation__{name}": node.utilisation(horizon),
        f"number_in_system_mean__{name}": node.present_mean(horizon),
        f"blocking_probability__{name}": float(refused.sum() / after.sum()) if after.any() else 0.0,
        f"throughput__{name}": float(((cols["end"] >= warm) & here).sum() / span),
    }
    if len(params.priority_mix) > 1:
        for k in range(len(params.priority_mix)):
            sel = started & (cols["priority"] == k)
            metrics[f"wait_mean__{name}__p{k}"] = mean(cols["start"][sel] - cols["arrival"][sel])
    return metrics


def simulate(
    params: QueueModelParams, run: RunParams, output: OutputParams, replication: int
) -> ReplicationResult:
    """Simulate the network for ``run.horizon`` time units; metrics count after the warm-up.

    Parameters
    ----------
    params
        The validated network.
    run
        Seed, horizon and warm-up.
    output
        ``event_log`` adds the per-visit table as ``tables["events"]``.
    replication
        Replication index (selects the named streams).
    """
    net = Network(params, run, replication)
    for i, node in enumerate(params.nodes):
        if node.arrival_rate > 0:
            net.env.process(net.arrivals(i))
    net.env.run(until=run.horizon)
    cols = net.log.arrays()
    metrics: dict[str, float] = {}
    for i in range(len(params.nodes)):
        metrics.update(_node_metrics(net, i, cols))
    diagnostics = {
        "customers": float(net.customers),
        "visits": float(len(net.log)),
        "arrived": float(sum(n.arrived_total for n in net.nodes)),
        "departed": float(sum(n.released_total for n in net.nodes)),
        "blocked": float(sum(n.refused_total for n in net.nodes)),
        "in_system_end": float(sum(n.present for n in net.nodes)),
    }
    tables = {}
    if output.event_log:
        tables["events"] = net.log.to_frame([n.name for n in params.nodes])
    return ReplicationResult(replication, metrics, tables, diagnostics)
