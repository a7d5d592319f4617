"""The KPI registry: every metric a model writes has exactly one record, and every record
describes a metric the model writes; headline, labels and the docs' dictionary come from it.

The model runs here are short (120 days of one neighbourhood, and the same split into two
areas) because the registry is checked against what the model really writes, not a list.
"""

from __future__ import annotations

import functools
import html
import math
import re
import subprocess
import sys

import pytest

from sim.config.compose import compose_config
from sim.config.params import to_container, validate
from sim.models import MODELS
from sim.models.kpi import Kpi, KpiSet, Part
from sim.models.kpi_docs import END, dictionary, marked_files, render
from sim.paths import REPO_DIR
from sim.plots import labels

SHORT = ("place=neighbourhood_50k", "run.horizon=120", "run.warm_up=20")
# The headline before the registry, less the continuity echo (issue 16, item 9), plus the
# median practice's partner profit (issue 17: what changes for general practice).
CARE_HEADLINE = (
    "emergency_admissions_per_1000",
    "bed_occupancy_mean",
    "delayed_discharge_bed_days_per_1000",
    "gp_routine_wait_mean_days",
    "practice_profit_per_partner_fte_median_gbp",
    "death_place_home_share",
    "emergency_admissions_ratio_q5_q1",
    "cost_per_capita",
)
# Every care KPI whose value is a config value (found by running the model: zero variance
# across replications, and equal to the config value or a product of config values).
CARE_ECHOES = {
    "beds_available": "model.hospital.beds_per_1000",
    "cost__{budget_setting}": "lead_provider.budget.allocation.{budget_setting_id}",
    "cost__governance": "lead_provider.governance_overhead_share",
    "cost__gp_neighbourhood_payments": "lead_provider.practices.payment_per_weighted_patient_gbp",
}


def _config(*overrides: str) -> dict:
    return to_container(compose_config(list(overrides)))


@functools.lru_cache(maxsize=8)
def _metrics(kind: str, variant: str) -> tuple[dict[str, float], object]:
    """One short replication's metrics and its validated params."""
    if kind == "queue":
        data = _config("model=jackson3", "run.horizon=300", "run.warm_up=30")
        first = next(iter(data["model"]["nodes"].values()))
        first.update(discipline="priority", priority_mix=[0.5, 0.5])  # adds __p<k> variants
    else:
        data = _config("model=care", *SHORT, "lead_provider=federation_led")
        if variant == "two_areas":
            row = {"neighbourhoods": 1, "deprivation_shares": [0.2] * 5, "population": 25000}
            data["place"]["areas"] = {"west": dict(row), "east": dict(row)}
    params = validate(data)
    result = MODELS[kind].simulate(params.model, params.run, params.output, 0)
    return result.metrics, params


def _written(kind: str) -> list[str]:
    variants = ("one_area", "two_areas") if kind == "care" else ("default",)
    return sorted({m for v in variants for m in _metrics(kind, v)[0]})


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_every_metric_has_exactly_one_record_and_every_record_a_metric(kind):
    """Run the model (the care model with one area and with two): no metric lacks a record,
    none is covered by two, and no record (or pattern) describes a metric never written."""
    kpis = MODELS[kind].kpis
    written = _written(kind)
    missing, unused = kpis.unmatched(written)
    assert not missing, f"{kind}: metrics with no KPI record: {missing}"
    assert not unused, f"{kind}: KPI records matching no metric written: {unused}"
    doubles = {m: [k.name for k in kpis.covering(m)] for m in written}
    doubles = {m: names for m, names in doubles.items() if len(names) != 1}
    assert not doubles, f"{kind}: metrics covered by more or fewer than one record: {doubles}"


def test_per_area_variants_are_exactly_the_records_flagged_by_area():
    """With two areas, the model writes <name>__area_<slug> for exactly the by_area records,
    for each area."""
    kpis = MODELS["care"].kpis
    written = _metrics("care", "two_areas")[0]
    flagged = {k.name for k in kpis.entries if k.by_area}
    bases = {m.split("__area_")[0] for m in written if "__area_" in m}
    assert bases == flagged, f"per-area bases {sorted(bases)} != by_area {sorted(flagged)}"
    for name in flagged:
        for area in ("west", "east"):
            assert f"{name}__area_{area}" in written, (name, area)


def test_care_headline_is_written_once_in_the_registry_without_the_echo():
    """ModelSpec.headline is the registry's headline ranks, in the old order and names, less
    gp_continuity_upc (an input echo)."""
    spec = MODELS["care"]
    assert spec.headline == CARE_HEADLINE, spec.headline
    assert spec.kpis.headline == spec.headline
    assert "gp_continuity_upc" not in spec.headline


def test_every_care_echo_is_flagged_with_its_config_key():
    """Exactly the KPIs that repeat config values are flagged, each with the key it repeats."""
    assert MODELS["care"].kpis.echoes == CARE_ECHOES


def test_echoes_equal_their_config_values():
    """An echo's value is its config value: the envelope's reserve for practices and
    governance exactly, beds as beds per 1,000 x population. Continuity is no longer an echo:
    it is measured from the appointments and differs from the reference it once repeated."""
    from sim.models.care.params import reserved_for_practices

    m, params = _metrics("care", "one_area")
    p = params.model  # type: ignore[attr-defined]
    lead = p.lead
    reserve = reserved_for_practices(p.model, lead, p.population)
    assert reserve > 0, "federation_led pays practices; the check is void"
    assert m["cost__gp_neighbourhood_payments"] == pytest.approx(reserve)
    beds = round(p.model.hospital.beds_per_1000 * p.population / 1000)
    assert m["beds_available"] == beds, (m["beds_available"], beds)
    envelope = lead.budget.envelope_per_head_gbp * p.population
    governance = envelope * lead.governance_overhead_share
    assert m["cost__governance"] == pytest.approx(governance), (m["cost__governance"], governance)
    assert 0.3 < m["gp_continuity_upc"] < 0.9, m["gp_continuity_upc"]


def test_echoes_are_shown_as_inputs():
    """Labels and short labels say an echo is an input, not an outcome, with no better mark."""
    info = labels.metric_info("beds_available")
    assert "input, not an outcome" in info.label, info.label
    assert info.short_label.endswith("(input)"), info.short_label
    assert info.better == "neutral", f"an input shown with a better direction: {info.better}"
    assert labels.is_echo("cost__ucr") and not labels.is_echo("cost__hospital")
    assert "input" not in labels.metric_info("emergency_admissions_per_1000").label


def test_console_marks_an_echo():
    """The run's terminal table marks the echo and only the echo."""
    import pandas as pd

    from sim.cli.console import summary_lines

    table = pd.DataFrame(
        {"metric": ["beds_available", "los_mean_days"], "mean": [500.0, 5.0]}
        | {k: [math.nan, math.nan] for k in ("ci_low", "ci_high")}
    )
    lines = summary_lines(table, None)
    marked = [line for line in lines if "input, not an outcome" in line]
    assert len(marked) == 1 and marked[0].startswith("beds_available"), lines


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_labels_come_from_the_registry(kind):
    """Every metric the model writes is labelled from its record (label, unit, direction,
    scale): labels.py keeps no copy of its own."""
    kpis = MODELS[kind].kpis
    for metric in _written(kind):
        record = kpis.find(metric)
        assert record is not None, metric
        info = labels.metric_info(metric)
        assert info.label.startswith(record.label), (metric, info.label, record.label)
        better = "neutral" if record.echo else record.better  # an input is not judged
        assert (info.unit, info.better, info.scale) == (record.unit, better, record.scale)
        assert info.definition == record.definition, metric
        assert not re.search(r"[{}]|\w_\w", info.label), f"name leaked: {metric}: {info.label}"


def test_report_headline_carries_definitions_and_no_echo(tmp_path):
    """The report's headline table holds the registry's headline KPIs, each with its
    definition as a tooltip, and not the continuity echo."""
    sys.path.insert(0, str(REPO_DIR / "tests" / "unit"))
    from synthetic_results import SCENARIOS, write_run

    from sim.report import build as report

    for i, name in enumerate(SCENARIOS[:2]):
        write_run(tmp_path / str(i), name, with_timeseries=False)
    ctx = report.load(tmp_path)
    assert ctx.headline == list(CARE_HEADLINE), ctx.headline
    table = report.headline_table(ctx)
    for metric in CARE_HEADLINE:
        tip = html.escape(labels.metric_info(metric).definition)
        assert f"title='{tip}'" in table, f"no definition tooltip for {metric}"
    assert "Continuity" not in table, "the continuity echo is in the headline table"


def test_every_record_is_complete():
    """Each record has a label, unit, one-line definition and source."""
    for spec in MODELS.values():
        for k in spec.kpis.entries:
            empty = [f for f in ("label", "unit", "definition", "source") if not getattr(k, f)]
            assert not empty, f"{spec.kind}: {k.name} has no {empty}"
            assert "\n" not in k.definition, k.name


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ((Kpi("a", "A", "days", "d", "s"), Kpi("a", "A", "days", "d", "s")), "twice"),
        ((Kpi("a__{zone}", "A", "days", "d", "s"),), "unknown parts"),
        ((Kpi("a", "A", "days", "d", "s", better="up"),), "better"),  # type: ignore[arg-type]
        ((Kpi("a", "A", "days", "d", "s", headline=1, echo="x.y"),), "cannot be headline"),
    ],
)
def test_a_broken_registry_is_refused(entries, message):
    """Duplicate names, unknown parts, a bad direction and a headline echo are refused."""
    with pytest.raises(ValueError, match=message):
        KpiSet(entries)


def test_patterns_fill_labels_and_do_not_overlap():
    """A family fills its label from the matched part; a part never spans a '__'."""
    kpis = KpiSet(
        (
            Kpi("w__{node}__p{k}", "W at {node}, class {k}", "t", "d {k_id}", "s"),
            Kpi("w__{node}", "W at {node_lower}", "t", "d", "s", echo="n.{node_id}"),
        ),
        {"k": Part("[0-9]+", lambda v: f"#{v}")},
    )
    hit = kpis.find("w__Ab__p2")
    assert hit is not None and hit.label == "W at Ab, class #2" and hit.definition == "d 2"
    other = kpis.find("w__Ab")
    assert other is not None and (other.label, other.echo) == ("W at ab", "n.Ab")
    assert kpis.find("w__a__b") is None
    assert [k.name for k in kpis.covering("w__a__p1")] == ["w__{node}__p{k}"]


def test_docs_kpi_dictionary_is_generated_from_the_registry():
    """docs/model.md holds the care model's dictionary exactly as generated (regenerate with
    python -m sim.models.kpi_docs), and it names every record."""
    files = marked_files()
    assert REPO_DIR / "docs" / "model.md" in files, files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert render(text) == text, f"{path} is stale: run python -m sim.models.kpi_docs"
    table = dictionary(MODELS["care"].kpis)
    for k in MODELS["care"].kpis.entries:
        assert f"`{k.name}`" in table, k.name
    assert "input, not an outcome" in table


def test_docs_check_fails_on_a_stale_section(tmp_path):
    """The command's --check exits 1 for a hand-edited section and 0 once regenerated."""
    page = tmp_path / "page.md"
    page.write_text(f"# Page\n<!-- kpi-dictionary: care -->\nhand-written\n{END}\n")
    cmd = [sys.executable, "-m", "sim.models.kpi_docs"]
    stale = subprocess.run([*cmd, "--check", str(page)], capture_output=True, text=True)
    assert stale.returncode == 1, stale.stderr
    subprocess.run([*cmd, str(page)], check=True, capture_output=True)
    fresh = subprocess.run([*cmd, "--check", str(page)], capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr
    assert "`emergency_admissions_per_1000`" in page.read_text()
