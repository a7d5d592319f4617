"""The HTML report: built from synthetic run and sweep directories, self-contained, offline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic_results import SCENARIOS, write_run

from sim.plots import labels
from sim.report import build as report

FETCH = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """A sweep of the four arrangements plus one unfinished job (a partial sweep)."""
    root = tmp_path_factory.mktemp("sweep")
    for i, name in enumerate(SCENARIOS):
        write_run(root / str(i), name, with_timeseries=(i < 2))
    (root / "4" / ".hydra").mkdir(parents=True)  # started, never finished
    return root


@pytest.fixture(scope="module")
def sweep_html(sweep_dir) -> str:
    return report.build_report(sweep_dir).read_text(encoding="utf-8")


def _assert_offline(text: str) -> None:
    assert "http://" not in text and "https://" not in text, "network reference in the report"
    assert "<script" not in text.lower(), "script in the report"
    assert "<link" not in text.lower(), "external stylesheet in the report"
    assert not FETCH.search(text), FETCH.search(text)


def test_single_run_report_is_self_contained(tmp_path):
    """A run directory yields report.html with embedded PNGs, inline CSS and no fetches."""
    run = write_run(tmp_path / "run", "trust_led")
    out = report.build_report(run)
    text = out.read_text(encoding="utf-8")
    _assert_offline(text)
    assert "data:image/png;base64," in text
    assert "<style>" in text
    assert (run / "figures" / "dashboard.png").is_file()
    # PNG only by default (SVG on request: test_svg_on_request).
    assert not (run / "figures" / "dashboard.svg").exists()
    # One run has no baseline to compare with: the forest plot is skipped with a note.
    assert re.search(r"Differences from [^<]*: skipped", text), text[:2000]


def test_sweep_report_embeds_every_available_figure(sweep_html, sweep_dir):
    """A sweep report embeds the comparison figures and lists each arrangement."""
    _assert_offline(sweep_html)
    n_images = sweep_html.count("data:image/png;base64,")
    pngs = list((sweep_dir / "figures").glob("*.png"))
    assert n_images == len(pngs) >= 8, (n_images, [p.name for p in pngs])
    for key in ("forest", "dashboard", "hospital_pressure", "end_of_life", "equity", "money"):
        assert f'id="{key}"' in sweep_html, f"{key} missing"
    for label in ("Status quo", "Trust-led", "Federation-led", "Alliance"):
        assert label in sweep_html


def test_partial_sweep_is_reported_not_fatal(sweep_html):
    """An unfinished job is named in a note; a figure without data is skipped with a note."""
    assert "Partial sweep: 4 of 5 jobs finished" in sweep_html
    assert "Jobs 4 have not finished" in sweep_html
    assert "Which assumptions matter most: skipped" in sweep_html


def test_headline_table_shows_paired_differences(sweep_html):
    """Without comparison.csv the report pairs replications itself and says so."""
    assert "difference" in sweep_html and "95% CI" in sweep_html
    assert "computed by the report from replications.csv" in sweep_html


def test_comparison_csv_is_used_when_present(tmp_path, sweep_dir):
    """A comparison.csv from the compare tool is the source of the differences when it exists."""
    root = tmp_path / "sweep"
    shutil.copytree(sweep_dir, root, ignore=shutil.ignore_patterns("figures", "report.html"))
    from synthetic_results import comparison

    comparison().to_csv(root / "comparison.csv", index=False)
    ctx = report.load(root)
    assert ctx.comparison_source.startswith("comparison.csv")
    assert {"diff_mean", "diff_ci_low", "diff_ci_high"} <= set(ctx.comparison.columns)


def test_assumptions_read_the_basis_from_the_saved_config(tmp_path):
    """Each value's basis comes from the run's saved config; an unsourced value is an assumption,
    and a value the run's own overrides set says it was set for this run."""
    run = report.load_run(write_run(tmp_path / "run", "trust_led", with_timeseries=False))
    run.config["lead_provider"] = {
        "name": "trust_led",
        "continuity": 0.61,
        "gp_engagement_share": 0.6,
        "governance_overhead": 0.05,
        "basis": {
            "continuity": "[src:barker-2017] (grade B): UPC 0.61",
            "governance_overhead": "assumption: no published figure",
        },
    }
    run.overrides = [*run.overrides, "lead_provider.gp_engagement_share=0.6"]
    table = report.assumptions(run).set_index("key")
    assert table.loc["continuity", "kind"] == "cited", table
    assert table.loc["governance_overhead", "kind"] == "assumption", table
    assert table.loc["gp_engagement_share", "kind"] == "set for this run", table
    assert "no basis given" in table.loc["gp_engagement_share", "basis"], table
    assert "basis.continuity" not in table.index, "the basis block is not itself a value"


def test_cli_rejects_a_directory_without_results(tmp_path):
    """`python -m sim.report.build` on an empty directory exits 2 with a one-line error."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim.report.build", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "no finished run" in proc.stderr


def test_report_never_imports_the_model():
    """Building figures and the report loads no simulation code: no SimPy, sim.engine or
    sim.run, and of sim.models only the registry with its parameter schemas (headline KPIs,
    finite services), never a model's simulate, services or engine modules."""
    code = (
        "import sys, sim.report.build, sim.plots.figures, sim.plots.flows, sim.plots.tornado;"
        "bad=[m for m in sys.modules if m == 'simpy' or m.startswith(('sim.engine','sim.run'))"
        " or (m.startswith('sim.models.') and (m.endswith(('.model','.simulate','.kpis'))"
        " or '.services' in m))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _copy_sweep(sweep_dir: Path, root: Path) -> Path:
    shutil.copytree(sweep_dir, root, ignore=shutil.ignore_patterns("figures*", "report*.html"))
    return root


DIFF_FROM = re.compile(r"[Dd]ifferences? from ([A-Za-z][\w\- ]*)")


def test_report_against_another_baseline_names_it_everywhere(tmp_path, sweep_dir):
    """After `compare --baseline trust_led`, `sim.report --baseline trust_led --svg` writes
    its own files, and every heading, title and axis label that says what the differences are
    from names trust-led; none says status quo."""
    from sim.analysis import compare

    root = _copy_sweep(sweep_dir, tmp_path / "sweep")
    assert compare.main([str(root), "--baseline", "trust_led"]) == 0
    assert (root / "comparison_vs_trust_led.csv").is_file()
    out = report.build_report(root, baseline="trust_led", svg=True, progress=False)
    assert out.name == "report_vs_trust_led.html", out
    assert not (root / "report.html").exists() and not (root / "figures").exists()
    text = out.read_text(encoding="utf-8")
    svgs = {
        p.name: p.read_text(encoding="utf-8") for p in (root / "figures_vs_trust_led").glob("*.svg")
    }
    assert "forest.svg" in svgs, sorted(svgs)
    found = [(where, m.group(1).strip()) for where, body in [("html", text), *svgs.items()]
             for m in DIFF_FROM.finditer(body)]  # fmt: skip
    assert any(w == "forest.svg" for w, _ in found), found
    wrong = [(w, x) for w, x in found if not x.lower().startswith("trust-led")]
    assert found and not wrong, wrong
    assert "differences from status quo" not in (text + "".join(svgs.values())).lower()
    assert "comparison_vs_trust_led.csv" in text


def _warn(kind, severity, kpi, details, message="m"):
    return {"kind": kind, "severity": severity, "scenario": "s", "kpi": kpi,
            "message": message, "details": details}  # fmt: skip


def test_verdicts_and_full_services_are_on_the_first_screen(tmp_path, sweep_dir):
    """A job's NOT MEANINGFUL verdict and a service full on most days are shown before the
    headline table, and the measures that service limits carry a warning beside them."""
    import json

    root = _copy_sweep(sweep_dir, tmp_path / "sweep")
    eol = _warn("capacity_saturated", "caution", "eol_caseload",
                {"share_of_days_at_capacity": 1.0, "service": "End-of-life places",
                 "constrains": ["death_place_home_share"]})  # fmt: skip
    (root / "1" / "warnings.json").write_text(json.dumps(
        {"meaningful": True, "verdict": "usable with caution: capacity_saturated",
         "warnings": [eol]}))  # fmt: skip
    bad = _warn("measured_period_too_short", "invalid", "run", {})
    (root / "2" / "warnings.json").write_text(json.dumps(
        {"meaningful": False, "verdict": "NOT MEANINGFUL: measured_period_too_short (run)",
         "warnings": [bad]}))  # fmt: skip
    text = report.build_report(root, progress=False).read_text(encoding="utf-8")
    table_at = text.index("<h2>Headline comparison</h2>")
    first = text[:table_at]
    assert "Not meaningful — Federation-led" in first, first[-1500:]
    assert "Services full on most measured days" in first
    assert "<b>End-of-life places</b>: Trust-led 100%" in first, first[-1500:]
    row = text[text.index("Deaths at home", table_at) :].split("</tr>")[0]
    assert "⚠ end-of-life places full in 1 of 4" in row, row
    assert "⚠" in row.split("Trust-led")[0] or row.count("⚠") >= 2, row


def test_a_difference_that_shows_as_zero_is_never_bold():
    """A CI that excludes zero but a difference that rounds to 0.00 on screen is not clear."""
    assert labels.rounds_to_zero("+0.00") and labels.rounds_to_zero("-0.0")
    assert not labels.rounds_to_zero("+0.01")
    assert not labels.is_clear(0.0002, 0.0009, "+0.00")
    assert labels.is_clear(0.02, 0.09, "+0.05")
    assert not labels.is_clear(-0.02, 0.09, "+0.05")
    days = "gp_routine_wait_mean_days"
    assert not labels.is_clear_difference(days, 0.001, 0.0005, 0.0015), "shows as +0.00"
    assert labels.is_clear_difference(days, 0.5, 0.2, 0.8)


def test_crn_statistics_are_in_the_method_section_only(sweep_dir):
    """The headline table shows no variance reduction; the method section explains, in plain
    words, how much narrower the paired intervals are."""
    text = report.render_html(report.load(sweep_dir), [])
    table_at = text.index("<h2>Headline comparison</h2>")
    method_at = text.index("id='method'")
    assert "variance" not in text[table_at:method_at].lower()
    assert "narrower" in text[method_at:] and "Interval width" in text[method_at:]


def test_assumptions_show_one_table_of_differences_and_fold_the_rest(sweep_dir):
    """One table lists only the values that differ, a column per arrangement; each full
    table is inside a collapsed <details>."""
    ctx = report.load(sweep_dir)
    for run in ctx.runs:  # the synthetic arrangements differ in governance overhead only
        overhead = 0.08 if run.name == "alliance" else 0.02
        run.config["lead_provider"]["governance_overhead_share"] = overhead
    part = report.assumptions_html(ctx)
    assert part.count("<details>") == len(ctx.runs), part.count("<details>")
    first_table = part.split("<details>")[0]
    assert "Governance overhead (share of budget)" in first_table
    assert "Who gets shared community capacity first" not in first_table
    assert "1 of 2 mechanism values differ" in first_table, first_table[:400]


def test_several_areas_get_area_panels(tmp_path):
    """Per-area KPIs (<kpi>__area_<name>) give an 'areas' figure; one area gives none."""
    import pandas as pd

    run = write_run(tmp_path / "run", "trust_led", with_timeseries=False)
    summary = pd.read_csv(run / "summary.csv")
    extra = summary[summary["metric"] == "emergency_admissions_per_1000"]
    areas = [
        extra.assign(metric=f"emergency_admissions_per_1000__area_{a}")
        for a in ("lambeth", "bexley")
    ]
    pd.concat([summary, *areas]).to_csv(run / "summary.csv", index=False)
    text = report.build_report(run, progress=False).read_text(encoding="utf-8")
    assert 'id="areas"' in text and (run / "figures" / "areas.png").is_file()
    single = write_run(tmp_path / "one", "trust_led", with_timeseries=False)
    single_text = report.build_report(single, progress=False).read_text()
    assert 'id="areas"' not in single_text and "Results by area" not in single_text


def test_flow_diagrams_are_one_figure_of_small_multiples(sweep_html, sweep_dir):
    """The patient flows of every arrangement are panels of one figure, not one each."""
    assert sweep_html.count('id="flows') == 1
    assert (sweep_dir / "figures" / "flows.png").is_file()


def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_path, capsys):
    """progress=True draws a tqdm bar on stderr; the default, off a terminal, is quiet."""
    run = write_run(tmp_path / "run", "trust_led", with_timeseries=False)
    report.build_report(run)
    assert "report figures" not in capsys.readouterr().err
    report.build_report(run, progress=True)
    assert "report figures" in capsys.readouterr().err


def test_svg_on_request(tmp_path):
    """`--svg` writes an SVG beside every PNG."""
    run = write_run(tmp_path / "run", "trust_led", with_timeseries=False)
    assert report.main([str(run), "--svg"]) == 0
    pngs = {p.stem for p in (run / "figures").glob("*.png")}
    svgs = {p.stem for p in (run / "figures").glob("*.svg")}
    assert pngs and pngs == svgs, (pngs, svgs)


def test_crossed_sweep_names_one_baseline_at_matching_settings(tmp_path):
    """Arrangement x budget: every difference is from the status quo at the same budget, and
    the report says so once, instead of naming one budget's status quo as the baseline."""
    import yaml

    root = tmp_path / "s"
    job = 0
    for arr in ("status_quo", "trust_led"):
        for env in ("envelope_80pct", "envelope_120pct"):
            write_run(root / str(job), arr, with_timeseries=False)
            (root / str(job) / ".hydra" / "overrides.yaml").write_text(
                yaml.safe_dump([f"lead_provider={arr}", f"+budget={env}"]), encoding="utf-8"
            )
            job += 1
    ctx = report.load(root)
    assert ctx.baseline == "status_quo"
    assert len(ctx.baseline_names) == 2, ctx.baseline_names
    text = report.render_html(ctx, [])
    assert "differences from status quo (with the same other settings)" in text
    froms = {m.group(1).strip() for m in DIFF_FROM.finditer(text)}
    assert all(f.startswith("status quo") for f in froms), froms
    assert (
        "envelope_80pct" not in text.split("<h2>Headline comparison</h2>")[0].split("<h1>")[1][:200]
    )
