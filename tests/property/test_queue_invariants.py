"""Invariants of the queueing-network engine over random valid networks.

Networks of 1-3 nodes with random servers, service distributions, finite capacities with
loss or diversion, priority classes and feedback routing. Every visit is accounted for at
every node, and a network is deterministic for its seed. The resource classes themselves,
under random traces with capacities and waiting windows, keep their counts balanced and
their limits.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from property_support import examples, queue_configs, same_metrics

from sim.config.params import validate
from sim.engine import Hours, PriorityServers, Servers
from sim.engine.servers import GRANTED, WITHDRAWN
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


# ------------------------------------------------------------- the resource classes directly
_traces = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=5.0),  # gap since the previous arrival
        st.floats(min_value=0.01, max_value=5.0),  # service
        st.integers(min_value=0, max_value=2),  # class
        st.one_of(st.none(), st.floats(min_value=0.0, max_value=3.0)),  # patience
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=examples(0.4))
@given(
    trace=_traces,
    servers=st.one_of(st.integers(min_value=0, max_value=3), st.just(math.inf)),
    extra=st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
    priority=st.booleans(),
    until=st.floats(min_value=1.0, max_value=80.0),
)
def test_resource_counts_balance_and_limits_hold(trace, servers, extra, priority, until):
    """Any arrivals, services, classes, capacities (c and K from 0 to inf) and patience on
    Servers or PriorityServers: at every event busy ≤ c and present ≤ K; at the end arrived
    = released + refused + timed out + present; granted waits are ≥ 0 and within each one's
    patience; tallied time-averages lie within [0, c] and [0, K]. With c = 0 nothing is
    granted; with c = inf nothing waits."""
    env = simpy.Environment()
    capacity = None if extra is None else servers + extra
    kind = PriorityServers if priority else Servers
    res = kind(env, servers, capacity, classes=3)
    outcomes: list[tuple[bool, float, float | None]] = []

    def check() -> None:
        assert 0 <= res.busy <= servers, (res.busy, servers)
        assert res.present <= (capacity if capacity is not None else 10**9), res.present
        assert res.waiting == res.present - res.busy, (res.waiting, res.present, res.busy)

    def customer(
        service: float, k: int, patience: float | None
    ) -> Generator[simpy.Event, None, None]:
        with res.request(k, window=patience) as req:
            granted = yield req
            check()
            outcomes.append((bool(granted), req.wait, patience))
            if granted:
                yield env.timeout(service)
        check()
        assert servers or not granted, "a request was granted with 0 servers"

    def source() -> Generator[simpy.Event, None, None]:
        for gap, service, k, patience in trace:
            yield env.timeout(gap)
            env.process(customer(service, k, patience))
            check()

    env.process(source())
    env.run(until=until)
    timed_out = sum(res.timed_out)
    assert res.arrived_total == (
        res.released_total + res.refused_total + timed_out + res.present
    ), (res.arrived_total, res.released_total, res.refused_total, timed_out, res.present)
    for granted, wait, patience in outcomes:
        if granted:
            assert wait >= 0 and (patience is None or wait <= patience), (wait, patience)
            assert servers < math.inf or wait == 0, wait
    if servers == math.inf:
        assert res.waiting == 0 and sum(res.refused) + sum(res.timed_out) == 0
    assert -1e-12 <= res.busy_mean(until) <= servers + 1e-12
    if capacity is not None:
        assert res.present_mean(until) <= capacity + 1e-12


@settings(max_examples=examples(0.4))
@given(
    trace=st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=3.0),  # gap since the previous arrival
            st.floats(min_value=0.01, max_value=5.0),  # service
            st.sampled_from([0.5, 1.0, 2.0, 4.0]),  # amount
            st.one_of(st.none(), st.floats(min_value=0.0, max_value=4.0)),  # dies after
        ),
        min_size=1,
        max_size=30,
    ),
    total=st.sampled_from([0.0, 1.0, 4.0, 6.5, math.inf]),
    window=st.one_of(st.none(), st.floats(min_value=0.0, max_value=3.0)),
    until=st.floats(min_value=1.0, max_value=60.0),
)
def test_hours_balance_under_withdrawal_and_any_total(trace, total, window, until):
    """Hours with a total of 0 to inf, a window, and callers who die (are interrupted) at
    random: units in use never exceed the total and equal the sum of the amounts granted
    and not yet released; arrived = released + refused + timed out + withdrawn + present; nothing is
    granted with a total of 0 and nothing waits with inf."""
    env = simpy.Environment()
    hours = Hours(env, total, window=window)
    made: list = []  # every request, to sum the amounts of those granted and not released
    withdrawn = [0]

    def check() -> None:
        assert hours.units <= total + 1e-9, (hours.units, total)
        holding = sum(r.amount for r in made if r.state == GRANTED)
        assert abs(hours.units - holding) < 1e-9, (hours.units, holding)
        assert hours.waiting == hours.present - hours.busy, (hours.waiting, hours.present)
        if total == math.inf:
            assert hours.waiting == 0, hours.waiting

    def client(amount: float, service: float) -> Generator[simpy.Event, None, None]:
        try:
            with hours.request(amount) as req:
                made.append(req)
                if (yield req):
                    assert total > 0, "granted with a total of 0"
                    check()
                    yield env.timeout(service)
        except simpy.Interrupt:
            withdrawn[0] += req.state == WITHDRAWN
        check()

    def death(victim: simpy.Process, after: float) -> Generator[simpy.Event, None, None]:
        yield env.timeout(after)
        if victim.is_alive:
            victim.interrupt()

    def source() -> Generator[simpy.Event, None, None]:
        for gap, service, amount, dies in trace:
            yield env.timeout(gap)
            if amount > total > 0:
                continue  # such a request is a caller's error (ValueError), not a load
            proc = env.process(client(amount, service))
            if dies is not None:
                env.process(death(proc, dies))

    env.process(source())
    env.run(until=until)
    accounted = (
        hours.released_total
        + hours.refused_total
        + sum(hours.timed_out)
        + withdrawn[0]
        + hours.present
    )
    assert hours.arrived_total == accounted, (hours.arrived_total, accounted)
