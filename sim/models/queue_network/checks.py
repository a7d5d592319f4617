"""Warnings that follow from a queueing network's parameters alone, before any data.

Registered as ``MODELS["queue"].checks``; the experiment layer calls it for every run, so
generic code needs no branch on the model kind.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.analysis.warmup import INVALID, RunWarning


def stability_warnings(model: Any, scenario: str = "run") -> list[RunWarning]:
    """Nodes whose traffic intensity rho = lambda / (c mu) is at least 1 with unlimited room.

    Parameters
    ----------
    model
        The validated queueing-network parameters (nodes with rates, servers, routing).
    scenario
        Label for the records.

    Returns
    -------
    list[RunWarning]
        One ``unstable_queue`` record (invalid) per such node.
    """
    from sim.analysis import theory

    nodes = list(model.nodes)
    index = {n.name: i for i, n in enumerate(nodes)}
    routing = np.zeros((len(nodes), len(nodes)))
    for i, node in enumerate(nodes):
        for target, p in node.routing:
            routing[i, index[target]] = p
    try:
        lam = theory.traffic_equations(np.array([n.arrival_rate for n in nodes]), routing)
    except np.linalg.LinAlgError:
        return []
    out = []
    for node, lam_i in zip(nodes, lam, strict=True):
        rho = float(lam_i) / (node.servers * node.service_rate)
        if rho >= 1.0 and node.capacity is None:
            out.append(
                RunWarning(
                    "unstable_queue", INVALID, scenario, node.name,
                    f"node {node.name} has traffic intensity rho = {rho:.3g} >= 1 with "
                    "unlimited capacity: its queue grows without bound, so no steady-state "
                    "mean exists and every wait metric depends on the run length",
                    {"rho": rho, "arrival_rate": float(lam_i), "servers": node.servers,
                     "service_rate": node.service_rate},
                )
            )  # fmt: skip
    return out
