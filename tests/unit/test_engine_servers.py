"""Servers, PriorityServers, Caseload, Teams and TimeWeighted on hand-made traces whose
every time is known exactly: generator processes drive the resources as the models do."""

from __future__ import annotations

from collections.abc import Generator, Sequence

import numpy as np
import pytest
import simpy

from sim.engine import Caseload, Hours, PriorityServers, Request, Servers, Teams, TimeWeighted
from sim.engine.servers import GRANTED, REFUSED, RELEASED, TIMED_OUT, WITHDRAWN

# (arrival time, service time, priority); customers are numbered from 0 in list order.
Trace = Sequence[tuple[float, float, int]]


def _run(
    trace: Trace,
    servers: int = 1,
    capacity: int | None = None,
    *,
    priority: bool = False,
    window: float | None = None,
    warm_up: float = 0.0,
    until: float = 100.0,
    classes: int = 1,
) -> tuple[Servers, list[Request], dict[int, tuple[float, float]]]:
    """Drive one resource with one process per customer; returns it, the requests and
    ``{customer: (start, end)}`` for those served."""
    env = simpy.Environment()
    kind = PriorityServers if priority else Servers
    res = kind(env, servers, capacity, window=window, warm_up=warm_up, classes=classes)
    requests: list[Request] = []
    served: dict[int, tuple[float, float]] = {}

    def customer(k: int, service: float, p: int) -> Generator[simpy.Event, None, None]:
        with res.request(p) as req:
            requests.append(req)
            if not (yield req):
                return
            start = env.now
            yield env.timeout(service)
        served[k] = (start, env.now)

    def source() -> Generator[simpy.Event, None, None]:
        for k, (t, service, p) in enumerate(trace):
            yield env.timeout(t - env.now)
            env.process(customer(k, service, p))

    env.process(source())
    env.run(until=until)
    return res, requests, served


def _starts(served: dict[int, tuple[float, float]]) -> list[float]:
    return [served[k][0] for k in sorted(served)]


def test_single_server_fifo_waits_are_exact():
    """c = 1: arrivals 0, 1, 2 needing 3, 1, 1 start at 0, 3, 4 and end at 3, 4, 5."""
    res, reqs, served = _run([(0.0, 3.0, 0), (1.0, 1.0, 0), (2.0, 1.0, 0)])
    assert served == {0: (0.0, 3.0), 1: (3.0, 4.0), 2: (4.0, 5.0)}, served
    assert [r.wait for r in reqs] == [0.0, 2.0, 2.0]
    assert res.waits() == [pytest.approx(4.0 / 3.0)], res.waits()
    assert res.wait_probability() == [pytest.approx(2.0 / 3.0)]
    assert (res.arrived_total, res.released_total, res.refused_total) == (3, 3, 0)
    assert (res.present, res.busy, res.waiting) == (0, 0, 0)
    assert all(r.state == RELEASED for r in reqs)


def test_two_servers_serve_the_queue_as_servers_free():
    """c = 2: the third and fourth customers take whichever server frees first."""
    _, _, served = _run([(0.0, 2.0, 0), (0.5, 2.0, 0), (1.0, 1.0, 0), (1.5, 1.0, 0)], servers=2)
    assert _starts(served) == [0.0, 0.5, 2.0, 2.5]
    assert [served[k][1] for k in range(4)] == [2.0, 2.5, 3.0, 3.5]


def test_fifo_ignores_priority_labels():
    """Under Servers (FIFO) a later class-0 arrival still waits its turn."""
    _, _, served = _run([(0.0, 2.0, 1), (0.5, 1.0, 1), (1.0, 1.0, 0)])
    assert _starts(served) == [0.0, 2.0, 3.0]


def test_priority_serves_lowest_class_first_fifo_within_class_without_preemption():
    """Non-pre-emptive priority: class 0 jumps the queue but never interrupts service."""
    trace = [(0.0, 2.0, 1), (0.5, 1.0, 1), (1.0, 1.0, 0), (1.5, 1.0, 0)]
    res, _, served = _run(trace, priority=True, classes=2)
    # Customer 0 (class 1) is not pre-empted; then class 0 in arrival order; then class 1.
    assert served == {0: (0.0, 2.0), 2: (2.0, 3.0), 3: (3.0, 4.0), 1: (4.0, 5.0)}, served
    # Class 0 waited 1.0 and 1.5; class 1 waited 0 and 3.5.
    assert res.waits() == [pytest.approx(1.25), pytest.approx(1.75)], res.waits()


def _simpy_starts(trace: Trace, servers: int, priority: bool) -> list[float]:
    """Start times of ``trace`` on ``simpy.PriorityResource`` or ``simpy.Resource``."""
    env = simpy.Environment()
    plain = simpy.PriorityResource(env, servers) if priority else simpy.Resource(env, servers)
    starts: dict[int, float] = {}

    def customer(k: int, service: float, p: int) -> Generator[simpy.Event, None, None]:
        with plain.request(priority=p) if priority else plain.request() as req:
            yield req
            starts[k] = env.now
            yield env.timeout(service)

    def source() -> Generator[simpy.Event, None, None]:
        for k, (t, service, p) in enumerate(trace):
            yield env.timeout(t - env.now)
            env.process(customer(k, service, p))

    env.process(source())
    env.run()
    return [starts[k] for k in range(len(trace))]


@pytest.mark.parametrize("priority", [True, False])
def test_order_of_service_matches_simpy_on_a_random_trace(priority: bool):
    """The same 300 customers (random arrivals, services, three classes) get the same start
    times from PriorityServers as from ``simpy.PriorityResource`` (from Servers as from
    ``simpy.Resource``): the order of service is SimPy's."""
    rng = np.random.default_rng(7)
    times = np.cumsum(rng.exponential(0.3, 300))
    services, classes = rng.exponential(1.0, 300), rng.integers(0, 3, 300)
    trace = [(float(t), float(s), int(p)) for t, s, p in zip(times, services, classes, strict=True)]
    _, _, served = _run(trace, servers=3, priority=priority, until=1e9)
    ours = [served[k][0] for k in range(len(trace))]
    np.testing.assert_allclose(ours, _simpy_starts(trace, 3, priority), rtol=1e-12)
    assert len(set(ours)) > 250, "the trace should make most customers start at distinct times"


def test_capacity_refuses_the_arrival_that_finds_k_present():
    """K = 2, c = 1: the third arrival finds two present and is refused (value False, no
    server); later ones get in."""
    trace = [(0.0, 1.0, 0), (0.1, 1.0, 0), (0.2, 1.0, 0), (1.5, 1.0, 0)]
    res, reqs, served = _run(trace, servers=1, capacity=2)
    assert [r.state for r in reqs] == [RELEASED, RELEASED, REFUSED, RELEASED]
    assert sorted(served) == [0, 1, 3]
    assert _starts(served) == [0.0, 1.0, 2.0]
    assert (res.arrived_total, res.released_total, res.refused_total, res.present) == (4, 3, 1, 0)
    assert res.refusal_probability() == [0.25]


def test_a_refused_caller_decides_lost_or_diverted():
    """Refusal only reports: the process may go to another resource at the same instant."""
    env = simpy.Environment()
    a, b = Servers(env, 1, 1), Servers(env, 1)
    path: list[tuple[str, float]] = []

    def patient(name: str) -> Generator[simpy.Event, None, None]:
        with a.request() as req:
            if (yield req):
                path.append((f"{name} at a", env.now))
                yield env.timeout(5.0)
                return
        with b.request() as req:
            yield req
            path.append((f"{name} diverted to b", env.now))
            yield env.timeout(1.0)

    env.process(patient("p1"))
    env.process(patient("p2"))
    env.run()
    assert path == [("p1 at a", 0.0), ("p2 diverted to b", 0.0)], path
    assert (a.refused_total, b.released_total) == (1, 1)


def test_teams_lose_a_call_no_team_takes_within_the_window():
    """Teams(c = 1, window 1.5): a call arriving at 1 while the team is busy until 3 times
    out at 2.5 (value False, the team never serves it); one arriving at 2 gets the team at
    3 (wait 1 < 1.5). Window 0 refuses at once."""
    env = simpy.Environment()
    team = Teams(env, 1, window=1.5)
    outcomes: dict[str, tuple[bool, float]] = {}

    def call(name: str, at: float, duration: float) -> Generator[simpy.Event, None, None]:
        yield env.timeout(at)
        with team.request() as req:
            got = yield req
            outcomes[name] = (got, env.now)
            if got:
                yield env.timeout(duration)

    env.process(call("first", 0.0, 3.0))
    env.process(call("late", 1.0, 1.0))
    env.process(call("in time", 2.0, 1.0))
    env.run()
    assert outcomes == {"first": (True, 0.0), "late": (False, 2.5), "in time": (True, 3.0)}
    assert team.timeout_probability() == [pytest.approx(1 / 3)]
    assert team.waits() == [pytest.approx(0.5)]
    refuse = Teams(simpy.Environment(), 1, window=0.0)
    held, again = refuse.request(), refuse.request()
    assert (held.state, again.state, again.value) == (GRANTED, REFUSED, False)


def test_a_request_withdrawn_while_waiting_leaves_the_queue():
    """An interrupted waiting process leaves the ``with`` block: its request is withdrawn,
    the next in line gets the server, and counts stay balanced."""
    env = simpy.Environment()
    res = Servers(env, 1)
    log: list[tuple[str, float]] = []

    def patient(name: str, service: float) -> Generator[simpy.Event, None, None]:
        try:
            with res.request() as req:
                yield req
                log.append((name, env.now))
                yield env.timeout(service)
        except simpy.Interrupt:
            log.append((f"{name} gave up", env.now))

    env.process(patient("a", 4.0))
    quitter = env.process(patient("b", 1.0))
    env.process(patient("c", 1.0))

    def interrupt() -> Generator[simpy.Event, None, None]:
        yield env.timeout(2.0)
        quitter.interrupt()

    env.process(interrupt())
    env.run()
    assert log == [("a", 0.0), ("b gave up", 2.0), ("c", 4.0)], log
    assert (res.present, res.waiting, res.busy, res.released_total) == (0, 0, 0, 2)


def test_release_twice_does_nothing_more():
    """An explicit release inside the ``with`` block and the block's own release count once."""
    env = simpy.Environment()
    res = Servers(env, 1)
    req = res.request()
    res.release(req)
    res.release(req)
    assert (req.state, res.busy, res.present, res.released_total) == (RELEASED, 0, 0, 1)
    assert res.request().state == GRANTED
    waiting = Servers(env, 1)
    waiting.request()
    queued = waiting.request()
    waiting.release(queued)
    assert (queued.state, waiting.present, waiting.waiting) == (WITHDRAWN, 1, 0)


def test_caseload_enrols_and_discharges_places():
    """Caseload(2 places, no waiting list beyond K = 3): enrol, wait, be refused, discharge."""
    env = simpy.Environment()
    caseload = Caseload(env, 2, 3)
    first, second, third, fourth = (caseload.enrol() for _ in range(4))
    assert [r.state for r in (first, second, fourth)] == [GRANTED, GRANTED, REFUSED]
    assert (caseload.on_caseload, caseload.waiting) == (2, 1)
    caseload.discharge(first)
    env.run()
    assert (third.state, third.value, caseload.on_caseload, caseload.waiting) == (
        GRANTED,
        True,
        2,
        0,
    )


def test_visits_unfinished_at_the_end_stay_present():
    """A customer still waiting or in service when the run stops is counted present."""
    res, reqs, served = _run([(0.0, 3.0, 0), (1.0, 3.0, 0)], until=4.0)
    assert sorted(served) == [0]
    assert reqs[1].state == GRANTED and reqs[1].started == 3.0
    assert (res.present, res.busy, res.waiting) == (1, 1, 0)


def test_tallies_integrate_the_step_functions_exactly():
    """c = 1, arrivals 0, 1, 2 needing 3, 1, 1: N(t) = 1, 2, 3, 2, 1 on unit intervals, then 0."""
    res, _, _ = _run([(0.0, 3.0, 0), (1.0, 1.0, 0), (2.0, 1.0, 0)], until=6.0)
    assert res.present_mean(6.0) == pytest.approx(9.0 / 6.0, rel=1e-15)
    assert res.busy_mean(6.0) == pytest.approx(5.0 / 6.0, rel=1e-15)
    assert res.waiting_mean(6.0) == pytest.approx(4.0 / 6.0, rel=1e-15)
    assert res.utilisation(6.0) == pytest.approx(5.0 / 6.0, rel=1e-15)
    # The tail after the last event counts at its last value (0 here).
    assert res.present_mean(10.0) == pytest.approx(9.0 / 10.0, rel=1e-15)


def test_tallies_ignore_the_warm_up():
    """With warm-up 1.5 only [1.5, 6] counts: N area 0.5*2 + 3 + 2 + 1 = 7, busy area 3.5;
    waits count only requests made from 1.5 on (customer 2: waited 2)."""
    res, _, _ = _run([(0.0, 3.0, 0), (1.0, 1.0, 0), (2.0, 1.0, 0)], warm_up=1.5, until=6.0)
    assert res.present_mean(6.0) == pytest.approx(7.0 / 4.5, rel=1e-15)
    assert res.busy_mean(6.0) == pytest.approx(3.5 / 4.5, rel=1e-15)
    assert np.isnan(res.present_mean(1.5))
    assert res.waits() == [2.0] and res.requested == [1]


def test_tallies_count_a_state_that_began_before_the_warm_up():
    """A queue already present at the warm-up counts from the warm-up on."""
    # N = 2 on [0, 10), then 1 on [10, 20).
    res, _, _ = _run([(0.0, 10.0, 0), (0.0, 10.0, 0)], warm_up=5.0, until=20.0)
    assert res.present_mean(20.0) == pytest.approx((2 * 5 + 1 * 10) / 15, rel=1e-15)


@pytest.mark.parametrize(
    ("servers", "capacity", "window", "classes"),
    [
        (-1, None, None, 1),
        (1.5, None, None, 1),
        (float("nan"), None, None, 1),
        (1, -1, None, 1),
        (3, 2, None, 1),
        (float("inf"), 5, None, 1),
        (1, None, -1.0, 1),
        (1, None, None, 0),
    ],
)
def test_bad_sizes_are_rejected(servers, capacity, window, classes):
    """Servers and K whole numbers >= 0 or inf, K no smaller than c, a window >= 0 and at
    least one class."""
    with pytest.raises(ValueError):
        Servers(simpy.Environment(), servers, capacity, window=window, classes=classes)


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


def test_hours_serve_in_order_without_overtaking():
    """Hours(total 10): requests for 6, 6, 2 at t = 0, 1, 2. The second does not fit until
    the first leaves at 5, and the third (which would fit) waits behind it: no overtaking.
    Units in use: 6 on [0, 5), 8 on [5, 9) (the 2 starts at 5 too), 0 after."""
    env = simpy.Environment()
    hours = Hours(env, 10.0)
    starts: dict[str, float] = {}

    def client(
        name: str, at: float, amount: float, length: float
    ) -> Generator[simpy.Event, None, None]:
        yield env.timeout(at)
        with hours.request(amount) as req:
            yield req
            starts[name] = env.now
            yield env.timeout(length)

    env.process(client("a", 0.0, 6.0, 5.0))
    env.process(client("b", 1.0, 6.0, 4.0))
    env.process(client("c", 2.0, 2.0, 4.0))
    env.run()
    assert starts == {"a": 0.0, "b": 5.0, "c": 5.0}, starts
    assert hours.units_mean(10.0) == pytest.approx((6 * 5 + 8 * 4) / 10, rel=1e-15)
    assert hours.utilisation(10.0) == pytest.approx((6 * 5 + 8 * 4) / 100, rel=1e-15)
    # Requests served: 1 on [0, 5), 2 on [5, 9); waiting: 1 on [1, 2), 2 on [2, 5).
    assert hours.busy_mean(10.0) == pytest.approx((5 + 2 * 4) / 10, rel=1e-15)
    assert hours.waiting_mean(10.0) == pytest.approx((1 + 2 * 3) / 10, rel=1e-15)
    assert (hours.units, hours.busy, hours.present, hours.waiting) == (0.0, 0, 0, 0)


def test_hours_a_timed_out_head_lets_the_next_request_in():
    """With a window of 1, a request for 8 of 10 hours (4 in use) times out at 1, and the
    request for 3 queued behind it starts at once."""
    env = simpy.Environment()
    hours = Hours(env, 10.0, window=1.0)
    held = hours.request(4.0)
    big = hours.request(8.0)
    small = hours.request(3.0)
    env.run(until=1.5)
    assert (held.state, big.state, small.state) == (GRANTED, TIMED_OUT, GRANTED)
    assert small.started == 1.0 and big.value is False
    assert (hours.units, hours.busy) == (7.0, 2)
    with pytest.raises(ValueError):
        hours.request(11.0)


def test_the_docstring_examples_run():
    """The usage examples in sim/engine/servers.py and monitor.py are correct as written."""
    import doctest

    from sim.engine import monitor, servers

    for module in (servers, monitor):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, (module.__name__, result)
