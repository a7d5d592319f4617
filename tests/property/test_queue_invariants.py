"""Invariants of the queueing-network engine over random valid networks.

Networks of 1-3 nodes with random servers, service distributions, finite capacities with
loss or diversion, priority classes and feedback routing. Every visit is accounted for at
every node, and a network is deterministic for its seed.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from property_support import examples, queue_configs, same_metrics

from sim.config.params import validate
from sim.models import MODELS


def _simulate(cfg: dict, replication: int = 0):
    params = validate(cfg)
    return params, MODELS["queue"].simulate(params.model, params.run, params.output, replication)


@settings(max_examples=examples(0.4))
@given(cfg=queue_configs())
def test_every_visit_is_accounted_for(cfg):
    """arrived = departed + blocked + still present, at each node and in total."""
    params, result = _simulate(cfg)
    d = result.diagnostics
    assert d["arrived"] == d["departed"] + d["blocked"] + d["in_system_end"], d
    events = result.tables["events"]
    assert len(events) == d["visits"]
    for name, metric in result.metrics.items():
        if math.isnan(metric):
            continue
        assert metric >= 0, name
        if name.startswith(("utilisation__", "blocking_probability__")):
            assert metric <= 1 + 1e-12, (name, metric)


@settings(max_examples=examples(0.1))
@given(cfg=queue_configs())
def test_a_network_is_deterministic_for_its_seed(cfg):
    """The same config and replication give identical metrics and counts."""
    _, first = _simulate(cfg)
    _, again = _simulate(cfg)
    assert same_metrics(first.metrics, again.metrics)
    assert first.diagnostics["arrived"] == again.diagnostics["arrived"]
