"""Rota (teams with working hours) on hand-made traces whose every time is known exactly."""

from __future__ import annotations

from collections.abc import Generator

import pytest
import simpy

from sim.engine import Level, Marks, Rota
from sim.engine.servers import GRANTED, REFUSED, TIMED_OUT

H = 1.0 / 24.0  # an hour, in days


def _drive(
    calls: list[tuple[float, float]], servers: int = 1, window: float = 1.0, until: float = 3.0
) -> tuple[Rota, list[tuple[float, float, int]]]:
    """One process per call ``(arrival, service)``; returns the rota and, per call,
    ``(arrival, start or NaN, final state)``."""
    env = simpy.Environment()
    rota = Rota(env, servers, window, open_hour=8, close_hour=20)
    out: list[tuple[float, float, int]] = [(0.0, float("nan"), -1)] * len(calls)

    def call(k: int, at: float, service: float) -> Generator[simpy.Event, None, None]:
        yield env.timeout(at)
        with rota.request() as req:
            if (yield req):
                out[k] = (at, env.now, GRANTED)
                yield env.timeout(service)
            else:
                out[k] = (at, float("nan"), req.state)

    for k, (at, service) in enumerate(calls):
        env.process(call(k, at, service))
    env.run(until=until)
    return rota, out


def test_a_call_in_hours_starts_at_once():
    """A call at 09:00 with a free team starts at 09:00."""
    _, out = _drive([(9 * H, 1 * H)])
    assert out[0][1] == pytest.approx(9 * H), out


def test_a_call_before_opening_waits_for_eight_oclock():
    """A call at 06:00 waits for the 08:00 opening (its window is a day)."""
    _, out = _drive([(6 * H, 1 * H)])
    assert out[0][1] == pytest.approx(8 * H), out


def test_a_call_after_closing_waits_for_the_next_morning_or_times_out():
    """A call at 21:00 starts at 08:00 the next day with a day's window, and times out with
    a four-hour window."""
    _, out = _drive([(21 * H, 1 * H)])
    assert out[0][1] == pytest.approx(1 + 8 * H), out
    _, out = _drive([(21 * H, 1 * H)], window=4 * H)
    assert out[0][2] == TIMED_OUT, out


def test_a_visit_runs_past_closing_but_the_queue_waits_for_the_morning():
    """One team: a visit 19:00-21:00 runs past 20:00; a call queued at 19:30 does not start
    when the team frees at 21:00 (closed) but at 08:00 next day."""
    _, out = _drive([(19 * H, 2 * H), (19.5 * H, 1 * H)])
    assert out[0][1] == pytest.approx(19 * H), out
    assert out[1][1] == pytest.approx(1 + 8 * H), out


def test_window_zero_refuses_every_call_while_closed():
    """With no waiting allowed, a call at 22:00 is refused even with every team free."""
    _, out = _drive([(22 * H, 1 * H)], window=0.0)
    assert out[0][2] == REFUSED, out


def test_open_all_day_is_exactly_teams_and_the_level_follows_busy():
    """Open 0-24, one team: calls at 1.0 and 1.1 (service 0.2) start at 1.0 and 1.2; the
    busy level's mean over [0, 2] is 0.4 / 2."""
    env = simpy.Environment()
    level = Level(Marks(2))
    rota = Rota(env, 1, 1.0, open_hour=0, close_hour=24, level=level)
    starts = []

    def call(at: float) -> Generator[simpy.Event, None, None]:
        yield env.timeout(at)
        with rota.request() as req:
            yield req
            starts.append(env.now)
            yield env.timeout(0.2)

    for at in (1.0, 1.1):
        env.process(call(at))
    env.run(until=2.0)
    assert starts == pytest.approx([1.0, 1.2]), starts
    assert level.mean(0.0, 2.0) == pytest.approx(0.2), level.mean(0.0, 2.0)


def test_bad_hours_are_refused():
    """Hours outside 0 <= open < close <= 24 raise a ValueError naming both."""
    with pytest.raises(ValueError, match="open_hour and close_hour"):
        Rota(simpy.Environment(), 1, 1.0, open_hour=20, close_hour=8)
