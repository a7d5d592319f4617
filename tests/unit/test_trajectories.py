"""Illness trajectories to death: who follows which, and the extra need each one draws.

The checks compare the vectorised draws with what the configured shares and shapes imply
(a Poisson count with the integral of the excess hazard as its mean, times distributed as
the excess), on many synthetic decedents, without running the model.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from sim.config.compose import compose_config, compose_params
from sim.config.params import validate
from sim.errors import ConfigError
from sim.models.care import schema as s
from sim.models.care import trajectories as tr
from sim.models.care.params import CareParams
from sim.rng import Streams


@functools.lru_cache(maxsize=4)
def _params(*overrides: str) -> CareParams:
    return compose_params(["model=care", "place=neighbourhood_50k", *overrides]).model


def _plain_poisson(rng, rate, start, end):
    """A Poisson process without seasons: uniform times in [start, end)."""
    counts = rng.poisson(rate * np.maximum(end - start, 0.0) / 365.0)
    person = np.repeat(np.arange(rate.size), counts)
    return person, start[person] + rng.random(person.size) * (end - start)[person]


def test_shares_by_age_band_follow_the_config_and_survivors_have_none():
    """Decedents of each age band follow each trajectory in the configured share; people who
    do not die get no trajectory; the same uniforms give the same trajectories."""
    params = _params()
    rng = np.random.default_rng(1)
    n = 120_000
    age = rng.integers(0, len(s.AGE_BANDS), n)
    death = np.where(rng.random(n) < 0.8, rng.uniform(0, 500, n), np.inf)
    u = rng.random(n)
    code = tr.assign(params, age, death, u)
    assert (code[~np.isfinite(death)] == tr.NONE).all()
    np.testing.assert_array_equal(code, tr.assign(params, age, death, u))
    for b, band in enumerate(s.AGE_BANDS):
        mine = code[(age == b) & np.isfinite(death)]
        observed = np.bincount(mine, minlength=len(s.TRAJECTORIES)) / mine.size
        expected = [params.model.trajectories.shares[band][k] for k in s.TRAJECTORIES]
        np.testing.assert_allclose(observed, expected, atol=0.015, err_msg=band)


def test_excess_has_the_configured_shape():
    """The excess is plateau + peak at death, falls with time before death, is zero for a
    sudden death and zero beyond each trajectory's window."""
    params = _params()
    tau = np.linspace(0.0, 1000.0, 2001)
    windows = tr.window_days(params)
    for k, name in enumerate(s.TRAJECTORIES):
        shape = params.model.trajectories.shapes[name]
        ex = tr.excess(params, np.full(tau.size, k, np.int8), tau)
        assert ex[0] == pytest.approx(shape.plateau + shape.peak), name
        assert (np.diff(ex) <= 1e-12).all(), f"{name}: excess rises away from death"
        assert (ex[tau > windows[k]] == 0).all(), f"{name}: excess beyond {windows[k]} days"
    sudden = s.TRAJECTORIES.index("sudden")
    assert tr.excess(params, np.array([sudden], np.int8), np.array([0.0]))[0] == 0.0
    assert tr.lookahead_days(params) == pytest.approx(windows.max())


def test_extra_crises_are_a_poisson_process_with_the_excess_as_intensity():
    """With a usual rate r, a decedent's extra candidates number r x the integral of the
    excess over the window on average, all before death, with times before death
    distributed as the excess: e.g. a short decline's are a truncated exponential."""
    params = _params()
    n, horizon = 40_000, 5000.0
    age = np.full(n, s.AGE_BANDS.index("85+"))
    death = np.full(n, 3000.0)
    rate = np.full(n, 2.0)  # usual candidates per person-year
    person, t, code = tr.extra_crises(
        params, age, death, rate, Streams(5, 0), horizon, _plain_poisson
    )
    assert (t < death[person]).all() and (t >= 0).all()
    grid = np.linspace(0.0, 2000.0, 200_001)
    for k, name in enumerate(s.TRAJECTORIES):
        people = int((code == k).sum())
        ex = tr.excess(params, np.full(grid.size, k, np.int8), grid)
        integral = float(np.sum((ex[1:] + ex[:-1]) / 2 * np.diff(grid)))
        expected = people * 2.0 * integral / 365.0
        got = int((code[person] == k).sum())
        assert abs(got - expected) <= 4 * np.sqrt(expected) + 1, (name, got, expected)
    short = s.TRAJECTORIES.index("short_decline")
    tau = (death[person] - t)[code[person] == short]
    scale = params.model.trajectories.shapes["short_decline"].scale_days
    # Mean of an exponential truncated at TAIL scales: scale * (1 - (1 + c) e^-c) / (1 - e^-c).
    c = tr.TAIL
    mean = scale * (1 - (1 + c) * np.exp(-c)) / (1 - np.exp(-c))
    assert tau.mean() == pytest.approx(mean, rel=0.05), (tau.mean(), mean)


def test_extra_crises_stop_at_the_horizon_and_share_draws_across_capacities():
    """Candidates are drawn only within the run, and the same seed gives the same candidates
    (they depend on people and death times only: common random numbers)."""
    params = _params()
    rng = np.random.default_rng(2)
    n = 5000
    age = rng.integers(0, len(s.AGE_BANDS), n)
    death = np.where(rng.random(n) < 0.5, rng.uniform(0, 1200, n), np.inf)
    rate = rng.uniform(0.1, 3.0, n)
    a = tr.extra_crises(params, age, death, rate, Streams(9, 3), 400.0, _plain_poisson)
    b = tr.extra_crises(params, age, death, rate, Streams(9, 3), 400.0, _plain_poisson)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert a[1].size > 0 and (a[1] < 400.0).all(), a[1].max(initial=0)
    # People dying after the horizon but within a trajectory's window still add need.
    assert (death[a[0]] > 400.0).any()


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (("shares", "65-74", "dwindling"), 0.9, "model.trajectories.shares.65-74"),
        (("shapes", "dwindling", "scale_days"), 0.0, "model.trajectories.shapes.dwindling"),
    ],
)
def test_bad_trajectory_config_names_the_key(path: tuple[str, ...], value: float, key: str):
    """Shares that do not sum to 1 and a zero time scale are refused, naming the key."""
    cfg = compose_config(["model=care", "place=neighbourhood_50k"])
    node = cfg.model.trajectories
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=key):
        validate(cfg)
