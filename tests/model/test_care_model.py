"""Behaviour of the care model on a short run of one neighbourhood (neighbourhood_50k)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.errors import ConfigError

UNLIMITED_ONWARD = (
    "+place.capacity_overrides.step_down_places=inf",
    "+place.capacity_overrides.virtual_ward_beds=inf",
    "+place.capacity_overrides.eol_places=inf",
    "+place.capacity_overrides.care_home_beds=inf",
    "model.social_care.p1_packages_per_1000=inf",
    "model.social_care.p3_brokerage_slots_per_100k=inf",
    "model.social_care.p3_brokerage_days_mean=0",
    "lead_provider.handoffs.same_organisation.delay_days_mean=0",
    "lead_provider.handoffs.alliance.delay_days_mean=0",
    "lead_provider.handoffs.separate.delay_days_mean=0",
    "model.hospital.weekend_discharge.share=1",  # wards discharge at weekends as on weekdays
)


def test_every_kpi_is_reported(run_care):
    """Every KPI named in issue #3 is present and finite."""
    m = run_care().metrics
    names = [
        "gp_appointments_per_1000",
        "gp_routine_wait_mean_days",
        "gp_routine_wait_p90_days",
        "gp_same_day_share",
        "gp_within_14_days_share",
        "gp_continuity_upc",
        "ed_attendances_per_1000",
        "ed_within_4h_share",
        "emergency_admissions_per_1000",
        "los_mean_days",
        "bed_occupancy_mean",
        "bed_occupancy_p95",
        "delayed_discharge_bed_days_per_1000",
        "ucr_responses_per_1000",
        "ucr_within_2h_share",
        "proactive_caseload_mean",
        "virtual_ward_occupancy_mean",
        "deaths_per_1000",
        "death_place_hospital_share",
        "death_place_home_share",
        "death_place_care_home_share",
        "death_place_hospice_share",
        "emergency_admissions_ratio_q5_q1",
        "cost_per_capita",
        *[f"emergency_admissions_per_1000__q{i}" for i in range(1, 6)],
    ]
    missing = [n for n in names if n not in m]
    assert not missing, f"missing KPIs: {missing}"
    bad = {n: m[n] for n in names if not np.isfinite(m[n])}
    assert not bad, f"non-finite KPIs: {bad}"
    assert any(k.startswith("cost__acute") for k in m), f"no organisation cost in {sorted(m)}"


def test_conservation(run_care):
    """Everyone registered at the start or since is registered at the end, dead or moved away;
    every admission ended in a discharge, a death in hospital or is still in a bed; the event
    log has one death per death."""
    d = run_care().diagnostics
    assert (
        d["alive_at_end"] + d["deaths"] + d["deregistrations"]
        == d["population"] + d["registrations"]
    ), d
    assert d["admissions"] == d["discharges"] + d["deaths_in_bed"] + d["in_bed_at_end"], d


def test_bed_occupancy_never_exceeds_capacity(run_care):
    """Daily occupied beds never exceed the beds open."""
    ts = run_care("lead_provider.handoffs.separate.delay_days_mean=12").tables["timeseries"]
    over = ts[ts["beds_occupied"] > ts["bed_capacity"] + 1e-9]
    assert over.empty, f"days over capacity: {over[['time_days', 'beds_occupied']].head()}"
    peak = float(ts["beds_occupied"].max() / ts["bed_capacity"].max())
    assert peak > 0.9, f"the stress case should fill the beds; peak occupancy {peak:.3f}"


def test_no_delayed_discharge_with_unlimited_onward_care(run_care):
    """With unlimited step-down (and other onward) capacity and instant handoffs, nobody waits
    in a bed once medically fit."""
    m = run_care(*UNLIMITED_ONWARD).metrics
    assert m["delayed_discharge_bed_days_per_1000"] == 0.0, m["delayed_discharge_bed_days_per_1000"]
    base = run_care().metrics["delayed_discharge_bed_days_per_1000"]
    assert base > 0, f"the status quo should have delays; got {base}"


def test_weekend_discharges_wait_for_monday(run_care):
    """With unlimited onward care and instant handoffs, the only delay left is the weekend:
    with no weekend discharges it is positive and all of the delayed beds; with every weekend
    discharge made it is zero."""
    m = run_care(*UNLIMITED_ONWARD, "model.hospital.weekend_discharge.share=0").metrics
    weekend = m["delayed_discharge_bed_days_weekend_per_1000"]
    delayed = m["delayed_discharge_bed_days_per_1000"]
    assert weekend > 0, f"no weekend delay with no weekend discharges: {weekend}"
    assert weekend == pytest.approx(delayed, rel=1e-9), (weekend, delayed)
    off = run_care(*UNLIMITED_ONWARD).metrics["delayed_discharge_bed_days_weekend_per_1000"]
    assert off == 0.0, f"weekend delays with every weekend discharge made: {off}"


def test_more_beds_never_raise_ed_time(run_care):
    """Under common random numbers, more beds do not lengthen the mean time in ED."""
    few = run_care("model.hospital.beds_per_1000=1.5").metrics["ed_time_in_department_mean_hours"]
    many = run_care("model.hospital.beds_per_1000=2.2").metrics["ed_time_in_department_mean_hours"]
    assert many <= few, f"ED hours with more beds {many:.3f} > with fewer {few:.3f}"


def test_more_ucr_teams_never_raise_admissions(run_care):
    """Under common random numbers, more UCR teams do not increase emergency admissions."""
    none = run_care("+place.capacity_overrides.ucr_teams=0").metrics
    many = run_care("+place.capacity_overrides.ucr_teams=6").metrics
    a0, a6 = none["emergency_admissions_per_1000"], many["emergency_admissions_per_1000"]
    assert a6 <= a0, f"admissions with 6 teams {a6:.2f} > with none {a0:.2f}"
    assert none["ucr_responses_per_1000"] == 0, none["ucr_responses_per_1000"]


def test_larger_eol_caseload_never_lowers_home_deaths(run_care):
    """Under common random numbers, more end-of-life places do not lower home deaths."""
    small = run_care("+place.capacity_overrides.eol_places=0").metrics["death_place_home_share"]
    large = run_care("+place.capacity_overrides.eol_places=200").metrics["death_place_home_share"]
    assert large >= small, f"home deaths with 200 places {large:.3f} < with none {small:.3f}"


def test_no_gp_capacity_sends_all_same_day_need_elsewhere(run_care):
    """With no practice capacity there are no appointments and all same-day need overflows."""
    m = run_care("+place.capacity_overrides.gp_appointments_per_1000=0").metrics
    assert m["gp_appointments_per_1000"] == 0, m["gp_appointments_per_1000"]
    assert m["gp_same_day_unmet_per_1000"] > 2000, m["gp_same_day_unmet_per_1000"]
    assert m["nhs111_contacts_per_1000"] > 0, m["nhs111_contacts_per_1000"]


def test_zero_crisis_rates_mean_no_crisis_ed_attendances(run_care):
    """With crisis rates of zero (and no terminal deteriorations, the crisis of the last days of
    life) there are no crises, no UCR responses and no ambulance conveyances; ED sees only
    minor and GP-referred attendances."""
    m = run_care(
        "model.urgent.crisis_scale=0",
        "model.eol.terminal_event_share.community=0",
        "model.eol.terminal_event_share.care_home=0",
    ).metrics
    assert m["crises_per_1000"] == 0, m["crises_per_1000"]
    assert m["ucr_responses_per_1000"] == 0, m["ucr_responses_per_1000"]
    assert m["ambulance_conveyances_per_1000"] == 0, m["ambulance_conveyances_per_1000"]
    base = run_care().metrics["ed_type1_attendances_per_1000"]
    assert m["ed_type1_attendances_per_1000"] < base, (m["ed_type1_attendances_per_1000"], base)


def test_same_seed_same_results(run_care):
    """Two fresh runs with the same seed give identical KPIs; another replication differs."""
    a = run_care().metrics
    b = run_care(fresh=True).metrics
    # NaN for the KPIs the short run cannot give (a last year of life needs 365 days).
    same = a.keys() == b.keys() and all(a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]) for k in a)
    assert same, {k: (a[k], b[k]) for k in a if a[k] != b[k] and a[k] == a[k]}
    c = run_care(replication=1).metrics
    assert c["emergency_admissions_per_1000"] != a["emergency_admissions_per_1000"]


def test_population_is_the_same_across_arrangements(run_care):
    """Changing a mechanism parameter leaves the population and its drawn deaths untouched
    (CRN). Moving into a care home brings a death forward (the residents' hazard), and who
    moves in depends on the services, so deaths are compared for people who moved in in
    neither run: the same people die at the same times."""
    runs = [
        run_care("output.event_log=true"),
        run_care("lead_provider.practices.autonomy=0.9", "output.event_log=true"),
    ]
    a, b = (r.diagnostics for r in runs)
    assert a["population"] == b["population"], (a["population"], b["population"])
    logs = [r.tables["events"] for r in runs]
    moved = set().union(
        *(set(ev.loc[ev["event"] == "care_home_admission", "person_id"]) for ev in logs)
    )
    deaths = [
        sorted(
            (int(p), float(t))
            for p, t in ev.loc[ev["event"] == "death", ["person_id", "time_days"]].itertuples(
                index=False
            )
            if int(p) not in moved
        )
        for ev in logs
    ]
    assert len(deaths[0]) > 100, f"only {len(deaths[0])} deaths compared"
    assert deaths[0] == deaths[1], (len(deaths[0]), len(deaths[1]), len(moved))


def test_event_log_schema(run_care):
    """The event log has the documented columns and the required kinds of event."""
    ev: pd.DataFrame = run_care("output.event_log=true").tables["events"]
    cols = [
        "time_days",
        "person_id",
        "event",
        "setting",
        "organisation",
        "place_of_death",
        "deprivation_quintile",
        "age_band",
        "frailty",
    ]
    assert list(ev.columns) == cols, list(ev.columns)
    needed = {
        "gp_appointment",
        "ed_arrival",
        "emergency_admission",
        "discharge",
        "ucr_response",
        "referral",
        "death",
    }
    seen = set(ev["event"].astype(str).unique())
    assert needed <= seen, f"missing events: {needed - seen}"
    deaths = ev[ev["event"] == "death"]
    assert (deaths["place_of_death"].astype(str) != "").all(), deaths.head()
    assert ev["time_days"].is_monotonic_increasing


def test_timeseries_table(run_care):
    """The daily time series has one row per day and a time_days column."""
    ts = run_care().tables["timeseries"]
    assert ts["time_days"].tolist() == list(map(float, range(150))), ts["time_days"].head()
    assert {"beds_occupied", "delayed_discharge_beds", "ed_in_department"} <= set(ts.columns)


@pytest.mark.parametrize(
    "override, key",
    [
        ("lead_provider.practices.autonomy=1.5", "lead_provider.practices.autonomy"),
        ("model.hospital.beds_per_1000=-1", "model.hospital.beds_per_1000"),
        ("lead_provider.priority_rule=whoever", "lead_provider.priority_rule"),
        ("lead_provider.budget.allocation.ucr=0.5", "lead_provider.budget.allocation"),
    ],
)
def test_bad_values_are_rejected(compose_cfg, override, key):
    """Nonsense values raise ConfigError naming the full dotted key."""
    from sim.config.params import validate

    with pytest.raises(ConfigError) as err:
        validate(compose_cfg("model=care", override))
    assert err.value.key == key, str(err.value)
