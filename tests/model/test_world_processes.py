"""The World's bookkeeping of patient processes and scheduled calls, kept cheap for speed
(docs/performance.md, 2026-12-05) without changing what the model does."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from sim.config.compose import compose_params
from sim.models.care.demand import Candidates, D
from sim.models.care.model import CRISIS, MINOR, World
from sim.models.care.practices import continuity

SHORT = ("place=neighbourhood_50k", "run.horizon=150", "run.warm_up=30")


def _world() -> World:
    params = compose_params(["model=care", *SHORT])
    return World(params.model, params.run, 0)


def _wait(env: simpy.Environment, days: float):
    yield env.timeout(days)


def _fail(env: simpy.Environment):
    yield env.timeout(1.0)
    raise ValueError("a real error in a pathway step")


def test_finished_processes_leave_the_world():
    """Only live processes are kept per person: one that ends is forgotten (a finished one
    kept until the person's next process held 75,000 objects for the cyclic collector)."""
    w = _world()
    env = w.env
    short = w.spawn(7, _wait(env, 1.0))
    long = w.spawn(7, _wait(env, 5.0))
    w.spawn(8, _wait(env, 2.0))
    env.run(until=3.0)
    assert not short.is_alive and long.is_alive
    assert w.procs == {7: [long]}, w.procs
    env.run(until=6.0)
    assert w.procs == {}, w.procs


def test_a_death_ends_the_persons_processes_quietly():
    """An interrupt that no step handles ends the process without stopping the run."""
    w = _world()
    env = w.env
    proc = w.spawn(3, _wait(env, 10.0))
    env.run(until=1.0)
    w.interrupt(3)
    env.run(until=2.0)
    assert not proc.is_alive, "the interrupted process is still alive"
    assert 3 not in w.procs, w.procs


def test_any_other_error_in_a_process_still_stops_the_run():
    """Only a death's interrupt is defused: a real error in a step is raised by the run."""
    w = _world()
    w.spawn(4, _fail(w.env))
    with pytest.raises(ValueError, match="real error"):
        w.env.run(until=2.0)


def test_calls_at_or_after_the_horizon_are_not_scheduled():
    """``World.at`` leaves out calls the run would stop before (at or after the horizon),
    and still makes every call before it, at its time."""
    w = _world()
    calls: list[tuple[str, float]] = []
    for name, t in (("before", w.horizon - 0.5), ("at", w.horizon), ("after", w.horizon + 3)):
        w.at(t, lambda n: calls.append((n, w.env.now)), name)
    assert w.scheduled == 1, w.scheduled
    w.env.run(until=w.horizon)
    assert calls == [("before", w.horizon - 0.5)], calls


def test_candidates_dropped_before_the_walk_fail_the_thinning_in_every_state():
    """A candidate left out of the walk is one that :meth:`World.urgent_event` would thin
    away whether or not the person is in proactive care or end-of-life care; every other
    candidate is kept (minor attendances are never thinned by these factors)."""
    w = _world()
    n = 4000
    rng = np.random.default_rng(11)
    draws = rng.random((n, len(D)))
    draws[:, D["u_accept"]] = rng.random(n) * 1.5  # some above every factor
    kind = rng.integers(0, 3, n).astype(np.int8)
    person = rng.integers(0, w.pop.n_start, n)
    cands = Candidates(person=person, time=np.sort(rng.random(n)), kind=kind, draws=draws)
    keep = w._may_go_ahead(cands)
    g = w.params.model.general_practice
    largest = continuity.largest_multiplier(w.params.model.urgent, g.continuity_reference)
    # The factors urgent_event can reach, multiplied as it multiplies them.
    for i in range(n):
        factors = []
        for enrolled in (False, True):
            for eol in (False, True):
                f = 1.0
                if enrolled:
                    f *= w.params.model.proactive.crisis_rate_ratio
                if eol:
                    f *= w.params.model.eol.enrolled_crisis_rate_ratio
                if kind[i] == CRISIS:
                    # Any practice's measured continuity: at most the largest multiplier.
                    f *= largest / w.headroom
                factors.append(f)
        u = draws[i, D["u_accept"]]
        could_pass = kind[i] == MINOR or any(u < f for f in factors)
        assert keep[i] == could_pass, (i, int(kind[i]), u, factors, bool(keep[i]))
    assert 0 < keep.sum() < n, int(keep.sum())
