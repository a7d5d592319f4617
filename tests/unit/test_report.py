"""The HTML report: built from synthetic run and sweep directories, self-contained, offline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic_results import SCENARIOS, write_run

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
    assert (run / "figures" / "dashboard.svg").is_file()
    # One run has no baseline to compare with: the forest plot is skipped with a note.
    assert "Differences from the baseline: skipped" in text


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


def test_yaml_comments_give_each_key_its_basis():
    """Trailing comments attach to their key; inline mappings and children inherit them."""
    text = (
        "continuity: 0.61   # Barker 2017 (A)\n"
        "handoffs:          # all assumption\n"
        "  separate: {delay_days_mean: 6.5, loss: 0.06}   # calibrated to delays\n"
        "  alliance: {delay_days_mean: 1.5, loss: 0.03}\n"
    )
    c = report.yaml_comments(text)
    assert c["continuity"] == "Barker 2017 (A)"
    assert c["handoffs.separate.loss"] == "calibrated to delays"
    assert c["handoffs.alliance.loss"] == "all assumption"
    assert report.basis_kind(c["continuity"]) == "cited"
    assert report.basis_kind("") == "assumption"


def test_assumptions_without_evidence_say_assumption(tmp_path):
    """Values with no comment, or a comment saying so, are labelled 'assumption'."""
    conf = tmp_path / "conf" / "lead_provider"
    conf.mkdir(parents=True)
    (conf / "trust_led.yaml").write_text(
        "name: trust_led\ncontinuity: 0.61  # Barker 2017 (A)\ngp_engagement_share: 0.6\n",
        encoding="utf-8",
    )
    run = report.load_run(write_run(tmp_path / "run", "trust_led", with_timeseries=False))
    table = report.assumptions(run, conf=tmp_path / "conf").set_index("key")
    assert table.loc["continuity", "kind"] == "cited"
    assert table.loc["gp_engagement_share", "kind"] == "assumption"
    assert table.loc["gp_engagement_share", "basis"] == "assumption"


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
    """Building figures and the report loads no module of sim.models, sim.engine or sim.run."""
    code = (
        "import sys, sim.report.build, sim.plots.figures, sim.plots.flows, sim.plots.tornado;"
        "bad=[m for m in sys.modules"
        " if m.startswith(('sim.models','sim.engine','sim.run'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
