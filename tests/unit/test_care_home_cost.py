"""The public cost of care homes: every resident's days in the measured period, less the
self-funded share, at the unit cost; steady when the residents are (docs/model.md, Costs)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config.compose import compose_params
from sim.errors import ConfigError
from sim.models.care import costs, kpis
from sim.models.care import model as care_model

UNIT = {
    "gp_appointment": 1.0,
    "nurse_appointment": 1.0,
    "additional_roles_appointment": 1.0,
    "nhs111_contact": 1.0,
    "ed_attendance": 1.0,
    "utc_attendance": 1.0,
    "ambulance_conveyance": 1.0,
    "bed_day": 1.0,
    "outpatient_attendance": 1.0,
    "care_home_day": 100.0,
}
ACTIVITY = dict.fromkeys(
    ("gp", "nurse", "additional_roles", "nhs111", "utc", "ed", "ambulance", "bed_days",
     "outpatients"),
    0.0,
) | {"care_home_days": 365.0 * 10}  # fmt: skip


@pytest.mark.parametrize(("share", "want"), [(0.0, 365_000.0), (0.489, 186_515.0), (1.0, 0.0)])
def test_care_home_cost_by_hand(share, want):
    """Ten residents for a year at GBP 100 a day cost GBP 365,000, less the self-funded
    share; everything self-funded costs the public nothing."""
    got = costs.settings_cost(UNIT, {}, ACTIVITY, 1.0, share)["care_home"]
    assert got == pytest.approx(want), got


def test_care_home_cost_is_the_residents_occupancy_in_the_measured_period():
    """In a run, the care-home cost equals the mean residents over the measured period x its
    days x the publicly funded share x the unit cost (as a year's cost), so it cannot grow
    with the run's length while the residents hold their level."""
    params = compose_params(
        ["model=care", "place=neighbourhood_50k", "run.horizon=150", "run.warm_up=30"]
    )
    world = care_model.World(params.model, params.run, 0)
    care_model.start(world, care_model.draw_demand(world, params.model, params.run))
    world.env.run(until=world.horizon)
    world.log.flush()
    metrics = kpis.compute(world)
    w, h = float(params.run.warm_up), float(params.run.horizon)
    days = sum(home.level.mean(w, h) * (h - w) for home in world.mnp.care_homes)
    c = params.model.model.costs
    # Cost KPIs are a year's: the measured period's cost x 365 / its days.
    want = days * (1.0 - c.care_home_self_funded_share) * c.unit["care_home_day"] * 365 / (h - w)
    assert days > 100 * (h - w), f"resident days {days}: the place should have care homes"
    assert metrics["cost__care_home"] == pytest.approx(want, rel=1e-9)
    assert np.isfinite(metrics["cost_per_capita"])


@pytest.mark.parametrize("value", [-0.1, 1.2])
def test_bad_self_funded_share_is_refused_with_one_line(value):
    """A share outside 0-1 is refused before anything runs, naming the key and the rule."""
    key = "model.costs.care_home_self_funded_share"
    with pytest.raises(ConfigError) as info:
        compose_params(["model=care", "place=neighbourhood_50k", f"{key}={value}"])
    message = str(info.value)
    assert message.startswith(f"{key} = "), message
    assert "at least 0" in message or "between 0 and 1" in message, message
    assert "\n" not in message, message
