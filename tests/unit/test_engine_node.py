"""ServiceNode and TimeWeighted on hand-made traces whose every time is known exactly."""

from __future__ import annotations

from collections.abc import Generator, Sequence

import numpy as np
import pytest
import simpy

from sim.engine import Outcome, ServiceNode, TimeWeighted, Visit, VisitLog

# (arrival time, service time, priority); customers are numbered from 1 in list order.
Trace = Sequence[tuple[float, float, int]]


def _feed(env: simpy.Environment, node: ServiceNode, trace: Trace, **kwargs) -> None:
    def source() -> Generator[simpy.Event, None, None]:
        for customer, (t, service, priority) in enumerate(trace, start=1):
            yield env.timeout(t - env.now)
            node.arrive(customer, service, priority=priority, **kwargs)

    env.process(source())


def _run(
    trace: Trace,
    servers: int = 1,
    capacity: int | None = None,
    *,
    priority: bool = False,
    warm_up: float = 0.0,
    until: float = 100.0,
) -> tuple[ServiceNode, dict[str, np.ndarray]]:
    env = simpy.Environment()
    node = ServiceNode(env, 0, servers, capacity, priority=priority, warm_up=warm_up)
    _feed(env, node, trace)
    env.run(until=until)
    return node, node.log.arrays()


def test_single_server_fifo_waits_are_exact():
    """c = 1: arrivals 0, 1, 2 needing 3, 1, 1 start at 0, 3, 4 and end at 3, 4, 5."""
    node, log = _run([(0.0, 3.0, 0), (1.0, 1.0, 0), (2.0, 1.0, 0)])
    np.testing.assert_array_equal(log["start"], [0.0, 3.0, 4.0])
    np.testing.assert_array_equal(log["end"], [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(log["start"] - log["arrival"], [0.0, 2.0, 2.0])
    assert (log["outcome"] == Outcome.SERVED).all()
    assert (node.arrived, node.departed, node.blocked, node.in_system, node.busy) == (3, 3, 0, 0, 0)


def test_two_servers_serve_the_queue_as_servers_free():
    """c = 2: the third and fourth customers take whichever server frees first."""
    _, log = _run([(0.0, 2.0, 0), (0.5, 2.0, 0), (1.0, 1.0, 0), (1.5, 1.0, 0)], servers=2)
    np.testing.assert_array_equal(log["start"], [0.0, 0.5, 2.0, 2.5])
    np.testing.assert_array_equal(log["end"], [2.0, 2.5, 3.0, 3.5])


def test_fifo_ignores_priority_labels():
    """Under FIFO a later high-priority arrival still waits its turn."""
    _, log = _run([(0.0, 2.0, 1), (0.5, 1.0, 1), (1.0, 1.0, 0)])
    np.testing.assert_array_equal(log["start"], [0.0, 2.0, 3.0])


def test_priority_serves_lowest_class_first_fifo_within_class_without_preemption():
    """Non-pre-emptive priority: class 0 jumps the queue but never interrupts service."""
    trace = [(0.0, 2.0, 1), (0.5, 1.0, 1), (1.0, 1.0, 0), (1.5, 1.0, 0)]
    _, log = _run(trace, priority=True)
    # Customer 1 (class 1) is not pre-empted; then class 0 in arrival order; then class 1.
    np.testing.assert_array_equal(log["start"], [0.0, 4.0, 2.0, 3.0])
    np.testing.assert_array_equal(log["end"], [2.0, 5.0, 3.0, 4.0])


def test_capacity_blocks_the_arrival_that_finds_k_present():
    """K = 2, c = 1: the third arrival finds two present and is blocked; later ones get in."""
    trace = [(0.0, 1.0, 0), (0.1, 1.0, 0), (0.2, 1.0, 0), (1.5, 1.0, 0)]
    node, log = _run(trace, servers=1, capacity=2)
    assert log["outcome"].tolist() == [
        Outcome.SERVED,
        Outcome.SERVED,
        Outcome.BLOCKED,
        Outcome.SERVED,
    ]
    assert np.isnan(log["start"][2]) and np.isnan(log["end"][2])
    np.testing.assert_array_equal(log["start"][[0, 1, 3]], [0.0, 1.0, 2.0])
    assert (node.arrived, node.departed, node.blocked, node.in_system) == (4, 3, 1, 0)


def test_blocked_arrivals_are_lost_or_diverted():
    """Blocked arrive() returns None; mark_diverted relabels the row and the owner reroutes."""
    env = simpy.Environment()
    log = VisitLog()
    a = ServiceNode(env, 0, 1, 1, log=log)
    b = ServiceNode(env, 1, 1, log=log)
    assert a.arrive(1, 5.0) is not None
    assert a.arrive(2, 5.0) is None  # lost: stays BLOCKED
    if a.arrive(3, 5.0) is None:  # diverted to b
        a.mark_diverted()
        b.arrive(3, 1.0)
    env.run(until=10.0)
    cols = log.arrays()
    assert cols["node"].tolist() == [0, 0, 0, 1]
    assert cols["customer"].tolist() == [1, 2, 3, 3]
    assert cols["outcome"].tolist() == [
        Outcome.SERVED,
        Outcome.BLOCKED,
        Outcome.DIVERTED,
        Outcome.SERVED,
    ]
    assert (a.blocked, b.arrived, b.departed) == (2, 1, 1)


def test_visits_unfinished_at_the_end_stay_in_system():
    """A visit still waiting or in service when the run stops keeps NaN times and IN_SYSTEM."""
    node, log = _run([(0.0, 3.0, 0), (1.0, 3.0, 0)], until=4.0)
    assert log["outcome"].tolist() == [Outcome.SERVED, Outcome.IN_SYSTEM]
    assert log["start"][1] == 3.0 and np.isnan(log["end"][1])
    assert (node.in_system, node.busy, node.queued) == (1, 1, 0)


def test_node_monitors_integrate_the_step_functions_exactly():
    """c = 1, arrivals 0, 1, 2 needing 3, 1, 1: N(t) = 1, 2, 3, 2, 1 on unit intervals, then 0."""
    node, _ = _run([(0.0, 3.0, 0), (1.0, 1.0, 0), (2.0, 1.0, 0)], until=6.0)
    assert node.number_in_system_mean(6.0) == pytest.approx(9.0 / 6.0, rel=1e-15)
    assert node.busy_servers_mean(6.0) == pytest.approx(5.0 / 6.0, rel=1e-15)
    assert node.queue_length_mean(6.0) == pytest.approx(4.0 / 6.0, rel=1e-15)
    # The tail after the last event counts at its last value (0 here, 1 busy until t = 5).
    assert node.number_in_system_mean(10.0) == pytest.approx(9.0 / 10.0, rel=1e-15)


def test_node_monitors_ignore_the_warm_up():
    """With warm-up 1.5 only [1.5, 6] counts: N area 0.5*2 + 3 + 2 + 1 = 7, busy area 3.5."""
    node, _ = _run([(0.0, 3.0, 0), (1.0, 1.0, 0), (2.0, 1.0, 0)], warm_up=1.5, until=6.0)
    assert node.number_in_system_mean(6.0) == pytest.approx(7.0 / 4.5, rel=1e-15)
    assert node.busy_servers_mean(6.0) == pytest.approx(3.5 / 4.5, rel=1e-15)
    assert np.isnan(node.number_in_system_mean(1.5))


def test_monitor_counts_a_state_that_began_before_the_warm_up():
    """A queue that is already present at the warm-up counts from the warm-up on."""
    # N = 2 on [0, 10), then 1 on [10, 20).
    node, _ = _run([(0.0, 10.0, 0), (0.0, 10.0, 0)], warm_up=5.0, until=20.0)
    assert node.number_in_system_mean(20.0) == pytest.approx((2 * 5 + 1 * 10) / 15, rel=1e-15)


def test_hold_keeps_the_server_busy_until_release():
    """A held visit keeps its server after its service time until the owner releases it."""
    env = simpy.Environment()
    node = ServiceNode(env, 0, 1)
    ended: list[float] = []
    held: list[Visit] = []

    def hold_end(visit: Visit) -> None:
        ended.append(env.now)
        held.append(visit)

    node.arrive(1, 1.0, hold=True, on_end=hold_end)
    node.arrive(2, 1.0)

    def releaser() -> Generator[simpy.Event, None, None]:
        yield env.timeout(3.0)
        node.release(held[0])

    env.process(releaser())
    env.run(until=10.0)
    log = node.log.arrays()
    assert ended == [1.0]
    np.testing.assert_array_equal(log["end"], [3.0, 4.0])
    np.testing.assert_array_equal(log["start"], [0.0, 3.0])


def test_callbacks_fire_at_service_start_and_end():
    """on_start fires when service starts (after any wait) and on_end when it ends.

    At a completion the freed server takes the next customer before ``on_end`` runs, so a
    customer routed back to the same node joins behind those already waiting.
    """
    env = simpy.Environment()
    node = ServiceNode(env, 0, 1)
    seen: list[tuple[str, int, float]] = []
    for customer in (1, 2):
        node.arrive(
            customer,
            2.0,
            on_start=lambda v: seen.append(("start", v.customer, env.now)),
            on_end=lambda v: seen.append(("end", v.customer, env.now)),
        )
    env.run()
    assert seen == [("start", 1, 0.0), ("start", 2, 2.0), ("end", 1, 2.0), ("end", 2, 4.0)]


@pytest.mark.parametrize(("servers", "capacity"), [(0, None), (3, 2)])
def test_bad_node_sizes_are_rejected(servers, capacity):
    """At least one server, and K no smaller than c."""
    with pytest.raises(ValueError):
        ServiceNode(simpy.Environment(), 0, servers, capacity)


def test_time_weighted_step_function():
    """Value 0 on [0, 1), 2 on [1, 3), 5 on [3, 4), 1 from 4; start 2, until 6: area 2 + 5 + 2."""
    m = TimeWeighted(start=2.0)
    m.update(1.0, 2.0)
    m.update(3.0, 5.0)
    m.update(4.0, 1.0)
    assert m.area(6.0) == pytest.approx(9.0, rel=1e-15)
    assert m.mean(6.0) == pytest.approx(9.0 / 4.0, rel=1e-15)
    assert m.area(2.0) == 0.0
    assert np.isnan(m.mean(2.0))


def test_time_weighted_initial_value_and_updates_before_start():
    """Changes before the start only set the value in force at the start."""
    m = TimeWeighted(start=5.0, value=7.0)
    m.update(1.0, 3.0)
    m.update(2.0, 4.0)
    assert m.mean(9.0) == pytest.approx(4.0, rel=1e-15)
    m.update(9.0, 0.0)
    assert m.area(13.0) == pytest.approx(16.0, rel=1e-15)
    assert m.mean(13.0) == pytest.approx(2.0, rel=1e-15)


def test_time_weighted_matches_a_direct_integral_of_a_random_step_function():
    """Against numpy's integral of a random step function (fixed seed), from a mid-run start."""
    rng = np.random.default_rng(42)
    times = np.sort(rng.uniform(0.0, 100.0, 200))
    values = rng.integers(0, 10, 200).astype(float)
    start, until = 30.0, 120.0
    m = TimeWeighted(start=start)
    for t, v in zip(times, values, strict=True):
        m.update(float(t), float(v))
    edges = np.concatenate([[0.0], times, [until]])
    levels = np.concatenate([[0.0], values])
    lo, hi = np.clip(edges[:-1], start, until), np.clip(edges[1:], start, until)
    assert m.area(until) == pytest.approx(float(np.sum(levels * (hi - lo))), rel=1e-12)


def test_model_metrics_count_only_visits_that_arrive_after_the_warm_up():
    """The queue model's waits and sojourns are means over records arriving at or after warm-up."""
    from sim.models.base import OutputParams, RunParams
    from sim.models.queue_network.params import NodeParams, QueueModelParams
    from sim.models.queue_network.simulate import simulate

    node = NodeParams(
        name="a",
        arrival_rate=0.9,
        servers=1,
        service_rate=1.0,
        service_distribution="exponential",
        service_cv=1.0,
        capacity=None,
        discipline="fifo",
        priority_mix=(1.0,),
        blocked_to=None,
        routing=(),
    )
    run = RunParams(seed=3, replications=1, horizon=400.0, warm_up=150.0)
    result = simulate(QueueModelParams(nodes=(node,)), run, OutputParams(event_log=True), 0)
    events = result.tables["events"]
    after = events[events["arrival"] >= run.warm_up]
    started = after.dropna(subset=["start"])
    served = after[after["outcome"] == "served"]
    assert len(after) < len(events)  # the warm-up did drop records
    assert result.metrics["wait_mean__a"] == pytest.approx(
        (started["start"] - started["arrival"]).mean(), rel=1e-12
    )
    assert result.metrics["sojourn_mean__a"] == pytest.approx(
        (served["end"] - served["arrival"]).mean(), rel=1e-12
    )
    everyone = events.dropna(subset=["start"])
    assert result.metrics["wait_mean__a"] != pytest.approx(
        (everyone["start"] - everyone["arrival"]).mean(), rel=1e-9
    )
    ended = events["end"] >= run.warm_up
    span = run.horizon - run.warm_up
    assert result.metrics["throughput__a"] == pytest.approx(ended.sum() / span, rel=1e-12)
