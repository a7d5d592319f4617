"""Lead-provider arrangements: mechanisms, the budget envelope, per-borough arrangements and the
scenario files (issue #4). Short runs of neighbourhood_50k (150 days, 30 of warm-up)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.cli.preflight import check
from sim.config.compose import compose_config
from sim.config.params import to_container, validate
from sim.errors import ConfigError
from sim.models import MODELS
from sim.models.base import ReplicationResult
from sim.models.care import schema as s
from sim.models.care.params import load_arrangement
from sim.paths import conf_dir, scenarios_dir

SHORT = ("place=neighbourhood_50k", "run.horizon=150", "run.warm_up=30")
ARRANGEMENTS = sorted(p.stem for p in (conf_dir() / "lead_provider").glob("*.yaml"))
BOUNDARIES = ("same_organisation", "alliance", "separate")
FRICTIONLESS = tuple(
    f"lead_provider.handoffs.{b}.{k}=0" for b in BOUNDARIES for k in ("delay_days_mean", "loss")
)
HEADLINE = (
    "emergency_admissions_per_1000",
    "bed_occupancy_mean",
    "delayed_discharge_bed_days_per_1000",
    "gp_routine_wait_mean_days",
    "death_place_home_share",
    "cost_per_capita",
)


def _config(*overrides: str) -> dict:
    return to_container(compose_config(["model=care", *overrides]))


def _two_areas(data: dict, arrangements: dict[str, str]) -> dict:
    """neighbourhood_50k split into two areas of 25,000 (west, east) with the given mapping."""
    row = {"neighbourhoods": 1, "deprivation_shares": [0.2] * 5, "population": 25000}
    data["place"]["areas"] = {"west": dict(row), "east": dict(row)}
    data["place"]["area_arrangements"] = dict(arrangements)
    return data


def _simulate(data: dict, replication: int = 0) -> ReplicationResult:
    params = validate(data)
    return MODELS["care"].simulate(params.model, params.run, params.output, replication)


def _differences(a: dict[str, float], b: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Metrics that differ (NaN equals NaN), and metrics present in only one run."""
    out = {}
    for key in set(a) | set(b):
        x, y = a.get(key), b.get(key)
        if x is None or y is None:
            out[key] = (x, y)
        elif not (x == y or (math.isnan(x) and math.isnan(y))):
            out[key] = (x, y)
    return out


def test_identical_mechanisms_give_identical_results():
    """An arrangement with the status quo's mechanism values under another name gives exactly
    the status quo's results under the same seed: the name is never read. The same holds when
    a place names the status-quo file for its area instead of using the composed group."""
    base = _simulate(_config(*SHORT)).metrics
    renamed = _simulate(_config(*SHORT, "lead_provider.name=a_copy_of_status_quo")).metrics
    assert not _differences(base, renamed), _differences(base, renamed)
    data = _config(*SHORT)
    data["place"]["area_arrangements"] = {"neighbourhood": "status_quo"}
    by_file = _simulate(data).metrics
    assert not _differences(base, by_file), _differences(base, by_file)


@pytest.mark.parametrize("replication", [0, 1])
def test_frictionless_handoffs_never_slow_gp_referrals(replication):
    """With common random numbers, zero handoff delay and loss across every boundary gives GP
    referrals to the neighbourhood team that arrive no later than in the status quo (mean days
    from referral to the team receiving it) and are never lost."""
    sq = _simulate(_config(*SHORT), replication).metrics
    free = _simulate(_config(*SHORT, *FRICTIONLESS), replication).metrics
    key = "snp_referral_days_mean"
    assert free[key] <= sq[key], f"frictionless {free[key]:.2f} d > status quo {sq[key]:.2f} d"
    assert free["snp_referrals_lost_share"] == 0.0, free["snp_referrals_lost_share"]
    assert sq["snp_referrals_lost_share"] > 0.0, sq["snp_referrals_lost_share"]


@pytest.mark.parametrize("arrangement", ARRANGEMENTS)
@pytest.mark.parametrize(
    "place, envelope",
    [("neighbourhood_50k", None), ("mnp_250k", 80.016), ("sel_1_9m", 120.024)],
)
def test_budget_envelope_is_conserved(arrangement, place, envelope):
    """In every area, the capacity an arrangement buys (whole places, UCR teams and a
    part-time team, at their annual cost) plus analytics, governance and GP payments costs at
    most the envelope, and the envelope's spend adds up to the envelope exactly."""
    extra = [f"lead_provider.budget.envelope_per_head_gbp={envelope}"] if envelope else []
    params = validate(_config(f"place={place}", f"lead_provider={arrangement}", *extra)).model
    per_head = params.lead.budget.envelope_per_head_gbp
    for name, pop, budget in zip(
        params.area_names, params.area_population, params.area_budget, strict=True
    ):
        assert budget.envelope == pytest.approx(per_head * pop), (name, budget.envelope)
        bought = sum(budget.purchased.values())
        assert bought <= budget.envelope * (1 + 1e-12), (name, bought, budget.envelope)
        assert sum(budget.spend.values()) == pytest.approx(budget.envelope), (name, budget.spend)
        # Each budgeted share buys whole units, so it leaves less than one unit's cost unspent
        # (at 50,000 people one virtual-ward bed is about 5% of the envelope).
        units = params.model.costs.annual_cost_per_place
        slack = sum(units[svc] for svc in s.BOUGHT)
        unspent = budget.envelope - bought
        assert unspent < slack, f"{name}: {unspent:,.0f} unspent, more than a unit a share"


def test_envelope_is_equal_across_arrangements():
    """Every arrangement file states the same envelope per head (the commissioner's)."""
    envelopes = {a: load_arrangement(a).budget.envelope_per_head_gbp for a in ARRANGEMENTS}
    assert len(set(envelopes.values())) == 1, envelopes


def test_overspending_arrangement_is_refused():
    """Governance overhead plus payments to practices larger than the envelope is refused by
    name."""
    with pytest.raises(ConfigError) as err:
        validate(
            _config(
                "place=neighbourhood_50k",
                "lead_provider.governance_overhead_share=0.5",
                "lead_provider=federation_led",
                "lead_provider.practices.payment_per_weighted_patient_gbp=80",
            )
        )
    key = "lead_provider.practices.payment_per_weighted_patient_gbp"
    assert err.value.key == key, str(err.value)


def _scenario_jobs() -> list[list[str]]:
    """Every experiment, plus any group file that no experiment sweeps over (the rest are
    composed as jobs of the experiments that sweep them)."""
    root = scenarios_dir()
    experiments = sorted((root / "experiment").glob("*.yaml"))
    swept = "\n".join(p.read_text(encoding="utf-8") for p in experiments)
    jobs = [["-m", f"+experiment={p.stem}"] for p in experiments]
    for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "experiment"):
        for p in sorted(group.glob("*.yaml")):
            if f"+{group.name}:" in swept and p.stem in swept:
                continue
            place = "place=sel_1_9m" if group.name == "borough_arrangements" else SHORT[0]
            jobs.append([place, f"+{group.name}={p.stem}"])
    return jobs


@pytest.mark.parametrize("argv", _scenario_jobs(), ids=lambda a: a[-1])
def test_every_scenario_file_composes_and_validates(argv):
    """Every experiment (all of its sweep's jobs, which cover the sensitivity, budget and
    borough-arrangement files) and any other scenario file composes and passes validation, as
    the CLI's pre-flight check would before running anything."""
    assert check(argv) >= 1


def test_every_group_file_is_swept_by_an_experiment():
    """Each file of scenarios/sensitivity, budget and borough_arrangements is a job of some
    experiment, so the experiments' pre-flight covers it."""
    root = scenarios_dir()
    swept = "\n".join(p.read_text(encoding="utf-8") for p in (root / "experiment").glob("*.yaml"))
    for group in ("sensitivity", "budget", "borough_arrangements"):
        for p in (root / group).glob("*.yaml"):
            assert p.stem in swept, f"{group}/{p.name} is in no experiment's sweep"


def test_scenario_files_are_documented():
    """Every scenario file starts with its package line and a comment saying what it does."""
    for path in Path(scenarios_dir()).rglob("*.yaml"):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0] == "# @package _global_", path
        assert lines[1].startswith("# ") and len(lines[1]) > 20, path


def test_borough_arrangements_change_only_the_areas_they_name():
    """On a two-area place, naming trust_led for one area gives that area trust_led's
    mechanisms and capacity and leaves the other area's exactly as in the status quo; every
    headline KPI is also reported per area.

    The outcome in the named area is not asserted: at 25,000 people and 150 days the paired
    difference in its delayed discharges changes sign between replications (after the calendar
    changed the draws, replication 0 went from lower to higher), so one replication cannot
    carry a direction. The arrangements' effects are compared with paired CIs in sweeps."""
    sq_data = _two_areas(_config(*SHORT), {})
    mix_data = _two_areas(_config(*SHORT), {"east": "trust_led"})
    sq_p, mix_p = validate(sq_data).model, validate(mix_data).model
    assert [a.name for a in mix_p.area_leads] == ["status_quo", "trust_led"]
    assert mix_p.area_capacity[0] == sq_p.area_capacity[0]
    assert mix_p.area_capacity[1] != sq_p.area_capacity[1]
    mix = _simulate(mix_data).metrics
    for kpi in HEADLINE:
        for area in ("west", "east"):
            assert np.isfinite(mix[f"{kpi}__area_{area}"]), (kpi, area)
    trust = validate(_config(*SHORT, "lead_provider=trust_led")).model.area_leads[0]
    assert mix_p.area_leads[1] == trust, "the named area takes trust_led's mechanisms"
    assert mix_p.area_leads[0] == sq_p.area_leads[0], "the other area keeps the status quo's"


def test_single_area_place_has_no_area_kpis():
    """Per-area KPIs appear only when the place has more than one area."""
    params = validate(_config(*SHORT)).model
    assert len(params.area_names) == 1


@pytest.mark.parametrize(
    "mapping, key",
    [
        ({"nowhere": "alliance"}, "place.area_arrangements.nowhere"),
        ({"west": "../status_quo"}, "place.area_arrangements.west"),
        ({"west": "no_such_arrangement"}, "place.area_arrangements.west"),
    ],
)
def test_bad_area_arrangements_are_refused(mapping, key):
    """An unknown area, a path outside conf/lead_provider or a missing file is refused by key."""
    with pytest.raises(ConfigError) as err:
        validate(_two_areas(_config(*SHORT), mapping))
    assert err.value.key == key, str(err.value)
