"""MSER-5 warm-up detection and the run-validity warnings, on series with known answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.analysis import warmup
from sim.config.params import to_container, validate
from sim.run.task import execute


@pytest.fixture
def run_queue(compose_cfg, tmp_path):
    """Run the queueing model through the task (validation, replications, files)."""

    def _run(*overrides: str):
        cfg = compose_cfg("model=queue", "run.replications=2", *overrides)
        return execute(validate(cfg), to_container(cfg), tmp_path, list(overrides))

    return _run


def _table(series: dict[str, np.ndarray], replications: int = 1) -> pd.DataFrame:
    days = len(next(iter(series.values())))
    parts = []
    for r in range(replications):
        part = pd.DataFrame({"replication": r, "time_days": np.arange(days, dtype=float)})
        for name, y in series.items():
            part[name] = y
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_welch_moving_average_shrinks_its_window_at_the_start():
    y = np.arange(10, dtype=float)
    out = warmup.welch_moving_average(y, 2)
    # Point 0 is itself, point 1 the mean of 0..2, then full 5-point windows; 2 dropped.
    assert out.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]


def test_mser_finds_the_end_of_a_step_transient():
    """A level that jumps from 0 to 10 at day 100 and then stays: truncate at 100."""
    rng = np.random.default_rng(1)
    y = np.concatenate([np.zeros(100), np.full(400, 10.0)]) + rng.normal(0, 0.5, 500)
    result = warmup.mser5(y)
    assert result.conclusive
    assert 95 <= result.truncation_index <= 110


def test_mser_keeps_everything_for_a_stationary_series():
    rng = np.random.default_rng(2)
    result = warmup.mser5(rng.normal(5, 1, 400))
    assert result.conclusive
    assert result.truncation_index <= 40


def test_mser_is_inconclusive_for_a_trend():
    """A series that drifts all the way through has its minimum late: not trusted."""
    result = warmup.mser5(np.linspace(0, 100, 400))
    assert not result.conclusive


def test_a_series_that_holds_one_level_is_settled_despite_late_dips():
    """A caseload that fills in 60 days and then stays full, with a place free for a day
    twice late on (days 600 and 650): MSER alone puts its minimum after the last dip, in the
    second half; the held-level rule settles it at the fill instead."""
    y = np.full(730, 280.0)
    y[:60] = np.linspace(100.0, 280.0, 60)
    y[[600, 650]] = 279.0
    z = warmup.batch_means(warmup.welch_moving_average(y, warmup.WELCH_HALF_WIDTH), 5)
    plain = int(np.argmin(warmup.mser_statistic(z)))
    assert plain > z.size / 2, plain  # the pathology the rule is for
    result = warmup.mser5(y)
    assert result.conclusive, result
    assert 55 <= result.truncation_index <= 70, result


def test_the_held_level_rule_does_not_pass_a_drift():
    """A slow drift of 3% over the run never holds a 0.5% band for half of it: still
    inconclusive, as is a real level shift late in the run."""
    assert not warmup.mser5(np.linspace(100.0, 103.0, 730)).conclusive
    late = np.concatenate([np.full(500, 100.0), np.full(230, 110.0)])
    assert not warmup.mser5(late).conclusive
    assert warmup.held_level_from(np.array([1.0, 2.0, 3.0, 10.0, 10.0, 10.01, 10.0])) == 3


def test_analyse_compares_truncation_with_the_configured_warm_up():
    rng = np.random.default_rng(3)
    settled = np.concatenate([np.linspace(0, 10, 150), np.full(350, 10.0)])
    table = _table({"beds_occupied": settled + rng.normal(0, 0.3, 500)}, replications=2)
    short = warmup.analyse(table, warm_up=60)
    long = warmup.analyse(table, warm_up=200)
    assert not short["adequate"].item() and long["adequate"].item()
    assert short["replications"].item() == 2
    records = warmup.warm_up_warnings(short)
    assert [w.kind for w in records] == ["warm_up_short"]


def test_saturation_and_growing_queue_are_invalid():
    days = 400
    table = _table(
        {
            "beds_occupied": np.full(days, 50.0),
            "bed_capacity": np.full(days, 50.0),
            "ed_waiting_for_bed": np.linspace(0, 80, days),
        }
    )
    kinds = {(w.kind, w.severity) for w in warmup.saturation_warnings(table, 60)}
    assert kinds == {("capacity_saturated", "invalid"), ("growing_queue", "invalid")}


def test_a_busy_but_stable_service_is_not_flagged():
    rng = np.random.default_rng(4)
    days = 400
    table = _table(
        {
            "beds_occupied": np.clip(45 + rng.normal(0, 2, days), 0, 50),
            "bed_capacity": np.full(days, 50.0),
            "ed_waiting_for_bed": rng.poisson(2, days).astype(float),
        }
    )
    assert warmup.saturation_warnings(table, 60) == []


def test_warnings_document_gives_a_verdict():
    bad = warmup.RunWarning("unstable_queue", warmup.INVALID, "s", "a", "rho >= 1", {})
    doc = warmup.warnings_document([bad], "s")
    assert not doc["meaningful"] and doc["verdict"].startswith("NOT MEANINGFUL")
    assert warmup.warnings_document([], "s")["verdict"] == "no warnings"
    assert warmup.stderr_lines([bad]) == ["nhsim: WARNING [s]: rho >= 1"]


@pytest.mark.parametrize(("rate", "expected"), [(4.0, []), (5.5, ["unstable_queue"])])
def test_queue_runs_flag_traffic_intensity_of_one_or_more(run_queue, rate, expected):
    """A run with rho >= 1 is written with warnings.json saying it is not meaningful."""
    outcome = run_queue(f"model.nodes.a.arrival_rate={rate}", "run.horizon=2000", "run.warm_up=200")
    assert [w.kind for w in outcome.warnings] == expected
    doc = json.loads((outcome.run_dir / warmup.WARNINGS_FILE).read_text())
    assert doc["meaningful"] is (not expected)
    manifest = json.loads((outcome.run_dir / "run.json").read_text())
    assert manifest["meaningful"] is (not expected)


def test_warmup_command_writes_its_table_and_figure(tmp_path, capsys):
    rng = np.random.default_rng(5)
    run = tmp_path / "run"
    run.mkdir()
    y = np.concatenate([np.linspace(0, 10, 100), np.full(300, 10.0)]) + rng.normal(0, 0.2, 400)
    _table({"beds_occupied": y}, replications=2).to_parquet(run / "timeseries.parquet")
    (run / "run.json").write_text(json.dumps({"warm_up": 30.0}))
    assert warmup.main([str(run)]) == 0
    out = capsys.readouterr().out
    assert "warm-up TOO SHORT" in out
    table = pd.read_csv(run / "warmup.csv")
    assert table["configured_warm_up"].item() == 30.0
    assert (run / "warmup.png").stat().st_size > 10_000


def test_warmup_command_explains_a_directory_without_series(tmp_path, capsys):
    assert warmup.main([str(tmp_path)]) == 2
    assert "no timeseries.parquet" in capsys.readouterr().err


def test_a_full_rationed_service_is_named_with_the_kpis_it_limits():
    """A declared finite service (end-of-life places) full on every measured day is a caution
    that names the service and the KPIs it limits; an unlisted level is left alone."""
    from sim.models.base import CapacityLink

    days = 200
    table = _table(
        {
            "eol_caseload": np.full(days, 226.0),
            "eol_caseload_capacity": np.full(days, 226.0),
            "care_home_residents": np.full(days, 100.0),
        }
    )
    link = CapacityLink("End-of-life places", "eol_caseload", "eol_caseload_capacity",
                        ("death_place_home_share",))  # fmt: skip
    found = warmup.saturation_warnings(table, 60, "s", [link])
    assert [(w.kind, w.severity, w.kpi) for w in found] == [
        ("capacity_saturated", "caution", "eol_caseload")
    ], found
    assert found[0].details["service"] == "End-of-life places"
    assert found[0].details["constrains"] == ["death_place_home_share"]
    assert "End-of-life places" in warmup.stderr_lines(found)[0]


def test_every_finite_care_service_is_declared():
    """The care model declares beds, step-down, virtual-ward, care-home, end-of-life and
    proactive places, each with a level and capacity column and at least one KPI."""
    from sim.models import MODELS

    links = MODELS["care"].capacity
    services = {link.service for link in links}
    assert {"Hospital beds", "Step-down places", "Virtual-ward places", "Care-home places",
            "End-of-life places", "Proactive-care places"} <= services, services  # fmt: skip
    assert all(link.constrains and link.capacity.endswith("capacity") for link in links), links


@pytest.mark.parametrize(
    ("horizon", "warm_up", "days", "expected"),
    [(60.5, 60.0, 60, ["measured_period_too_short"]),  # half a time unit after warm-up
     (80.0, 60.0, 80, ["measured_period_too_short"]),  # 20 days: 4 MSER batches
     (400.0, 60.0, 400, [])],
)  # fmt: skip
def test_a_too_short_measured_period_is_not_meaningful(horizon, warm_up, days, expected):
    """Half a time unit after warm-up, or fewer than five MSER batches, gives the verdict
    NOT MEANINGFUL (issue 15 item 6); a year of measured days does not."""
    table = _table({"beds_occupied": np.linspace(1, 2, days)})
    found = warmup.measured_period_warnings(horizon, warm_up, table, "s")
    assert [w.kind for w in found] == expected, found
    doc = warmup.warnings_document(found, "s")
    assert doc["meaningful"] is (not expected), doc["verdict"]
    if expected:
        assert doc["verdict"].startswith("NOT MEANINGFUL"), doc["verdict"]


def test_a_queue_run_with_half_a_time_unit_measured_is_not_meaningful(run_queue):
    """Through the task: run.horizon just past run.warm_up writes meaningful = false."""
    outcome = run_queue("run.horizon=100.5", "run.warm_up=100")
    doc = json.loads((outcome.run_dir / warmup.WARNINGS_FILE).read_text())
    assert not doc["meaningful"], doc
    assert "measured_period_too_short" in doc["verdict"], doc["verdict"]
