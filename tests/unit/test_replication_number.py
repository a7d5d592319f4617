"""The confidence-interval method for the number of replications, and replications=auto."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from sim.analysis import replication_number as rn
from sim.config.compose import compose_config, compose_params
from sim.config.params import to_container, validate
from sim.errors import ConfigError
from sim.run.task import execute


def _half_width(sd: float, n: int) -> float:
    return stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)


@pytest.mark.parametrize(("sd", "mean", "precision"), [(2.0, 10.0, 0.05), (1.0, 3.0, 0.1)])
def test_required_replications_is_the_smallest_n_meeting_the_precision(sd, mean, precision):
    n = rn.required_replications(sd, mean, precision)
    assert _half_width(sd, n) <= precision * mean
    assert _half_width(sd, n - 1) > precision * mean


def test_required_replications_edge_cases():
    assert rn.required_replications(0.0, 5.0, 0.05) == 2
    assert rn.required_replications(1.0, 0.0, 0.05, cap=77) == 77


def test_chosen_n_reaches_the_precision_on_a_known_distribution():
    """Draw replications from N(10, 2^2): with N chosen from a pilot of 5, the CI of a fresh
    sample of N values meets 5% precision about as often as a 95% design promises."""
    rng = np.random.default_rng(7)
    met = 0
    trials = 400
    for _ in range(trials):
        pilot = rng.normal(10, 2, 5)
        n = rn.required_replications(pilot.std(ddof=1), pilot.mean(), 0.05)
        sample = np.concatenate([pilot, rng.normal(10, 2, max(0, n - 5))])
        met += rn.relative_half_width(sample) <= 0.05
    # The true N for sd 2, mean 10, 5% is 64; pilots of 5 over- and under-shoot, so about
    # half of the samples land just short. The sequential rule then adds more (next test).
    assert met / trials > 0.3


def test_relative_half_width():
    assert rn.relative_half_width(np.array([3.0])) == math.inf
    assert rn.relative_half_width(np.array([3.0, 3.0])) == 0.0
    x = np.array([9.0, 10.0, 11.0, 10.0])
    assert rn.relative_half_width(x) == pytest.approx(_half_width(x.std(ddof=1), 4) / 10)


def _run(tmp_path, *overrides):
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = compose_config(["model=queue", "run.cache=false", *overrides])
    return execute(validate(cfg), to_container(cfg), tmp_path, list(overrides))


def test_auto_stops_when_every_headline_kpi_is_precise(tmp_path):
    """The run records N and the precision reached; the CIs in summary.csv meet it."""
    outcome = _run(tmp_path, "run.replications=auto", "run.precision=0.08", "run.horizon=3000")
    auto = json.loads((tmp_path / "run.json").read_text())["replications_auto"]
    assert auto["precision_met"]
    s = outcome.summary.set_index("metric")
    for metric in ("wait_mean__a", "sojourn_mean__a"):
        half = (s.at[metric, "ci_high"] - s.at[metric, "ci_low"]) / 2
        assert half <= 0.08 * abs(s.at[metric, "mean"]) + 1e-12
        assert s.at[metric, "n"] == auto["replications_chosen"]
    assert auto["replications_after_each_step"][0] == rn.INITIAL
    assert "chosen by the confidence-interval method" in (tmp_path / "stress_des.md").read_text()


def test_auto_keeps_common_random_numbers(tmp_path):
    """Replication r of an auto run equals replication r of a fixed-N run."""
    auto = _run(tmp_path / "a", "run.replications=auto", "run.precision=0.08", "run.horizon=3000")
    n = int(auto.summary["n"].max())
    fixed = _run(tmp_path / "f", f"run.replications={n}", "run.horizon=3000")
    assert auto.summary.equals(fixed.summary)


def test_auto_warns_when_the_cap_is_reached(tmp_path):
    outcome = _run(
        tmp_path, "run.replications=auto", "run.precision=0.001", "run.max_replications=6",
        "run.horizon=1500",
    )  # fmt: skip
    assert [w.kind for w in outcome.warnings] == ["precision_not_reached"]
    auto = json.loads((tmp_path / "run.json").read_text())["replications_auto"]
    assert auto["replications_chosen"] == 6 and not auto["precision_met"]


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("run.replications=several", "run.replications"),
        ("run.precision=0", "run.precision"),
        ("run.max_replications=0", "run.max_replications"),
    ],
)
def test_bad_auto_settings_are_refused(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        compose_params(["model=queue", "run.replications=auto", override])
