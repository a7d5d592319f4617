"""Invariants of the care model over random valid places, capacities and arrangements.

Each example is a short run (60-120 days, 2,000-20,000 people in 1-3 areas) with the event
log on, so conservation and Little's law can be checked on the sample path itself: the
integral of a daily occupancy series equals the summed time every person held a place.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from property_support import care_configs, close, examples, same_metrics, stays

from sim.config.params import validate
from sim.errors import ConfigError
from sim.models import MODELS
from sim.models.care.apportion import apportion
from sim.models.care.schema import DELAY_REASONS

# Time series whose daily means are places held in a capacity-limited service.
OCCUPANCY = {
    "step_down_patients": "step_down_places",
    "virtual_ward_patients": "virtual_ward_beds",
    "eol_caseload": "eol_places",
    "proactive_caseload": "proactive_places",
}


def _simulate(cfg: dict):
    try:
        params = validate(cfg)
    except ConfigError as exc:  # every drawn config is valid by construction
        pytest.fail(f"a valid config was rejected: {exc}")
    result = MODELS["care"].simulate(params.model, params.run, params.output, 0)
    return params, result


def _reserved_beds(params) -> float:
    """Beds held by elective patients: the hospital's fixed reservation, summed over areas."""
    total = params.model.capacity["beds"]
    if math.isinf(total):
        return 0.0
    share = params.model.model.hospital.elective_bed_share
    per_area = apportion(total, np.asarray(params.model.area_population, dtype=float))
    return float(sum(round(b * share) for b in per_area))


@settings(max_examples=examples(0.4))
@given(cfg=care_configs())
def test_care_model_invariants(cfg):
    """Conservation, shares, occupancy within capacity, Little's law, costs within budget."""
    params, result = _simulate(cfg)
    horizon = params.run.horizon
    m, d = result.metrics, result.diagnostics
    events = result.tables["events"]
    ts = result.tables["timeseries"]
    care = params.model

    # ---- conservation of people: everyone registered at the start or since is registered
    # at the end, died or moved away, and dies once
    assert d["population"] == care.population
    assert (
        d["alive_at_end"] + d["deaths"] + d["deregistrations"]
        == d["population"] + d["registrations"]
    ), d
    deaths = events[events["event"] == "death"]
    assert deaths["person_id"].is_unique
    assert len(deaths) == d["deaths"]

    # ---- conservation of service entries and exits, and Little's law on each service
    held, entries, exits, still = stays(
        events, "emergency_admission", ("discharge", "death"), horizon, end_place="hospital"
    )
    assert entries == d["admissions"] == d["episodes"]
    assert entries == exits + still, (entries, exits, still)
    assert exits == d["discharges"] + d["deaths_in_bed"]
    assert still == d["in_bed_at_end"]
    bed_area = float(ts["beds_occupied"].sum()) - _reserved_beds(params) * horizon
    assert close(bed_area, held, horizon), (bed_area, held)
    for service, series in (
        ("step_down", "step_down_patients"),
        ("virtual_ward", "virtual_ward_patients"),
        ("proactive", "proactive_caseload"),
    ):
        start = "proactive_enrolment" if service == "proactive" else f"{service}_start"
        end = "proactive_exit" if service == "proactive" else f"{service}_end"
        held, entries, exits, still = stays(events, start, (end,), horizon)
        assert entries == exits + still
        assert close(float(ts[series].sum()), held, horizon), (service, ts[series].sum(), held)
    held, entries, exits, still = stays(events, "eol_enrolment", ("death", "eol_exit"), horizon)
    assert entries == exits + still, ("eol", entries, exits, still)
    assert close(float(ts["eol_caseload"].sum()), held, horizon), (ts["eol_caseload"].sum(), held)
    held, entries, exits, still = stays(events, "social_care_start", ("social_care_end",), horizon)
    assert entries == exits + still, ("social_care", entries, exits, still)
    # Delayed beds by reason add up to all delayed beds (services/social_care.py).
    reasons = sum(m[f"delayed_discharge_bed_days_{r}_per_1000"] for r in DELAY_REASONS)
    total = m["delayed_discharge_bed_days_per_1000"]
    assert math.isclose(reasons, total, rel_tol=1e-9, abs_tol=1e-9), (reasons, total)

    # ---- every event inside the run, in time order
    t = events["time_days"].to_numpy()
    assert (t >= 0).all() and (t <= horizon).all()
    assert (np.diff(t) >= 0).all()

    # ---- 0 <= occupancy <= capacity, every day
    assert (ts.drop(columns="time_days") >= -1e-9).all().all()
    assert (ts["beds_occupied"] <= ts["bed_capacity"] + 1e-9).all()
    assert (ts["delayed_discharge_beds"] <= ts["beds_occupied"] + 1e-9).all()
    for series, key in OCCUPANCY.items():
        assert (ts[series] <= care.capacity[key] + 1e-9).all(), (series, care.capacity[key])

    # ---- shares in [0, 1]; waits, rates and costs non-negative
    for name, value in m.items():
        if math.isnan(value) or (name == "beds_available" and math.isinf(care.capacity["beds"])):
            continue
        assert math.isfinite(value), name
        if name.startswith("emergency_admissions_ratio") or name.startswith("ed_attendances_r"):
            assert value >= 0, (name, value)
            continue
        assert value >= 0, (name, value)
        if "_share" in name or "occupancy" in name or name == "gp_continuity_upc":
            assert value <= 1 + 1e-12, (name, value)

    # ---- purchased capacity within each area's budget envelope
    for budget in care.area_budget:
        assert all(v >= 0 for v in budget.purchased.values()), budget
        assert sum(budget.purchased.values()) <= budget.envelope * (1 + 1e-9) + 1e-6
        assert math.isclose(sum(budget.spend.values()), budget.envelope, abs_tol=1e-6)


@settings(max_examples=examples(0.1))
@given(cfg=care_configs())
def test_care_model_is_deterministic_for_a_seed(cfg):
    """The same config and seed give identical metrics, diagnostics and tables."""
    cfg["output"] = {"event_log": False, "timeseries": True}
    params, first = _simulate(cfg)
    second = MODELS["care"].simulate(params.model, params.run, params.output, 0)
    assert same_metrics(first.metrics, second.metrics)
    d1 = {k: v for k, v in first.diagnostics.items() if k != "wall_seconds"}
    d2 = {k: v for k, v in second.diagnostics.items() if k != "wall_seconds"}
    assert d1 == d2
    assert first.tables["timeseries"].equals(second.tables["timeseries"])
