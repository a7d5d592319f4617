"""Discharge to assess: pathways at medically fit, the local authority's packages and the
delayed-discharge bed days by reason (sim/models/care/services/social_care.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.errors import ConfigError
from sim.models.care import schema as s

REASONS = s.DELAY_REASONS
# Every pathway's capacity unlimited: only the handoff can keep a fit patient in a bed.
UNLIMITED_CAPACITY = (
    "model.social_care.p1_packages_per_1000=inf",
    "model.social_care.p3_brokerage_slots_per_100k=inf",
    "+place.capacity_overrides.step_down_places=inf",
    "+place.capacity_overrides.virtual_ward_beds=inf",
    "+place.capacity_overrides.care_home_beds=inf",
)
# A year, so a cut in packages has time to build a queue.
YEAR = ("run.horizon=365", "run.warm_up=60")


def _days(m: dict[str, float]) -> dict[str, float]:
    return {r: m[f"delayed_discharge_bed_days_{r}_per_1000"] for r in REASONS}


def test_unlimited_capacity_leaves_only_handoff_delays(run_care):
    """With every pathway's capacity unlimited, nobody waits for P1, P2 or P3 capacity; the
    handoff still delays patients (its delay is not a capacity)."""
    m = run_care(*UNLIMITED_CAPACITY).metrics
    days = _days(m)
    assert days["p1"] == 0.0 and days["p2"] == 0.0 and days["p3"] == 0.0, days
    assert days["handoff"] > 0.0, days


def test_reasons_add_up_to_all_delayed_bed_days(run_care):
    """Conservation: the bed days by reason sum to the delayed-discharge bed days, and the
    shares to 1, in the status quo and with packages cut."""
    for overrides in ((), ("model.social_care.p1_packages_per_1000=0.3",)):
        m = run_care(*overrides).metrics
        total = m["delayed_discharge_bed_days_per_1000"]
        parts = sum(_days(m).values())
        assert total > 0, m
        assert math.isclose(parts, total, rel_tol=1e-9), (overrides, parts, total)
        shares = sum(m[f"delayed_discharge_{r}_share"] for r in REASONS)
        assert math.isclose(shares, 1.0, rel_tol=1e-9), (overrides, shares)


def test_fewer_packages_raise_p1_delay_and_bed_occupancy(run_care):
    """Cutting the local authority's pathway 1 packages raises the bed days spent waiting
    for them and the hospital's bed occupancy; the other reasons are not what moves."""
    base = run_care(*YEAR).metrics
    cut = run_care(*YEAR, "model.social_care.p1_packages_per_1000=0.3").metrics
    b, c = _days(base), _days(cut)
    assert c["p1"] > b["p1"] + 20.0, (b, c)
    assert cut["bed_occupancy_mean"] > base["bed_occupancy_mean"], (
        base["bed_occupancy_mean"],
        cut["bed_occupancy_mean"],
    )
    assert cut["social_care_packages_mean"] < base["social_care_packages_mean"], (
        base["social_care_packages_mean"],
        cut["social_care_packages_mean"],
    )


def test_no_packages_at_all_keeps_pathway_1_patients_waiting(run_care):
    """Capacity 0 is allowed: no package ever starts, so pathway 1 (local-authority) patients
    stay in their beds and none is counted as holding a package."""
    m = run_care("model.social_care.p1_packages_per_1000=0").metrics
    assert m["social_care_packages_mean"] == 0.0, m["social_care_packages_mean"]
    assert m["delayed_discharge_bed_days_p1_per_1000"] > 0.0, _days(m)


def test_pathway_shares_follow_age_and_frailty():
    """The cumulative shares put pathways 1-3 at the band's share x the frailty multiplier,
    split pathway 1 between packages and the virtual ward, and end at 1."""
    from sim.models.care.services.social_care import pathway_cdfs

    cfg = s.SocialCareConfig(
        pathway_shares={b: {"p0": 0.6, "p1": 0.3, "p2": 0.06, "p3": 0.04} for b in s.AGE_BANDS},
        frailty_support_multiplier={"fit": 0.5, "mild": 1.0, "moderate": 1.5, "severe": 2.0},
        p1_virtual_ward_share=0.25,
    )
    cdf = pathway_cdfs(cfg)
    severe = np.diff(cdf[-1, 3], prepend=0.0)
    expected = [0.2, 0.3 * 2 * 0.75, 0.3 * 2 * 0.25, 0.12, 0.08]
    assert np.allclose(severe, expected), (severe.tolist(), expected)
    fit = np.diff(cdf[0, 0], prepend=0.0)
    assert np.isclose(fit[0], 0.8), fit.tolist()
    assert np.allclose(cdf[..., -1], 1.0), cdf[..., -1]


@pytest.mark.parametrize(
    "override, key, fragment",
    [
        (
            "model.social_care.frailty_support_multiplier.severe=3.0",
            "model.social_care.frailty_support_multiplier.severe",
            "at most 1",
        ),
        (
            "model.social_care.p1_packages_per_1000=-1",
            "model.social_care.p1_packages_per_1000",
            "",
        ),
        (
            "model.social_care.p1_virtual_ward_share=1.5",
            "model.social_care.p1_virtual_ward_share",
            "between 0 and 1",
        ),
        (
            "model.social_care.p1_package_days_mean=0",
            "model.social_care.p1_package_days_mean",
            "greater than 0",
        ),
        (
            "+place.capacity_overrides.p1_packages=2.5",
            "place.capacity_overrides.p1_packages",
            "",
        ),
    ],
)
def test_bad_social_care_values_give_one_clear_error(compose_cfg, override, key, fragment):
    """Each bad value raises one ConfigError naming the full key (and the rule)."""
    from sim.config.params import validate

    with pytest.raises(ConfigError) as err:
        validate(compose_cfg("model=care", override))
    assert err.value.key == key, str(err.value)
    assert fragment in str(err.value), str(err.value)
    assert "\n" not in str(err.value), str(err.value)


def test_pathway_shares_that_do_not_sum_to_one_are_refused(compose_cfg):
    """A band's pathway shares must be a distribution; the error names the band's row."""
    from sim.config.params import validate

    cfg = compose_cfg("model=care")
    cfg.model.social_care.pathway_shares["85+"].p0 = 0.9
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert err.value.key.startswith("model.social_care.pathway_shares.85+"), str(err.value)
    assert "\n" not in str(err.value), str(err.value)


def test_fewer_brokerage_slots_raise_the_care_home_wait(run_care):
    """With the council's care-home brokerage unlimited, pathway 3 patients wait only for a
    vacancy; with one placement in hand at a time they also queue for the brokerage, so the
    bed days waiting for pathway 3 capacity rise."""
    free = run_care(*YEAR, "model.social_care.p3_brokerage_slots_per_100k=inf").metrics
    one = run_care(*YEAR, "+place.capacity_overrides.p3_brokerage_slots=1").metrics
    f, o = _days(free), _days(one)
    assert o["p3"] > f["p3"] + 1.0, (f, o)


def test_each_area_has_its_own_council_capacity():
    """On a place of several boroughs each area gets packages for its own population (to the
    nearest whole package) and brokerage in proportion to it; a place-total override is split
    across the areas by population and adds up to the total."""
    from sim.config.compose import compose_params

    params = compose_params(["model=care", "place=sel_1_9m"]).model
    sc = params.model.social_care
    for pop, cap in zip(params.area_population, params.area_capacity, strict=True):
        nearest = math.floor(sc.p1_packages_per_1000 * pop / 1000 + 0.5)  # half up
        assert cap["p1_packages"] == nearest, (pop, cap["p1_packages"], nearest)
        assert math.isclose(cap["p3_brokerage_slots"], sc.p3_brokerage_slots_per_100k * pop / 1e5)
    assert params.capacity["p1_packages"] == sum(c["p1_packages"] for c in params.area_capacity)
    split = compose_params(
        ["model=care", "place=sel_1_9m", "+place.capacity_overrides.p1_packages=1000"]
    ).model
    parts = [c["p1_packages"] for c in split.area_capacity]
    assert sum(parts) == 1000 and split.capacity["p1_packages"] == 1000, parts
