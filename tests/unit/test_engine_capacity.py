"""Zero and unlimited capacity, withdrawal, and the engine's Level, on exact traces.

The care model has services a place does not have (capacity 0) and services it does not
constrain (``math.inf``); each engine class must take both. With 0 nothing is ever granted:
a request waits until its window or its process ends it, or K = 0 refuses it at once. With
``math.inf`` every request is granted at the moment it is made. A waiting request can be
withdrawn (a patient who dies while waiting) by ``cancel()`` or by leaving the ``with``
block of an interrupted process.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import numpy as np
import pytest
import simpy

from sim.engine import Caseload, Hours, Level, Marks, PriorityServers, Servers, Teams
from sim.engine.servers import GRANTED, REFUSED, RELEASED, TIMED_OUT, WAITING, WITHDRAWN

INF = math.inf

# Each class built with c servers (places, teams; hours of 2 units each) and a window.
Make = Callable[[simpy.Environment, float, "float | None"], Servers]
MAKERS: dict[str, Make] = {
    "Servers": lambda env, c, w: Servers(env, c, window=w),
    "PriorityServers": lambda env, c, w: PriorityServers(env, c, window=w),
    "Caseload": lambda env, c, w: Caseload(env, c, window=w),
    "Teams": lambda env, c, w: Teams(env, c, window=INF if w is None else w),
    "Hours": lambda env, c, w: Hours(env, 2.0 * c, window=w),
}


def _ask(res: Servers, k: int = 0):
    """One request of class ``k``; a package of 2 hours from :class:`Hours`."""
    return res.request(2.0) if isinstance(res, Hours) else res.request(k)


def _drive(
    res: Servers, env: simpy.Environment, trace: list[tuple[float, float]], until: float
) -> tuple[dict[int, tuple[float, float]], list[object]]:
    """One process per customer ``(arrival, service)``; returns who was served when and
    each request."""
    served: dict[int, tuple[float, float]] = {}
    reqs: list[object] = []

    def customer(k: int, at: float, service: float) -> Generator[simpy.Event, None, None]:
        yield env.timeout(at)
        with _ask(res, k % 2) as req:
            reqs.append(req)
            if not (yield req):
                return
            start = env.now
            yield env.timeout(service)
        served[k] = (start, env.now)

    for k, (at, service) in enumerate(trace):
        env.process(customer(k, at, service))
    env.run(until=until)
    return served, reqs


TRACE = [(0.0, 3.0), (1.0, 4.0), (1.0, 1.0), (2.5, 2.0)]


@pytest.mark.parametrize("name", list(MAKERS))
def test_zero_capacity_without_a_window_waits_for_ever(name: str):
    """0 servers (places, teams with an infinite window, hours): nobody is served, everyone
    is still waiting at the end, present = waiting = 4, busy 0, utilisation NaN."""
    env = simpy.Environment()
    res = MAKERS[name](env, 0, None)
    served, reqs = _drive(res, env, TRACE, until=10.0)
    assert served == {}, served
    assert [r.state for r in reqs] == [WAITING] * 4
    assert (res.present, res.waiting, res.busy, res.arrived_total) == (4, 4, 0, 4)
    # Present: 1 on [0, 1), 3 on [1, 2.5), 4 on [2.5, 10): area 1 + 4.5 + 30.
    assert res.present_mean(10.0) == pytest.approx(35.5 / 10.0, rel=1e-15)
    assert res.busy_mean(10.0) == 0.0
    assert math.isnan(res.utilisation(10.0)), res.utilisation(10.0)
    assert math.isnan(res.waits()[0]) and res.requested == [4], res.requested


@pytest.mark.parametrize("name", list(MAKERS))
def test_zero_capacity_with_a_window_times_every_request_out(name: str):
    """0 servers and a window of 2: each request gets ``False`` exactly 2 after it was
    made; the queue is emptied (no withdrawn requests kept for ever)."""
    env = simpy.Environment()
    res = MAKERS[name](env, 0, 2.0)
    ended: list[tuple[float, bool]] = []

    def customer(at: float) -> Generator[simpy.Event, None, None]:
        yield env.timeout(at)
        with _ask(res) as req:
            ended.append((env.now + 2.0, (yield req)))
            assert env.now == ended[-1][0] and req.state == TIMED_OUT, (env.now, req.state)

    for at, _ in TRACE:
        env.process(customer(at))
    env.run(until=10.0)
    assert [ok for _, ok in ended] == [False] * 4, ended
    assert (res.present, res.waiting, res.busy, sum(res.timed_out)) == (0, 0, 0, 4)
    assert res.timeout_probability()[0] == 1.0
    queue = res._heap if isinstance(res, PriorityServers) else res._queue
    assert len(queue) == 0, len(queue)


@pytest.mark.parametrize("name", list(MAKERS))
def test_zero_capacity_with_a_zero_window_refuses_at_once(name: str):
    """0 servers and window 0: every request comes back already refused (value False)."""
    res = MAKERS[name](simpy.Environment(), 0, 0.0)
    reqs = [_ask(res) for _ in range(3)]
    assert [(r.state, r.value) for r in reqs] == [(REFUSED, False)] * 3
    assert (res.present, res.refused_total, res.refusal_probability()[0]) == (0, 3, 1.0)


def test_zero_places_with_zero_capacity_refuse_at_once():
    """Caseload(0 places, K = 0): a service a place does not have refuses every enrolment."""
    caseload = Caseload(simpy.Environment(), 0, 0)
    place = caseload.enrol()
    assert (place.state, place.value, caseload.present, caseload.refused_total) == (
        REFUSED,
        False,
        0,
        1,
    )


@pytest.mark.parametrize("name", list(MAKERS))
def test_unlimited_capacity_grants_every_request_at_once(name: str):
    """inf servers: every customer starts on arrival and ends after its service; the number
    present is the number in service: 1 on [0, 1), 3 on [1, 2), 2 on [2, 2.5), 3 on
    [2.5, 3), 2 on [3, 4.5), 1 on [4.5, 5), 0 after: area 10 over [0, 10]."""
    env = simpy.Environment()
    res = MAKERS[name](env, INF, None)
    served, reqs = _drive(res, env, TRACE, until=10.0)
    assert served == {0: (0.0, 3.0), 1: (1.0, 5.0), 2: (1.0, 2.0), 3: (2.5, 4.5)}, served
    assert all(r.state == RELEASED and r.wait == 0.0 for r in reqs)
    assert res.busy_mean(10.0) == pytest.approx(10.0 / 10.0, rel=1e-15)
    assert res.present_mean(10.0) == res.busy_mean(10.0)
    assert res.waiting_mean(10.0) == 0.0
    assert res.utilisation(10.0) == 0.0
    assert res.wait_probability() == [0.0] * len(res.wait_probability())
    assert (res.arrived_total, res.released_total, res.present) == (4, 4, 0)


def test_unlimited_hours_grant_any_amount_and_tally_units():
    """Hours(inf): amounts of 5, 1e9 and 0.5 are all granted at once; units add up."""
    env = simpy.Environment()
    hours = Hours(env, INF)
    reqs = [hours.request(a) for a in (5.0, 1e9, 0.5)]
    assert [r.state for r in reqs] == [GRANTED] * 3
    env.run(until=2.0)
    hours.release(reqs[1])
    assert hours.units == 5.5 and hours.busy == 2
    assert hours.units_mean(4.0) == pytest.approx((1e9 + 5.5) * 2 / 4 + 5.5 * 2 / 4, rel=1e-15)
    assert hours.utilisation(4.0) == 0.0


def test_infinite_capacity_k_is_unlimited():
    """K = inf is the same as K = None: one server, four requests, three waiting, none
    refused."""
    res = Servers(simpy.Environment(), 1, INF)
    reqs = [res.request() for _ in range(4)]
    assert res.capacity is None
    assert [r.state for r in reqs] == [GRANTED, WAITING, WAITING, WAITING]


def test_hours_with_zero_total_still_reject_a_non_positive_amount():
    """Hours(0) takes any positive amount (it waits) but not 0 or a negative one."""
    hours = Hours(simpy.Environment(), 0.0)
    assert hours.request(50.0).state == WAITING
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError):
            hours.request(bad)
    with pytest.raises(ValueError):
        Hours(simpy.Environment(), -1.0)


@pytest.mark.parametrize("capacity", [1, 0])
@pytest.mark.parametrize("name", list(MAKERS))
def test_an_interrupted_waiting_process_withdraws_its_request(name: str, capacity: int):
    """A patient who dies while waiting (interrupted at 2): leaving the ``with`` block
    withdraws the request; with one server the next patient gets it at 4; with none the
    other patient waits on. Counts stay balanced."""
    env = simpy.Environment()
    res = MAKERS[name](env, capacity, None)
    log: list[tuple[str, float]] = []

    def patient(name: str, service: float) -> Generator[simpy.Event, None, None]:
        try:
            with _ask(res) as req:
                yield req
                log.append((name, env.now))
                yield env.timeout(service)
        except simpy.Interrupt:
            log.append((f"{name} died", env.now))
            assert req.state == WITHDRAWN, req.state

    first = env.process(patient("a", 4.0))
    dying = env.process(patient("b", 1.0))
    env.process(patient("c", 1.0))

    def death() -> Generator[simpy.Event, None, None]:
        yield env.timeout(2.0)
        dying.interrupt()
        if not capacity:
            first.interrupt()

    env.process(death())
    env.run(until=20.0)
    if capacity:
        assert log == [("a", 0.0), ("b died", 2.0), ("c", 4.0)], log
        assert (res.present, res.waiting, res.busy, res.released_total) == (0, 0, 0, 2)
    else:
        assert sorted(log) == [("a died", 2.0), ("b died", 2.0)], log
        assert (res.present, res.waiting, res.busy, res.released_total) == (1, 1, 0, 0)


@pytest.mark.parametrize("name", list(MAKERS))
def test_cancel_withdraws_only_a_waiting_request(name: str):
    """``cancel()`` as in SimPy: a waiting request is withdrawn (the next one moves up when
    the server frees); on a granted or already withdrawn one it does nothing."""
    env = simpy.Environment()
    res = MAKERS[name](env, 1, None)
    held, gone, next_ = _ask(res), _ask(res), _ask(res)
    gone.cancel()
    gone.cancel()
    held.cancel()
    assert (held.state, gone.state, next_.state) == (GRANTED, WITHDRAWN, WAITING)
    assert (res.present, res.waiting, res.busy) == (2, 1, 1)
    res.release(held)
    env.run()
    assert (next_.state, next_.value, res.present, res.waiting) == (GRANTED, True, 1, 0)


def test_hours_cancelling_the_head_lets_the_next_request_in():
    """Hours(10), 4 held: a request for 8 blocks one for 3 until it is cancelled."""
    env = simpy.Environment()
    hours = Hours(env, 10.0)
    hours.request(4.0)
    big, small = hours.request(8.0), hours.request(3.0)
    assert small.state == WAITING
    big.cancel()
    env.run()
    assert (big.state, small.state, hours.units, hours.waiting) == (WITHDRAWN, GRANTED, 7.0, 0)


# -- Level -------------------------------------------------------------------------------


def test_level_on_a_known_path():
    """0 on [0, 0.5), 3 on [0.5, 1.25), 1 on [1.25, 2.75), 4 from 2.75; marks 0..3 and the
    warm-up 0.75: daily means 1.5, 1.5, 1.75; mean over [0.75, 3] = (1.5 + 1.5 + 1) / 2.25."""
    level = Level(Marks(3, 0.75))
    level.add(0.5, 3)
    level.add(1.25, -2)
    level.add(2.75, 3)
    assert level.daily_means(3).tolist() == [1.5, 1.5, 1.75], level.daily_means(3)
    assert level.mean(0.75, 3.0) == pytest.approx(4.0 / 2.25, rel=1e-15)
    assert (level.value, level.area(10.0)) == (4.0, 2.25 + 1.5 + 29.0)


def test_level_matches_a_full_integration_of_its_history_bit_for_bit():
    """Random changes (fixed seed) over 30 days: the integral at every mark equals the one
    summed afterwards over the whole history, in the same order, exactly."""
    rng = np.random.default_rng(7)
    times = np.sort(rng.uniform(0.0, 30.0, 2_000)).tolist()
    deltas = rng.choice([-1.0, 1.0, 2.0], 2_000).tolist()
    marks = Marks(30, 4.5, 29.25)
    level = Level(marks, value=3.0)
    for t, d in zip(times, deltas, strict=True):
        level.add(t, d)
    for mark in marks.times:
        area, value, last = 0.0, 3.0, 0.0
        for t, d in zip(times, deltas, strict=True):
            if t >= mark:
                break
            area += value * (t - last)
            last, value = t, value + d
        assert level.area(mark) == area + value * (mark - last), mark


def test_level_refuses_changes_out_of_order_and_unkept_integrals():
    """A change earlier than the last, or an integral asked at a time that is neither a
    mark nor after the last change, fails loudly; an empty span has a NaN mean."""
    level = Level(Marks(2))
    level.add(1.5, 1)
    with pytest.raises(RuntimeError, match="time order"):
        level.add(1.0, 1)
    with pytest.raises(ValueError, match="marks"):
        level.area(0.5)
    assert level.area(1.0) == 0.0 and math.isnan(level.mean(1.0, 1.0))
