"""Small, fixed, synthetic results tables for the plotting and report tests (no model runs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.models import MODELS

# The care model's headline KPIs and default baseline, as the report reads them.
HEADLINE = MODELS["care"].headline
BASELINE = MODELS["care"].baseline
SCENARIOS = ("status_quo", "trust_led", "federation_led", "alliance")
EFFECT = {"status_quo": 0.0, "trust_led": -0.04, "federation_led": 0.03, "alliance": -0.06}

# Baseline means of every metric the figures use (a 50,000-person place).
BASE: dict[str, float] = {
    "gp_appointments_per_1000": 6370.0,
    "gp_routine_wait_mean_days": 12.4,
    "gp_routine_wait_p90_days": 36.0,
    "gp_same_day_share": 0.46,
    "gp_within_14_days_share": 0.84,
    "gp_continuity_upc": 0.61,
    "ed_attendances_per_1000": 475.0,
    "ed_type1_attendances_per_1000": 288.0,
    "ed_within_4h_share": 0.74,
    "ambulance_conveyances_per_1000": 70.0,
    "emergency_admissions_per_1000": 114.0,
    "los_mean_days": 4.4,
    "bed_occupancy_mean": 0.92,
    "bed_occupancy_p95": 0.98,
    "delayed_discharge_bed_days_per_1000": 83.0,
    "ucr_responses_per_1000": 14.0,
    "ucr_within_2h_share": 0.84,
    "proactive_caseload_mean": 250.0,
    "virtual_ward_occupancy_mean": 0.8,
    "deaths_per_1000": 9.5,
    "death_place_hospital_share": 0.42,
    "death_place_home_share": 0.32,
    "death_place_care_home_share": 0.18,
    "death_place_hospice_share": 0.05,
    "death_place_other_share": 0.03,
    "emergency_admissions_per_1000__q1": 93.0,
    "emergency_admissions_per_1000__q2": 103.0,
    "emergency_admissions_per_1000__q3": 114.0,
    "emergency_admissions_per_1000__q4": 123.0,
    "emergency_admissions_per_1000__q5": 136.0,
    "emergency_admissions_ratio_q5_q1": 1.46,
    "cost_per_capita": 830.0,
    "cost__general_practice": 9.4e6,
    "cost__hospital": 13.8e6,
    "cost__ed": 4.0e6,
    "cost__virtual_ward": 2.7e6,
    "cost__eol": 0.9e6,
    "cost__nhs111": 0.05e6,
    "cost__gp_practices": 9.4e6,
    "cost__acute_trust": 20.5e6,
    "cost__hospice_charity": 0.9e6,
    "practice_neighbourhood_payments_per_head_gbp": 0.0,
    "practice_profit_per_partner_fte_median_gbp": 168_000.0,
}


def replications(scenario: str, n: int = 4) -> pd.DataFrame:
    """Per-replication values: the baseline times (1 + effect) plus a fixed, shared wobble.

    The wobble depends on the replication only, like common random numbers, so paired
    differences are tight.
    """
    wobble = np.array([-0.02, 0.01, 0.015, -0.005, 0.0, 0.01])[:n]
    rows = []
    for metric, base in BASE.items():
        shift = 0.0 if metric.startswith("death_place") else EFFECT[scenario]
        for r in range(n):
            rows.append((r, metric, base * (1 + shift) * (1 + wobble[r])))
    return pd.DataFrame(rows, columns=["replication", "metric", "value"])


def summary(reps: pd.DataFrame) -> pd.DataFrame:
    """``summary.csv`` columns from a replications table (normal-approximation CI is enough)."""
    g = reps.groupby("metric", sort=False)["value"]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.size()}).reset_index()
    half = 2.0 * out["sd"] / np.sqrt(out["n"])
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    return out[["metric", "mean", "sd", "ci_low", "ci_high", "n"]]


def comparison() -> pd.DataFrame:
    """A long comparison table for every scenario, with paired differences from status quo."""
    base = replications("status_quo")
    parts = []
    for name in SCENARIOS:
        reps = replications(name)
        s = summary(reps).assign(scenario=name)
        d = reps.merge(base, on=["replication", "metric"], suffixes=("", "_b"))
        d = d.assign(diff=d["value"] - d["value_b"]).groupby("metric")["diff"]
        diff = pd.DataFrame({"diff_mean": d.mean(), "sd": d.std(ddof=1)}).reset_index()
        half = diff["sd"].fillna(0) + 1e-9  # zero-width for the baseline itself
        diff["diff_ci_low"], diff["diff_ci_high"] = (
            diff["diff_mean"] - half,
            diff["diff_mean"] + half,
        )
        parts.append(s.merge(diff.drop(columns="sd"), on="metric"))
    return pd.concat(parts, ignore_index=True)


def daily(scenario: str, days: int = 60, reps: int = 3) -> pd.DataFrame:
    """A ``timeseries.parquet`` table with bed series."""
    t = np.arange(days, dtype=float)
    rows = []
    for r in range(reps):
        occ = 80 * (1 + EFFECT[scenario]) + 3 * np.sin(t / 7 + r)
        rows.append(
            pd.DataFrame(
                {
                    "replication": r,
                    "time_days": t,
                    "beds_occupied": occ,
                    "bed_capacity": 88.0,
                    "delayed_discharge_beds": 10 * (1 + 3 * EFFECT[scenario]) + np.cos(t / 5 + r),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def sensitivity() -> pd.DataFrame:
    """An assumption-sensitivity comparison: low/high per assumption plus the central case."""
    swings = {
        "lead_provider.continuity": (-3.0, 2.0),
        "lead_provider.gp_engagement_share": (-6.0, 1.0),
        "lead_provider.governance_overhead_share": (-2.5, -1.5),
    }
    rows = [("central", "central", -2.0, np.nan)]
    for key, (lo, hi) in swings.items():
        rows += [(key, "low", lo, 0.4), (key, "high", hi, 0.8)]
    frame = pd.DataFrame(rows, columns=["assumption", "level", "diff_mean", "value"])
    return frame.assign(metric="emergency_admissions_per_1000", scenario="trust_led")


def write_run(path: Path, scenario: str, *, with_timeseries: bool = True) -> Path:
    """Write a run directory with the fixed data contract (no model involved)."""
    path.mkdir(parents=True, exist_ok=True)
    reps = replications(scenario)
    reps.to_csv(path / "replications.csv", index=False)
    summary(reps).to_csv(path / "summary.csv", index=False)
    manifest = {
        "package_version": "0.1.0",
        "git": {"commit": "0" * 40, "dirty": False},
        "versions": {"python": "3.11.7", "simpy": "4.1.2"},
        "config_hash": "abc123",
        "model": "care",
        "seed": 20261125,
        "replications": 4,
        "horizon": 425.0,
        "warm_up": 20.0,
        "wall_seconds": 1.5,
        "cpu_model": "test CPU",
        "command_line": f"__main__.py lead_provider={scenario}",
        "rerun_command": f"python -m sim lead_provider={scenario}",
    }
    (path / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    hydra = path / ".hydra"
    hydra.mkdir(exist_ok=True)
    config = {
        "run": {"seed": 20261125, "replications": 4, "horizon": 425.0, "warm_up": 20.0},
        "model": {"kind": "care"},
        "place": {"name": "neighbourhood_50k", "areas": {"n": {"population": 50000}}},
        "lead_provider": {
            "name": scenario,
            "governance_overhead_share": 0.02,
            "priority_rule": "step_down_first",
        },
    }
    (hydra / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (hydra / "overrides.yaml").write_text(
        yaml.safe_dump([f"lead_provider={scenario}"]), encoding="utf-8"
    )
    if with_timeseries:
        daily(scenario).to_parquet(path / "timeseries.parquet", index=False)
    return path
