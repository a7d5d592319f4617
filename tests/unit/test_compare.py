"""Paired comparison: interval coverage, the CRN gain, pairing and partial sweeps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from synthetic_results import write_run

from sim.analysis import compare


def test_paired_interval_covers_a_known_effect_at_the_nominal_rate():
    """Over many synthetic experiments with a known effect and correlated (CRN-like) noise,
    the paired 95% CI covers the true difference at 95%, within a 99.9% binomial band."""
    rng = np.random.default_rng(20261125)
    trials, n, effect = 4000, 5, 0.7
    shared = rng.normal(10.0, 2.0, size=(trials, n))  # common random numbers
    base = shared + rng.normal(0, 0.5, size=(trials, n))
    scen = shared + effect + rng.normal(0, 0.5, size=(trials, n))
    covered = 0
    for x, b in zip(scen, base, strict=True):
        d = compare.paired_difference(x, b)
        covered += d.low <= effect <= d.high
    rate = covered / trials
    band = stats.norm.ppf(0.9995) * np.sqrt(0.95 * 0.05 / trials)
    assert abs(rate - 0.95) < band, rate


def test_crn_narrows_the_interval_and_reports_the_reduction():
    """With strongly shared noise the paired half-width is far below Welch's, and the reported
    reduction equals 1 - Var(d) / (Var(x) + Var(b))."""
    rng = np.random.default_rng(7)
    shared = rng.normal(0, 3, 10)
    x, b = shared + 1 + rng.normal(0, 0.3, 10), shared + rng.normal(0, 0.3, 10)
    d = compare.paired_difference(x, b)
    expected = 1 - np.var(x - b, ddof=1) / (np.var(x, ddof=1) + np.var(b, ddof=1))
    assert d.variance_reduction == pytest.approx(expected)
    assert d.variance_reduction > 0.9
    assert d.paired_half_width < d.independent_half_width / 3
    assert d.significant


def test_welch_half_width_matches_scipy():
    """The independent-samples half-width is Welch's interval as scipy computes it."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(5, 1, 8), rng.normal(4, 3, 6)
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert compare.welch_half_width(x, y) == pytest.approx((ci.high - ci.low) / 2)


def test_identical_values_give_exact_zero_and_no_flag():
    """Identical scenario and baseline values: difference exactly 0, never significant."""
    x = np.array([3.0, 4.0, 5.0])
    d = compare.paired_difference(x, x.copy())
    assert (d.mean, d.low, d.high) == (0.0, 0.0, 0.0)
    assert not d.significant


def _sweep(root: Path, params: dict[str, str], jobs: dict[int, list[str]]) -> Path:
    """A synthetic sweep: multirun.yaml declaring ``params`` and finished runs for ``jobs``."""
    root.mkdir(parents=True, exist_ok=True)
    multirun = {"hydra": {"sweeper": {"params": params}, "overrides": {"task": []}}}
    (root / "multirun.yaml").write_text(yaml.safe_dump(multirun), encoding="utf-8")
    for job, overrides in jobs.items():
        values = dict(o.split("=", 1) for o in overrides)
        write_run(root / str(job), values.get("lead_provider", "status_quo"))
        (root / str(job) / ".hydra" / "overrides.yaml").write_text(
            yaml.safe_dump(overrides), encoding="utf-8"
        )
    return root


ARRANGEMENTS = "status_quo,trust_led,federation_led,alliance"


def test_partial_sweep_compares_the_finished_and_names_the_missing(tmp_path):
    """One failed job (no results): the others are compared and the missing one is named."""
    jobs = {i: [f"lead_provider={a}"] for i, a in enumerate(ARRANGEMENTS.split(","))}
    del jobs[2]
    (tmp_path / "s" / "2" / ".hydra").mkdir(parents=True)  # started, died
    root = _sweep(tmp_path / "s", {"lead_provider": ARRANGEMENTS}, jobs)
    proc = subprocess.run(
        [sys.executable, "-m", "sim.analysis.compare", str(root)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "job 2 (lead_provider=federation_led)" in proc.stderr
    table = pd.read_csv(root / "comparison.csv")
    assert set(table["scenario"]) == {"status_quo", "trust_led", "alliance"}
    assert (table["baseline"] == "status_quo").all()
    assert "trust_led - status_quo" in proc.stdout


def test_crossed_sweep_pairs_within_each_stratum(tmp_path):
    """Arrangement x envelope: each arrangement is compared with the status quo at the same
    envelope, not with one arbitrary status-quo job."""
    jobs, i = {}, 0
    for arr in ("status_quo", "trust_led"):
        for env in ("envelope_80pct", "envelope_120pct"):
            jobs[i] = [f"lead_provider={arr}", f"+budget={env}"]
            i += 1
    root = _sweep(
        tmp_path / "s",
        {"lead_provider": "status_quo,trust_led", "+budget": "envelope_80pct,envelope_120pct"},
        jobs,
    )
    sweep = compare.load_sweep(root)
    table = compare.compare(sweep)
    pairs = table[["scenario", "baseline"]].drop_duplicates()
    for scenario, baseline in pairs.itertuples(index=False):
        assert scenario.split(" · ")[1] == baseline.split(" · ")[1], (scenario, baseline)
        assert baseline.startswith("status_quo")
    assert sweep.missing == []


def test_sensitivity_sweep_gets_assumption_and_level_columns(tmp_path):
    """One-way sensitivity files named <assumption>_low/_high become tornado-ready rows."""
    files = ["base", "continuity_low", "continuity_high"]
    jobs = {i: [f"+sensitivity={f}"] for i, f in enumerate(files)}
    root = _sweep(tmp_path / "s", {"+sensitivity": ",".join(files)}, jobs)
    table = compare.compare(compare.load_sweep(root))
    levels = table.drop_duplicates("scenario").set_index("scenario")[["assumption", "level"]]
    assert levels.loc["sensitivity=continuity_low"].tolist() == ["continuity", "low"]
    assert levels.loc["sensitivity=base"].tolist() == ["base", "central"]
    assert (table["baseline"] == "sensitivity=base").all()


def test_not_a_sweep_is_one_clean_line(tmp_path):
    """An empty directory: exit 2 and one line, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim.analysis.compare", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a sweep" in proc.stderr


def test_unknown_baseline_names_what_finished(tmp_path):
    """A baseline no job has is refused with the finished scenarios listed."""
    jobs = {0: ["lead_provider=trust_led"], 1: ["lead_provider=alliance"]}
    root = _sweep(tmp_path / "s", {"lead_provider": "trust_led,alliance"}, jobs)
    with pytest.raises(compare.CompareError, match="baseline = nope.*trust_led"):
        compare.compare(compare.load_sweep(root), baseline="nope")
    # Without status_quo, the sweep's first value is the baseline.
    assert set(compare.compare(compare.load_sweep(root))["baseline"]) == {"trust_led"}


def test_declared_baseline_is_read_from_the_saved_config(tmp_path):
    """analysis.baseline in the jobs' config decides the baseline; null falls back to the
    model's default (status_quo for the care model)."""
    jobs = {i: [f"lead_provider={a}"] for i, a in enumerate(ARRANGEMENTS.split(","))}
    root = _sweep(tmp_path / "s", {"lead_provider": ARRANGEMENTS}, jobs)
    assert set(compare.compare(compare.load_sweep(root))["baseline"]) == {"status_quo"}
    for job in jobs:
        cfg_file = root / str(job) / ".hydra" / "config.yaml"
        cfg = yaml.safe_load(cfg_file.read_text())
        cfg["analysis"] = {"baseline": "alliance"}
        cfg_file.write_text(yaml.safe_dump(cfg))
    sweep = compare.load_sweep(root)
    assert compare.declared_baseline(sweep.runs) == "alliance"
    assert set(compare.compare(sweep)["baseline"]) == {"alliance"}


def test_another_baseline_gets_its_own_file(tmp_path):
    """`--baseline trust_led` writes comparison_vs_trust_led.csv and leaves comparison.csv
    (against the declared status quo) as it was."""
    jobs = {i: [f"lead_provider={a}"] for i, a in enumerate(ARRANGEMENTS.split(","))}
    root = _sweep(tmp_path / "s", {"lead_provider": ARRANGEMENTS}, jobs)
    assert compare.main([str(root)]) == 0
    before = (root / "comparison.csv").read_bytes()
    assert compare.main([str(root), "--baseline", "trust_led"]) == 0
    assert (root / "comparison.csv").read_bytes() == before
    other = pd.read_csv(root / "comparison_vs_trust_led.csv")
    assert set(other["baseline"]) == {"trust_led"}, set(other["baseline"])
    assert set(pd.read_csv(root / "comparison.csv")["baseline"]) == {"status_quo"}
    # Naming the declared baseline explicitly is the default table, not a second file.
    assert compare.main([str(root), "--baseline", "status_quo"]) == 0
    assert not (root / "comparison_vs_status_quo.csv").exists()


def test_expected_jobs_follow_hydra_job_numbers(tmp_path):
    """The public-API expansion numbers jobs as Hydra's basic sweeper does (the last key
    varies fastest), with fixed task overrides in every job."""
    root = tmp_path / "s"
    root.mkdir()
    multirun = {"hydra": {"sweeper": {"params": {"a": "1,2", "+b": "x,y"}},
                          "overrides": {"task": ["place=p"]}}}  # fmt: skip
    (root / "multirun.yaml").write_text(yaml.safe_dump(multirun, sort_keys=False), encoding="utf-8")
    assert compare.expected_jobs(root) == [
        ["a=1", "+b=x", "place=p"], ["a=1", "+b=y", "place=p"],
        ["a=2", "+b=x", "place=p"], ["a=2", "+b=y", "place=p"],
    ]  # fmt: skip
