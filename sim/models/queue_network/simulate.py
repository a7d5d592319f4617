"""Run one replication of the verification network (``model=queue``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import numpy as np
import simpy

from sim.engine import Outcome, ServiceNode, Visit, VisitLog
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
        f"utilisation__{name}": node.busy_servers_mean(horizon) / node.servers,
        f"number_in_system_mean__{name}": node.number_in_system_mean(horizon),
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
        "arrived": float(sum(n.arrived for n in net.nodes)),
        "departed": float(sum(n.departed for n in net.nodes)),
        "blocked": float(sum(n.blocked for n in net.nodes)),
        "in_system_end": float(sum(n.in_system for n in net.nodes)),
    }
    tables = {}
    if output.event_log:
        tables["events"] = net.log.to_frame([n.name for n in params.nodes])
    return ReplicationResult(replication, metrics, tables, diagnostics)
