"""Calibration targets and a runner that compares the status quo with them (docs/sources.md).

Used by the slow calibration test and to write docs/calibration.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.stats import t_interval


@dataclass(frozen=True)
class Target:
    """One calibration target: the KPI, the band it must lie in, and where it comes from."""

    number: str
    kpi: str
    low: float
    high: float
    target: str
    source: str
    # False: tuned towards and reported, but not required by the calibration test, because its
    # replication noise is wider than its band (the split of delayed beds by reason: the
    # council and step-down queues run near capacity, so each reason's share swings by
    # +-10 pp between replications; docs/calibration.md says which are missed).
    required: bool = True


TARGETS: tuple[Target, ...] = (
    Target("1", "gp_appointments_per_1000", 5733, 7007, "6,370 ±10%", "unverified (IfG 2024)"),
    Target(
        "1", "gp_gp_delivered_share", 0.40, 0.50, "45% ±5 pp", "[src:rcgp-key-stats-2024] (grade B)"
    ),
    Target(
        "2", "gp_same_day_share", 0.40, 0.50, "45% ±5 pp", "[src:rcgp-key-stats-2024] (grade B)"
    ),
    Target(
        "2",
        "gp_within_14_days_share",
        0.77,
        0.87,
        "82% ±5 pp",
        "[src:rcgp-key-stats-2024] (grade B)",
    ),
    Target(
        "3",
        "ed_attendances_per_1000",
        427.5,
        522.5,
        "475 ±10%",
        "[src:csj-busiest-year-2025] (grade B)",
    ),
    Target(
        "3",
        "ed_type1_attendances_per_1000",
        261,
        319,
        "290 ±10%",
        "[src:rcem-tracker-2025] (grade B)",
    ),
    Target("4", "ed_within_4h_share", 0.71, 0.77, "74% ±3 pp", "unverified (NHSE monthly)"),
    Target("4", "ed_type1_within_4h_share", 0.55, 0.65, "60% ±5 pp", "unverified (NHSE monthly)"),
    Target(
        "5",
        "emergency_admissions_per_1000",
        99,
        121,
        "110 ±10%",
        "[src:nhse-press-aug-2024] (grade B), x12",
    ),
    Target("6", "los_mean_days", 3.0, 6.0, "4-5 days ±1", "unverified (Little's law)"),
    Target("6", "los_75plus_mean_days", 7.0, 12.0, "9-10 days ±2", "unverified"),
    Target(
        "7",
        "bed_occupancy_mean",
        0.90,
        0.96,
        "92-94% ±2 pp",
        "[src:csj-busiest-year-2025] (grade B) beds; occupancy unverified",
    ),
    Target(
        "8",
        "delayed_discharge_beds_per_1000",
        0.16,
        0.276,
        "0.20-0.23 ±20%",
        "[src:nhsconfed-sitrep-2023] (grade B)",
    ),
    # The split of delayed beds by reason (docs/model.md, "Discharge to assess"). The two
    # sources disagree (the Government's split counts all delayed patients and puts 36% on
    # other reasons; NHS England's June 2023 reasons count stays of 14 days or more, 18%), so
    # each band spans both, a few points either side.
    Target(
        "8b",
        "delayed_discharge_handoff_share",
        0.15,
        0.40,
        "18-36% (handoff, assessment, process)",
        "[src:hoc-library-delays-2023] (grade B); [src:pa-discharge-reasons-2023] (grade C)",
        required=False,
    ),
    Target(
        "8c",
        "delayed_discharge_p1_share",
        0.20,
        0.34,
        "24-30% (care at home)",
        "[src:hoc-library-delays-2023] (grade B); [src:pa-discharge-reasons-2023] (grade C)",
        required=False,
    ),
    Target(
        "8d",
        "delayed_discharge_p2_share",
        0.17,
        0.33,
        "24-26% (intermediate care, rehabilitation bed)",
        "[src:hoc-library-delays-2023] (grade B); [src:pa-discharge-reasons-2023] (grade C)",
        required=False,
    ),
    Target(
        "8e",
        "delayed_discharge_p3_share",
        0.13,
        0.30,
        "16-27% (care-home place)",
        "[src:hoc-library-delays-2023] (grade B); [src:pa-discharge-reasons-2023] (grade C)",
        required=False,
    ),
    Target("9", "deaths_per_1000", 8.74, 9.87, "9.2-9.4 ±5%", "[src:ons-deaths-2024] (grade A)"),
    Target(
        "10",
        "death_place_hospital_share",
        0.404,
        0.464,
        "43.4% ±3 pp",
        "[src:ohid-peolc-2023] (grade A)",
    ),
    Target(
        "10",
        "death_place_home_share",
        0.257,
        0.317,
        "28.7% ±3 pp",
        "[src:ohid-peolc-2023] (grade A)",
    ),
    Target(
        "10",
        "death_place_care_home_share",
        0.175,
        0.235,
        "20.5% ±3 pp",
        "[src:ohid-peolc-2023] (grade A)",
    ),
    Target(
        "10",
        "death_place_hospice_share",
        0.037,
        0.057,
        "4.7% ±1 pp",
        "[src:ohid-peolc-2023] (grade A)",
    ),
    Target(
        "12",
        "ltc4plus_share_of_multimorbid__q1",
        0.13,
        0.19,
        "16% ±3 pp",
        "[src:stafford-2018] (grade B)",
    ),
    Target(
        "12",
        "ltc4plus_share_of_multimorbid__q5",
        0.25,
        0.31,
        "28% ±3 pp",
        "[src:stafford-2018] (grade B)",
    ),
    Target(
        "13",
        "gp_continuity_upc",
        0.58,
        0.64,
        "0.61 ±0.03",
        "[src:barker-2017] (grade B)",
    ),
)


def run_calibration(replications: int = 5, overrides: tuple[str, ...] = ()) -> pd.DataFrame:
    """Run the status quo on mnp_250k and compare each target KPI with its band.

    Returns
    -------
    pandas.DataFrame
        One row per target: number, kpi, target, source, mean, ci_low, ci_high, within.
    """
    from sim.config.compose import compose_params
    from sim.models import MODELS

    params = compose_params(
        [
            "model=care",
            "place=mnp_250k",
            "lead_provider=status_quo",
            "output.timeseries=false",
            *overrides,
        ]
    )
    spec = MODELS["care"]
    runs = [
        spec.simulate(params.model, params.run, params.output, r).metrics
        for r in range(replications)
    ]
    rows = []
    for t in TARGETS:
        x = np.array([m[t.kpi] for m in runs])
        mean, _, low, high = t_interval(x)
        half = (high - low) / 2
        rows.append(
            {
                "number": t.number,
                "kpi": t.kpi,
                "target": t.target,
                "source": t.source,
                "mean": mean,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "within": bool(t.low <= mean <= t.high),
            }
        )
    return pd.DataFrame(rows)
