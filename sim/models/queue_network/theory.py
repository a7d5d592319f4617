"""Analytic values for the verification network, where an exact result exists."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis import theory
from sim.models.queue_network.params import NodeParams, QueueModelParams


def _routing_matrix(params: QueueModelParams) -> np.ndarray:
    index = {n.name: i for i, n in enumerate(params.nodes)}
    matrix = np.zeros((len(params.nodes), len(params.nodes)))
    for i, node in enumerate(params.nodes):
        for target, p in node.routing:
            matrix[i, index[target]] = p
    return matrix


def _rows(name: str, m: theory.QueueMetrics) -> list[tuple[str, float]]:
    return [
        (f"wait_mean__{name}", m.wait),
        (f"sojourn_mean__{name}", m.sojourn),
        (f"utilisation__{name}", m.utilisation),
        (f"number_in_system_mean__{name}", m.number_in_system),
        (f"blocking_probability__{name}", m.blocking),
        (f"throughput__{name}", m.throughput),
    ]


def _isolated(node: NodeParams, params: QueueModelParams) -> bool:
    """No customers routed or diverted into or out of the node."""
    feeds_in = any(
        node.name in dict(other.routing) or other.blocked_to == node.name for other in params.nodes
    )
    return not feeds_in and not node.routing and node.blocked_to is None


def theory_table(params: QueueModelParams) -> pd.DataFrame | None:
    """``metric, theory`` rows for every node with an exact steady-state result.

    - Exponential nodes without capacity limits in any network: Jackson product form (each
      node behaves as M/M/c at its total arrival rate), FIFO only.
    - An isolated exponential node with capacity K: M/M/c/K (Erlang B when K = c).
    - An isolated single-server node with deterministic or lognormal service: M/G/1.
    - An isolated exponential priority node: Cobham's non-pre-emptive M/M/c waits.
    Nodes with ρ ≥ 1 have no steady state and get no rows.
    """
    external = np.array([n.arrival_rate for n in params.nodes])
    lam = theory.traffic_equations(external, _routing_matrix(params))
    jackson = all(
        n.capacity is None and n.service_distribution == "exponential" for n in params.nodes
    )
    rows: list[tuple[str, float]] = []
    for node, lam_i in zip(params.nodes, lam, strict=True):
        mu, c = node.service_rate, node.servers
        try:
            if node.discipline == "priority":
                if _isolated(node, params) and node.service_distribution == "exponential":
                    if node.capacity is None:
                        classes = [lam_i * share for share in node.priority_mix]
                        waits = theory.priority_waits(classes, mu, c)
                        rows += _rows(node.name, theory.mmc(lam_i, mu, c))
                        rows += [(f"wait_mean__{node.name}__p{k}", w) for k, w in enumerate(waits)]
                continue
            if jackson:
                rows += _rows(node.name, theory.mmc(lam_i, mu, c))
            elif _isolated(node, params):
                rows += _isolated_rows(node, lam_i)
        except ValueError:
            continue  # unstable: no steady state to compare with
    if not rows:
        return None
    return pd.DataFrame(rows, columns=["metric", "theory"])


def _isolated_rows(node: NodeParams, lam: float) -> list[tuple[str, float]]:
    mu, c = node.service_rate, node.servers
    if node.service_distribution == "exponential":
        m = theory.mmck(lam, mu, c, node.capacity) if node.capacity else theory.mmc(lam, mu, c)
        return _rows(node.name, m)
    if c == 1 and node.capacity is None:
        mean = node.service_mean
        cv2 = 0.0 if node.service_distribution == "deterministic" else node.service_cv**2
        wq = theory.mg1_wait(lam, mean, mean * mean * (1.0 + cv2))
        m = theory.QueueMetrics(
            wait=wq,
            sojourn=wq + mean,
            queue_length=lam * wq,
            number_in_system=lam * (wq + mean),
            utilisation=lam * mean,
            throughput=lam,
        )
        return _rows(node.name, m)
    return []


__all__ = ["theory_table"]
