"""Every metric the queueing-network model writes, described once (see :mod:`sim.models.kpi`).

Node names come from the model config, so each metric is a family ``<metric>__{node}``; the
label names the node. Times are in the model's time units; every metric counts customers
arriving (or, for throughput, leaving) after the warm-up.
"""

from __future__ import annotations

from sim.models.kpi import Kpi, KpiSet, Part

GROUP = "Queueing network (per node)"
SOURCE = "simulate._node_metrics"

PARTS = {"priority": Part("[0-9]+", str, "priority class, 0 first")}

ENTRIES: tuple[Kpi, ...] = (
    Kpi("wait_mean__{node}__p{priority}", "Average wait in the queue at node {node}, "
        "priority {priority}", "time units",
        "Mean time from arrival to start of service of priority-{priority} customers that "
        "started service.", SOURCE, "lower", short="Wait ({node}, p{priority})", group=GROUP),
    Kpi("wait_mean__{node}", "Average wait in the queue at node {node}", "time units",
        "Mean time from arrival to start of service of customers that started service.",
        SOURCE, "lower", short="Average wait in the queue ({node})", group=GROUP),
    Kpi("sojourn_mean__{node}", "Average time in the system at node {node}", "time units",
        "Mean time from arrival to end of service of customers served.", SOURCE, "lower",
        short="Average time in the system ({node})", group=GROUP),
    Kpi("utilisation__{node}", "Server utilisation at node {node}", "%",
        "Busy server time / (servers x time), from the warm-up.", "Node.utilisation",
        scale=100.0, short="Server utilisation ({node})", group=GROUP),
    Kpi("number_in_system_mean__{node}", "Average number in the system at node {node}",
        "people", "Time-weighted mean number present (waiting or in service).",
        "Node.present_mean", "lower", short="Average number in the system ({node})",
        group=GROUP),
    Kpi("blocking_probability__{node}", "Arrivals turned away at node {node}", "%",
        "Arrivals blocked or diverted / arrivals.", SOURCE, "lower", scale=100.0,
        short="Arrivals turned away ({node})", group=GROUP),
    Kpi("throughput__{node}", "Throughput at node {node}", "per time unit",
        "Customers leaving the node after warm-up / (horizon - warm-up).", SOURCE,
        short="Throughput ({node})", group=GROUP),
)  # fmt: skip

KPIS = KpiSet(ENTRIES, PARTS)
