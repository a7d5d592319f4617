"""The report's general-practice section, built from run directories written on disk."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from synthetic_practices import practice_table
from synthetic_results import replications, summary, write_run

from sim.plots import practices
from sim.report import build as report

SCENARIOS = ("status_quo", "trust_led", "federation_led")
THRESHOLD = 70_000.0
# Two of the section's KPIs, as the care model will write them (not yet in the registry).
NEW_KPIS = {
    "practices_in_distress_share": 0.08,
    "practice_contracts_handed_back_per_100_practices": 2.0,
}


def _add_practices(run: Path, scenario: str, threshold: float | None) -> None:
    """Give a synthetic run its practices.parquet, two new GP KPIs and the distress threshold."""
    practice_table(scenario, distressed=2, hand_back=1).to_parquet(
        run / "practices.parquet", index=False
    )
    reps = replications(scenario)
    wobble = pd.Series([1.0, 1.1, 0.9, 1.05])
    extra = [
        pd.DataFrame({"replication": range(4), "metric": m, "value": v * wobble})
        for m, v in NEW_KPIS.items()
    ]
    reps = pd.concat([reps, *extra], ignore_index=True)
    reps.to_csv(run / "replications.csv", index=False)
    summary(reps).to_csv(run / "summary.csv", index=False)
    if threshold is not None:
        file = run / ".hydra" / "config.yaml"
        config = yaml.safe_load(file.read_text(encoding="utf-8"))
        config["model"]["practices"] = {
            "viability": {"distress_profit_per_partner_fte_gbp": threshold}
        }
        file.write_text(yaml.safe_dump(config), encoding="utf-8")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """Three arrangements, each with a practice table and the distress threshold set."""
    root = tmp_path_factory.mktemp("gp_sweep")
    for i, name in enumerate(SCENARIOS):
        run = write_run(root / str(i), name, with_timeseries=False)
        _add_practices(run, name, THRESHOLD)
    return root


@pytest.fixture(scope="module")
def html(sweep) -> str:
    return report.build_report(sweep, progress=False).read_text(encoding="utf-8")


def _section(text: str) -> str:
    """The HTML between the general-practice heading and the next heading of that level."""
    match = re.search(r"<h2 id='general-practice'>General practice</h2>(.*?)<h2", text, re.S)
    assert match, "no General practice section"
    return match.group(1)


def test_section_holds_its_figures_the_kpis_and_the_caveat(html, sweep):
    """The section embeds its three practice figures (paired differences, margins, money;
    the Figures section does not repeat them), tables the GP KPIs present with their CIs, and
    says lead-provider effects are assumptions."""
    part = _section(html)
    for key in practices_keys():
        assert part.count(f'id="{key}"') == 1, key
        assert html.count(f'id="{key}"') == 1, f"{key} shown twice"
        assert (sweep / "figures" / f"{key}.png").is_file(), key
    assert part.count("data:image/png;base64,") == 3, part.count("data:image/png;base64,")
    assert "General practice: differences from" in part
    assert "ASSUMPTIONS" in part
    assert "Continuity with the usual GP" in part  # a registered KPI, by its label
    assert "Practices in financial distress" in part  # a new KPI, by its registry label
    assert "Practice contracts handed back" in part
    assert "95% CI" in part and "difference" in part  # levels and paired differences
    # A listed KPI the results lack is left out, not shown as a row of dashes.
    assert "GP sessions drawn into neighbourhood work" not in part, "an absent KPI has a row"


def practices_keys() -> tuple[str, ...]:
    return report.PRACTICE_FIGURES


def test_threshold_is_read_from_the_saved_config(sweep):
    """The dashed line's value comes from model.practices.viability in .hydra/config.yaml;
    a run without it gives no threshold."""
    ctx = report.load(sweep)
    assert report.distress_threshold(ctx.runs) == THRESHOLD
    for run in ctx.runs:
        run.config["model"].pop("practices")
    assert report.distress_threshold(ctx.runs) is None


def test_margin_figure_draws_the_configured_threshold(sweep):
    """The margin figure the report builds carries the threshold line at £70k."""
    ctx = report.load(sweep)
    specs = {key: build for key, _, _, build in report.figure_specs(ctx)}
    fig = specs["practice_margins"]()
    (line,) = fig.findobj(lambda a: a.get_gid() == "threshold")
    assert list(line.get_ydata()) == [70.0, 70.0], line.get_ydata()


def test_only_the_needed_columns_are_read(sweep):
    """read_practices loads the figures' columns, not the whole table."""
    table = report.read_practices(sweep / "0")
    assert table is not None
    assert set(table.columns) == set(practices.COLUMNS), sorted(table.columns)
    assert report.read_practices(sweep) is None  # no table there


def test_runs_without_practice_tables_skip_the_figures_with_a_note(tmp_path):
    """Older runs (no practices.parquet): the section keeps its KPI table and says why each
    figure is missing; the report still builds."""
    run = write_run(tmp_path / "run", "trust_led", with_timeseries=False)
    text = report.build_report(run, progress=False).read_text(encoding="utf-8")
    part = _section(text)
    assert "Practice margins: skipped — no practice table (practices.parquet)" in part, part
    assert "Money to and from practices: skipped" in part, part
    assert "Average wait for a routine GP appointment" in part
    assert "data:image/png;base64," not in part
