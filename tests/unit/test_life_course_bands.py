"""The steady state of one age band (life_course.solve_band) and exact ages drawn from it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.models.care import life_course as lc


def _mass(c1: float, c2: float, h: float, x: float) -> float:
    """People in the first ``x`` years of the band (the density's integral)."""
    return c1 * x + c2 * -math.expm1(-h * x) / h


@given(
    count=st.floats(100.0, 1e6),
    into=st.floats(1.0, 1e5),
    leave=st.floats(1e-4, 0.5),
    width=st.floats(5.0, 40.0),
)
def test_band_holds_its_count_and_balances_its_flows(count, into, leave, width):
    """Whatever the inputs, the solved band holds ``count`` people, and what enters (at the
    lower edge and by moves in) equals what leaves (by death or moving, and at the top)."""
    moves, h, c1, c2 = lc.solve_band(count, into, leave, width)
    assert moves >= 0 and h >= leave * (1 - 1e-12)
    assert _mass(c1, c2, h, width) == pytest.approx(count, rel=1e-6)
    top = c1 + c2 * math.exp(-h * width)
    assert top >= -1e-9
    assert into + moves == pytest.approx(count * h + top, rel=1e-6)


def test_nobody_leaving_ages_out_at_one_over_the_width():
    """With no deaths or moves and no one moving in, ages are uniform: a tenth of a ten-year
    band reaches its top each year."""
    moves, h, c1, c2 = lc.solve_band(1000.0, 100.0, 1e-12, 10.0)
    assert moves == pytest.approx(0.0, abs=1e-3)
    assert c1 + c2 * math.exp(-h * 10.0) == pytest.approx(100.0, rel=1e-6)


def test_an_overfilled_band_gets_more_moves_out_not_negative_moves_in():
    """If more people arrive at the lower edge than the band can hold at the given leaving
    rate, no one moves in and the leaving rate rises until the band holds its count."""
    moves, h, c1, c2 = lc.solve_band(1000.0, 200.0, 0.01, 10.0)
    assert moves == 0.0
    assert h > 0.01
    assert _mass(c1, c2, h, 10.0) == pytest.approx(1000.0, rel=1e-6)


def test_open_top_band_balances_entries_and_leavers():
    """85+ has no top: moves in are the leavers minus the entries, or the leaving rate rises."""
    assert lc.solve_band(1000.0, 50.0, 0.2, math.inf)[:2] == (150.0, 0.2)
    moves, h, _, _ = lc.solve_band(1000.0, 300.0, 0.2, math.inf)
    assert (moves, h) == (0.0, 0.3)


def test_exact_ages_follow_the_band_density():
    """Ages drawn in a band have the mean of its steady-state density (to 3 standard errors)
    and stay inside the band; 85+ is uniform up to the oldest age."""
    from sim.config.compose import compose_params
    from sim.models.care import schema as s

    params = compose_params(["model=care"]).model
    moves, h, c1, c2 = lc.solve_band(15000.0, 2000.0, 0.06, 10.0)
    profile = np.zeros((len(s.AGE_BANDS), 3))
    band = s.AGE_BANDS.index("75-84")
    profile[band] = (h, c1, c2)
    rates = lc.Rates(np.zeros(6), 0.0, np.zeros(6), np.zeros((6, 4)), profile)
    n = 200_000
    ages = lc.draw_exact_age(params, np.random.default_rng(1), np.full(n, band), rates)
    assert ages.min() >= 75.0 and ages.max() < 85.0
    x = np.linspace(0.0, 10.0, 100_001)
    dens = c1 + c2 * np.exp(-h * x)
    mean = 75.0 + np.trapezoid(x * dens, x) / np.trapezoid(dens, x)
    assert abs(ages.mean() - mean) < 3 * ages.std() / math.sqrt(n), (ages.mean(), mean)
    assert ages.mean() < 80.0  # people leave as they age, so the band is younger than uniform
    old = lc.draw_exact_age(params, np.random.default_rng(2), np.full(n, 5, dtype=np.int64), rates)
    assert old.min() >= 85.0 and old.max() <= params.model.life_course.oldest_age_years
