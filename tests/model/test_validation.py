"""Validation of the status quo against published figures not tuned to (validation.py).

The fast tests check the table logic and that the committed table in docs/calibration.md is
the generator's formatting of the stored results; the slow test reruns the model (mnp_250k,
five replications) and checks that it reproduces the stored results. Run it with ``-m slow``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from sim.analysis.stats import t_interval
from sim.models import MODELS
from sim.models.care import validation as v
from sim.models.care.calibration import TARGETS

RANGE = v.Check("topic", "kpi_x", "10%", "[src:x] (grade A)", 0.10, 0.20, "10-20%", "why")


def test_no_kpi_is_both_a_calibration_target_and_a_validation_check():
    """A figure tuned to is never also used to validate: no KPI is in both lists."""
    tuned = {t.kpi for t in TARGETS}
    validated = {c.kpi for c in v.CHECKS if c.kpi}
    assert not tuned & validated, f"KPIs both tuned and validated: {sorted(tuned & validated)}"


def test_every_checked_kpi_is_in_the_care_registry():
    """Each check's KPI is a KPI the care model defines (none is invented here)."""
    kpis = MODELS["care"].kpis
    unknown = [c.kpi for c in v.CHECKS if c.kpi and kpis.find(c.kpi) is None]
    assert not unknown, f"checks name KPIs not in the care registry: {unknown}"


def test_checks_are_well_formed():
    """A modelled check has a range low <= high and a known format; a graded source key."""
    for c in v.CHECKS:
        assert re.fullmatch(r"\[src:[a-z0-9-]+\] \(grade [ABC]\)", c.source), c.source
        assert c.fmt in ("pct", "ratio", "gbp"), (c.topic, c.fmt)
        if c.kpi is None:
            assert c.low is None and c.high is None, (c.topic, c.low, c.high)
        else:
            assert c.low is not None and c.high is not None and c.low <= c.high, (c.topic,)


@pytest.mark.parametrize(
    ("mean", "low", "high", "expected"),
    [
        (0.15, 0.14, 0.16, "consistent"),
        (0.22, 0.19, 0.25, "consistent"),  # interval overlaps the top of the range
        (0.30, 0.25, 0.35, "higher than published"),
        (0.05, 0.03, 0.07, "lower than published"),
        (0.25, math.nan, math.nan, "higher than published"),  # one replication: the mean
        (0.15, math.nan, math.nan, "consistent"),
    ],
)
def test_verdict_compares_the_interval_with_the_range(mean, low, high, expected):
    """ "higher"/"lower" only when the whole CI lies outside the published range."""
    got = v.verdict(RANGE, mean, low, high)
    assert got == expected, f"mean {mean}, CI {low}-{high}: {got!r}, expected {expected!r}"


def test_verdict_without_a_kpi_is_not_modelled():
    """A figure no KPI gives is "not modelled", whatever numbers are passed."""
    check = v.Check("t", None, "13.8%", "[src:x] (grade A)", None, None, "–", "no KPI")
    assert v.verdict(check, 0.1, 0.1, 0.1) == "not modelled"


def test_summarise_uses_the_t_interval_across_replications():
    """Mean and 95% CI in the table are the t-interval of the replications' values."""
    runs = [{"kpi_x": x} for x in (0.30, 0.32, 0.31, 0.29, 0.33)]
    row = v.summarise([RANGE], runs).iloc[0]
    mean, _, low, high = t_interval(np.array([r["kpi_x"] for r in runs]))
    assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((mean, low, high))
    assert row["verdict"] == "higher than published", row.to_dict()


def test_a_miss_gets_a_plain_sentence_with_its_distance():
    """A missed check is listed under the misses with how far off it is and the reason."""
    runs = [{"kpi_x": 0.049}, {"kpi_x": 0.050}, {"kpi_x": 0.051}]
    stored = {"date": "d", "commit": "c", "replications": 3, "seed": 1, "runs": runs}
    text = v.render_table([RANGE], stored)
    assert "**lower than published**" in text, text
    line = next((ln for ln in text.splitlines() if ln.startswith("- **topic**")), "")
    assert "5.0 pp below the bottom" in line and "why" in line, line
    with_value = v.Check(*[getattr(RANGE, f) for f in ("topic", "kpi", "published", "source",
                         "low", "high", "match", "reason")], value=0.125)  # fmt: skip
    text = v.render_table([with_value], stored)
    assert "0.40 times the published 12.5%" in text, text


def test_committed_table_is_the_formatting_of_the_stored_results():
    """docs/calibration.md holds exactly what the generator makes of the stored results."""
    text = v.DOC.read_text(encoding="utf-8")
    expected = v.render(text, v.render_table(v.CHECKS, v.load_stored()))
    assert text == expected, "validation table is stale: python -m sim.models.care.validation "
    assert v.main(["--check"]) == 0


def test_check_notices_a_changed_result():
    """Changing one stored value changes the generated section, so --check would fail."""
    stored = v.load_stored()
    section = v.render_table(v.CHECKS, stored)
    stored["runs"][0] = {k: x * 1.5 for k, x in stored["runs"][0].items()}
    assert v.render_table(v.CHECKS, stored) != section


def test_render_needs_both_markers():
    """Without the markers the generator refuses (one clear error, no half-written file)."""
    with pytest.raises(ValueError, match="markers not found"):
        v.render("# no markers here\n", "table\n")


def test_tuned_place_of_death_is_named_but_not_validated():
    """Place of death is calibration target 10: the doc says so and no check uses it."""
    assert not any(c.kpi and c.kpi.startswith("death_place_") for c in v.CHECKS)
    assert "calibration target 10" in v.DOC.read_text(encoding="utf-8")


@pytest.mark.slow
def test_current_model_reproduces_the_stored_validation_results():
    """The status quo on mnp_250k (stored seed and replications) gives the stored values.

    Fails after a model change until ``python -m sim.models.care.validation --write`` is run.
    """
    stored = v.load_stored()
    table = v.run_validation(replications=stored["replications"])
    assert table.attrs["seed"] == stored["seed"], (table.attrs["seed"], stored["seed"])
    assert set(table["verdict"]) <= set(v.VERDICTS), set(table["verdict"])
    for got, want in zip(table.attrs["runs"], stored["runs"], strict=True):
        assert got == pytest.approx(want, rel=1e-9), f"rerun {got} != stored {want}"
