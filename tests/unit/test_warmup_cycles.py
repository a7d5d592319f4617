"""Warm-up analysis of output with a steady-state cycle (a seasonal year).

MSER-5 assumes the output settles to a stationary level. A seasonal model's output settles
to a repeating cycle instead, and a tail shorter than the cycle is one season: its batch
means can be nearly equal, so MSER's minimum fell in a run's last weeks and the run was
flagged as never settling. These tests pin the cycle-aware rules on series whose answers are
known: every candidate truncation keeps a whole cycle, and drift shows as cycle means that
move between measured cycles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis import warmup

YEAR = 365


def _seasonal(days: int, amplitude: float = 5.0, peak: float = 715.0) -> np.ndarray:
    t = np.arange(days, dtype=float)
    return 100.0 + amplitude * np.cos(2 * np.pi * (t - peak) / YEAR)


def _table(rows: list[np.ndarray], name: str = "beds") -> pd.DataFrame:
    parts = []
    for r, y in enumerate(rows):
        parts.append(
            pd.DataFrame({"replication": r, "time_days": np.arange(y.size, dtype=float), name: y})
        )
    return pd.concat(parts, ignore_index=True)


def test_a_whole_cycle_is_kept_only_when_the_series_leaves_room_to_search():
    assert warmup.kept_batches(730, None) == warmup.MIN_KEPT_BATCHES
    assert warmup.kept_batches(730, 365.0) == 73
    # 76 batches: one cycle (73) plus fewer than MIN_KEPT_BATCHES candidates to search.
    assert warmup.kept_batches(380, 365.0) == warmup.MIN_KEPT_BATCHES


def test_a_season_at_the_end_of_the_run_no_longer_looks_like_a_steady_state():
    """No transient at all, two years ending at the seasonal peak: plain MSER-5 keeps only
    the flat last weeks and calls the series unsettled; keeping a whole cycle, it is
    settled from the start."""
    rng = np.random.default_rng(1)
    y = _seasonal(730) + rng.normal(0.0, 0.3, 730)
    plain = warmup.mser5(y)
    assert not plain.conclusive
    assert plain.truncation_index > 600
    cyclic = warmup.mser5(y, min_kept=warmup.kept_batches(727, 365.0))
    assert cyclic.conclusive
    assert cyclic.truncation_index <= 60


def test_a_transient_is_still_found_within_a_cycle():
    """A 30-day relaxation from an empty start, on top of the seasons, ends well inside
    the first year and inside a one-year warm-up."""
    rng = np.random.default_rng(2)
    t = np.arange(730, dtype=float)
    y = _seasonal(730) - 60.0 * np.exp(-t / 30.0) + rng.normal(0.0, 0.3, 730)
    table = _table([y])
    result = warmup.analyse(table, warm_up=365.0, cycle=365.0).iloc[0]
    assert result.conclusive and result.adequate
    assert 60 <= result.truncation_days <= 250
    assert result.kept_days == 365


def _replications(drift_per_day: float, years: int = 3, reps: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    days = years * YEAR
    t = np.arange(days, dtype=float)
    rows = [_seasonal(days) + drift_per_day * t + rng.normal(0.0, 1.0, days) for _ in range(reps)]
    return _table(rows)


def test_a_level_that_keeps_moving_between_measured_cycles_is_flagged():
    """A drift of 7 a year on a level of 100, two measured years: flagged, with numbers."""
    found = warmup.cycle_drift_warnings(_replications(0.02), 365.0, 365.0, "drifting")
    assert [w.kind for w in found] == ["drifts_between_cycles"]
    details = found[0].details
    assert details["change"] == pytest.approx(7.3, abs=0.3)
    assert details["cycles"] == 2 and details["replications"] == 6
    assert found[0].severity == warmup.CAUTION


def test_a_steady_cycle_is_not_flagged_and_one_measured_cycle_cannot_be():
    assert warmup.cycle_drift_warnings(_replications(0.0), 365.0, 365.0) == []
    # A small real drift (2% a cycle) is inside the 5% tolerance.
    assert warmup.cycle_drift_warnings(_replications(0.0055), 365.0, 365.0) == []
    # With one measured cycle there is nothing to compare.
    assert warmup.cycle_drift_warnings(_replications(0.02, years=2), 365.0, 365.0) == []


def test_a_care_run_carries_its_models_cycle_into_the_analysis():
    """The care model's output has a yearly cycle when crisis demand is seasonal, and none
    when it is not; the queueing model has none."""
    from sim.config.compose import compose_config
    from sim.config.params import to_container
    from sim.models import MODELS

    seasonal = to_container(compose_config(["model=care", "place=neighbourhood_50k"]))
    flat = to_container(
        compose_config(
            ["model=care", "place=neighbourhood_50k", "model.calendar.crisis_seasonal_amplitude=0"]
        )
    )
    assert warmup.run_cycle(seasonal) == 365.0
    assert warmup.run_cycle(flat) is None
    assert MODELS["queue"].cycle is None


def _offsets_table(transient: float, reps: int = 4, days: int = 900) -> pd.DataFrame:
    """Replications that differ in level (as runs of a volatile service do) and share a
    slow relaxation of size ``transient`` from the start."""
    rng = np.random.default_rng(4)
    t = np.arange(days, dtype=float)
    rows = [
        100.0 + rng.normal(0.0, 0.5) - transient * np.exp(-t / 60.0) + rng.normal(0, 1.0, days)
        for _ in range(reps)
    ]
    return _table(rows)


def test_a_warm_up_short_of_msers_point_is_flagged_only_when_the_bias_it_leaves_matters():
    """The same relaxation, cut off at day 30: 40 units deep it leaves a bias far
    beyond the replications' standard error (flagged); 1 unit deep it leaves less than the
    error of the mean itself (not flagged), though MSER-5's point is later in both."""
    deep = warmup.analyse(_offsets_table(40.0), warm_up=30.0).iloc[0]
    shallow = warmup.analyse(_offsets_table(1.0), warm_up=30.0).iloc[0]
    for row in (deep, shallow):
        assert row.conclusive and row.truncation_days > 30
    assert abs(deep.bias) > deep.standard_error and not deep.adequate
    assert abs(shallow.bias) < shallow.standard_error and shallow.adequate
    (warning,) = warmup.warm_up_warnings(pd.DataFrame([deep]))
    assert warning.kind == "warm_up_short"
    assert warning.details["bias"] == pytest.approx(deep.bias)


def _boarding(days: int, growth_per_year: float, reps: int = 6) -> pd.DataFrame:
    """A queue that is short in spring and rises to its winter peak at the end of each
    measured year (as a year measured from April does), each year the same
    (``growth_per_year`` 1) or longer by that factor each year."""
    rng = np.random.default_rng(5)
    t = np.arange(days, dtype=float)
    season = 8.0 * ((t % YEAR) / YEAR) ** 3
    rows = [
        season * growth_per_year ** (t // YEAR) + rng.exponential(0.2, days) for _ in range(reps)
    ]
    return _table(rows, name="ed_waiting_for_bed")


def test_a_queue_rising_into_winter_is_not_a_growing_queue_in_a_seasonal_model():
    """Measured from April to March, the winter queue rises through the year: the
    within-period trend test calls it growing; with the model's cycle declared it is judged
    between whole cycles instead, and a stable seasonal queue is not flagged."""
    table = _boarding(730, growth_per_year=1.0)
    plain = {w.kind for w in warmup.saturation_warnings(table, 365.0)}
    assert "growing_queue" in plain
    assert warmup.saturation_warnings(table, 365.0, cycle=365.0) == []
    three_years = _boarding(3 * YEAR, growth_per_year=1.0)
    assert warmup.cycle_drift_warnings(three_years, 365.0, 365.0) == []


def test_a_queue_that_doubles_each_year_is_invalid():
    found = warmup.cycle_drift_warnings(_boarding(3 * YEAR, 2.0), 365.0, 365.0, "winter")
    assert [(w.kind, w.severity) for w in found] == [("growing_queue", warmup.INVALID)]
