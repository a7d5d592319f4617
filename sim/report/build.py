"""A self-contained HTML report of a run or a sweep, rebuilt from its saved tables only.

    python -m sim.report <run_or_sweep_dir> [--baseline NAME] [--svg]

writes ``figures/*.png`` (and ``figures/*.svg`` with ``--svg``) and ``report.html`` into that
directory. The HTML embeds its images (base64 PNG) and its CSS, and refers to nothing on the
network, so it can be emailed or opened offline in a workshop. A figure whose data are
missing is skipped with a note; a partial sweep (some jobs unfinished) reports the jobs that
finished.

The first screen answers the room's question: which arrangement does what to the headline
measures, against which baseline, how sure we are, and which warnings undercut it. The
baseline is the experiment's declared one (:func:`sim.analysis.compare.choose_baseline`);
``--baseline X`` for another X writes ``report_vs_X.html`` and ``figures_vs_X/`` beside the
default files and never overwrites them.

Nothing here runs or imports the model's simulation code: only tables on disk are read, and
the model registry (:data:`sim.models.MODELS`) for headline KPIs and finite services.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis import compare, provenance
from sim.analysis.results import (
    RunData,
    is_sweep,
    job_dirs,
    load_run,
    name_scenarios,
    read_csv,
)
from sim.analysis.warmup import WARNINGS_FILE, run_cycle
from sim.io import atomic_write, write_text
from sim.models import MODELS
from sim.plots import figures, flows, labels, practices, timeseries, tornado
from sim.plots.common import MissingDataError
from sim.plots.style import order_scenarios, scenario_palette

TIMESERIES_COLUMNS = ("beds_occupied", "bed_capacity", "delayed_discharge_beds")
FLOW_EVENTS = ("discharge", *flows.ONWARD_EVENTS)
MAX_FLOW_PANELS = 4
# Figures whose absence is normal (a place with one area): skipped without a note.
QUIET_SKIPS = ("areas",)
# General practice as a business: the table, the figures (shown in their own section) and the
# KPIs of that section, each shown only when summary.csv holds it.
PRACTICES_FILE = "practices.parquet"
PRACTICE_FIGURES = ("practice_differences", "practice_margins", "practice_flows")
DISTRESS_KEY = ("model", "practices", "viability", "distress_profit_per_partner_fte_gbp")
GP_KPIS = (
    "gp_appointments_per_1000",
    "gp_same_day_unmet_per_1000",
    "gp_routine_wait_mean_days",
    "gp_same_day_share",
    "gp_continuity_upc",
    "practice_profit_per_partner_fte_median_gbp",
    "practice_profit_per_partner_fte_p10_gbp",
    "practices_in_distress_share",
    "practice_contracts_handed_back_per_100_practices",
    "patients_displaced_per_1000",
    "practices_engaged_share",
    "practice_neighbourhood_payments_per_weighted_patient_gbp",
    "practice_income_moved_out_per_weighted_patient_gbp",
    "gp_sessions_drawn_per_10000",
)

# The general-practice panel of paired differences: access, continuity, then the business.
GP_DIFFERENCES = (
    "gp_appointments_per_1000",
    "gp_same_day_unmet_per_1000",
    "gp_routine_wait_mean_days",
    "gp_continuity_upc",
    "practice_profit_per_partner_fte_median_gbp",
    "practices_in_distress_share",
    "practice_contracts_handed_back_per_100_practices",
    "patients_displaced_per_1000",
)


# --------------------------------------------------------------------------- loading
def scenario_summary(runs: Sequence[RunData]) -> pd.DataFrame:
    """All runs' summary tables stacked, with a ``scenario`` column."""
    parts = [r.summary.assign(scenario=r.name) for r in runs if r.summary is not None]
    cols = ["scenario", "metric", "mean", "ci_low", "ci_high", "n"]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def read_warnings(run: RunData) -> dict[str, Any]:
    """The run's ``warnings.json`` (verdict and records), or an empty document."""
    try:
        doc = json.loads((run.path / WARNINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def read_timeseries(path: Path) -> pd.DataFrame | None:
    """The bed series of ``timeseries.parquet`` (only the columns the figure needs)."""
    file = path / "timeseries.parquet"
    if not file.is_file():
        return None
    try:
        import pyarrow.parquet as pq

        present = set(pq.read_schema(file).names)
        cols = [c for c in ("replication", "time_days", *TIMESERIES_COLUMNS) if c in present]
        return pd.read_parquet(file, columns=cols)
    except Exception:  # a damaged optional file must not stop the report
        return None


def read_flow_events(path: Path) -> pd.DataFrame | None:
    """Discharge and onward-care rows of ``events.parquet``, or ``None``."""
    file = path / "events.parquet"
    if not file.is_file():
        return None
    cols = ["replication", "time_days", "person_id", "event"]
    try:
        import pyarrow.parquet as pq

        cols = [c for c in cols if c in set(pq.read_schema(file).names)]
        frame = pd.read_parquet(file, columns=cols)
    except Exception:
        return None
    return frame[frame["event"].astype(str).isin(FLOW_EVENTS)]


def read_practices(path: Path) -> pd.DataFrame | None:
    """The columns of ``practices.parquet`` the practice figures read, or ``None``."""
    file = path / PRACTICES_FILE
    if not file.is_file():
        return None
    try:
        import pyarrow.parquet as pq

        present = set(pq.read_schema(file).names)
        return pd.read_parquet(file, columns=[c for c in practices.COLUMNS if c in present])
    except Exception:  # a damaged optional file must not stop the report
        return None


def distress_threshold(runs: Sequence[RunData]) -> float | None:
    """The distress threshold (GBP per partner FTE a year) from the first run that sets it.

    Read from the resolved config the run saved (``.hydra/config.yaml``); ``None`` when no
    run has ``model.practices.viability.distress_profit_per_partner_fte_gbp``.
    """
    for run in runs:
        node: Any = run.config
        for key in DISTRESS_KEY:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, int | float) and not isinstance(node, bool) and np.isfinite(node):
            return float(node)
    return None


# --------------------------------------------------------------------------- assumptions
def assumptions(run: RunData) -> pd.DataFrame:
    """The arrangement's mechanism values with their basis, from the run's saved config.

    The basis of each value is data (the ``basis`` block the arrangement file carries, saved
    with the resolved config; :mod:`sim.analysis.provenance`), so no file is read again. A
    value the run's own overrides set (``lead_provider.<key>=...``) was set for this run and
    says so, with the basis the file gives, unless the override brought its own basis.

    Parameters
    ----------
    run
        A run whose config has a ``lead_provider`` section.

    Returns
    -------
    pandas.DataFrame
        ``key, value, kind, basis``; empty when there is no ``lead_provider`` section.
    """
    columns = ["key", "value", "kind", "basis"]
    lead = run.config.get("lead_provider")
    if not isinstance(lead, dict):
        return pd.DataFrame(columns=columns)
    prefix = "lead_provider."
    overridden = {
        key.removeprefix(prefix)
        for key in run.override_values
        if key.startswith(prefix) and ".basis." not in key
    }
    rows = []
    for key, value, kind, basis in provenance.basis_rows(lead):
        if key in overridden:
            kind, basis = "set for this run", f"set for this run; {basis}"
        rows.append((key, value, kind, basis))
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- context
@dataclass
class FigureResult:
    """One figure of the report: its files, or why it was skipped."""

    key: str
    title: str
    caption: str
    png: Path | None = None
    svg: Path | None = None
    skipped: str = ""


@dataclass
class Pinned:
    """A finite service at capacity on most measured days of one scenario."""

    service: str
    scenario: str
    share: float
    constrains: tuple[str, ...]


@dataclass
class Context:
    """Everything the figures and the HTML need, read once."""

    root: Path
    sweep: bool
    runs: list[RunData]
    summary: pd.DataFrame
    comparison: pd.DataFrame
    comparison_source: str
    baseline: str
    palette: dict[str, str]
    headline: list[str] = field(default_factory=list)
    warnings: dict[str, dict[str, Any]] = field(default_factory=dict)
    pinned: list[Pinned] = field(default_factory=list)
    suffix: str = ""
    expected_jobs: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def baseline_names(self) -> list[str]:
        """Scenario names that are the baseline (one per stratum of a crossed sweep)."""
        if "baseline" in self.comparison.columns and not self.comparison.empty:
            named = set(self.comparison["baseline"].dropna().astype(str))
            return [r.name for r in self.runs if r.name in named]
        return [r.name for r in compare.baseline_runs(self.runs, self.baseline)]

    def uses(self, group: str) -> bool:
        """True when the model reads config group ``group`` (``place``, ``lead_provider``).

        A resolved config carries every default group, read or not; the model's registry
        entry says which it reads. Unknown models: when any run has the group.
        """
        spec = MODELS.get(compare.model_kind(self.runs) or "")
        if spec is not None:
            return group in spec.groups
        return any(isinstance(r.config.get(group), dict) for r in self.runs)

    @property
    def baseline_run(self) -> str:
        """The one baseline scenario's name, or the baseline token in a crossed sweep."""
        names = self.baseline_names
        return names[0] if len(names) == 1 else self.baseline

    @property
    def baseline_label(self) -> str:
        """The baseline in plain words, as it reads after "Difference from"."""
        phrase = labels.baseline_phrase(self.baseline_run)
        crossed = len(self.baseline_names) > 1
        return f"{phrase} (with the same other settings)" if crossed else phrase

    @property
    def order(self) -> list[str]:
        """Scenario names in display order, the baseline first."""
        first = self.baseline_names[0] if self.baseline_names else self.baseline
        return order_scenarios([r.name for r in self.runs], first)

    @property
    def figures_dir(self) -> Path:
        """``figures`` (declared baseline) or ``figures_vs_<X>`` (any other)."""
        return self.root / f"figures{self.suffix}"


def pinned_services(runs: Sequence[RunData], docs: dict[str, dict[str, Any]]) -> list[Pinned]:
    """Every declared finite service at capacity on most measured days, per scenario.

    Read from the ``capacity_saturated`` records of each run's ``warnings.json``; the KPIs a
    service limits come from the record, else from the model's declared links.
    """
    kind = compare.model_kind(runs) or ""
    links = {link.level: link for link in (MODELS[kind].capacity if kind in MODELS else ())}
    out = []
    for run in runs:
        for w in docs.get(run.name, {}).get("warnings", []):
            if w.get("kind") != "capacity_saturated":
                continue
            d = w.get("details") or {}
            link = links.get(str(w.get("kpi")))
            service = d.get("service") or (link.service if link else labels.humanise(w["kpi"]))
            constrains = tuple(d.get("constrains") or (link.constrains if link else ()))
            share = float(d.get("share_of_days_at_capacity", float("nan")))
            out.append(Pinned(str(service), run.name, share, constrains))
    return out


def load(path: Path, baseline: str | None = None) -> Context:
    """Read a run or sweep directory into a :class:`Context`.

    Parameters
    ----------
    path
        A run directory or a sweep directory (numbered job directories, optional
        ``comparison.csv``).
    baseline
        Compare against this override value or scenario instead of the declared baseline.

    Returns
    -------
    Context

    Raises
    ------
    FileNotFoundError
        If the directory holds no finished run at all.
    compare.CompareError
        If ``baseline`` matches no finished job.
    """
    root = Path(path).resolve()
    sweep = is_sweep(root)
    all_runs = [load_run(p) for p in job_dirs(root)] if sweep else [load_run(root)]
    runs = [r for r in all_runs if r.finished]
    if not runs:
        raise FileNotFoundError(f"{root}: no finished run (no summary.csv and run.json)")
    name_scenarios(runs)
    notes = []
    unfinished = [r.path.name for r in all_runs if not r.finished]
    if unfinished:
        notes.append(f"Jobs {', '.join(unfinished)} have not finished; they are left out.")
    token = compare.choose_baseline(runs, baseline) if sweep else runs[0].name
    file = compare.comparison_file(runs, baseline) if sweep else compare.COMPARISON_FILE
    suffix = "" if file == compare.COMPARISON_FILE else file[len("comparison") : -len(".csv")]
    comparison = read_csv(root / file) if sweep else None
    source = f"{file} (sim.analysis.compare)"
    if comparison is None or comparison.empty:
        comparison = pd.DataFrame()
        if len(runs) > 1 and all(r.replications is not None for r in runs):
            # The reference implementation, on the finished jobs (e.g. a partial sweep).
            comparison = compare.compare(compare.Sweep(root, runs, []), token)
        source = "computed by the report from replications.csv (no comparison table yet)"
    kind = compare.model_kind(runs) or ""
    spec = MODELS.get(kind)
    metrics = list(
        dict.fromkeys(m for r in runs if r.summary is not None for m in r.summary["metric"])
    )
    headline = spec.headline_metrics(metrics) if spec is not None else []
    docs = {r.name: read_warnings(r) for r in runs}
    return Context(
        root=root,
        sweep=sweep,
        runs=runs,
        summary=scenario_summary(runs),
        comparison=comparison,
        comparison_source=source,
        baseline=token,
        palette=scenario_palette([r.name for r in runs]),
        headline=headline or metrics[:8],
        warnings=docs,
        pinned=pinned_services(runs, docs),
        suffix=suffix,
        expected_jobs=len(all_runs) if sweep else None,
        notes=notes,
    )


# --------------------------------------------------------------------------- figures
def _save(fig: Figure, out: Path, key: str, svg: bool) -> tuple[Path, Path | None]:
    out.mkdir(parents=True, exist_ok=True)
    png = out / f"{key}.png"
    atomic_write(png, lambda p: fig.savefig(p, format="png"))
    if not svg:
        return png, None
    vector = out / f"{key}.svg"
    atomic_write(vector, lambda p: fig.savefig(p, format="svg"))
    return png, vector


def _flow_table(run: RunData) -> pd.DataFrame:
    if run.summary is None:
        raise MissingDataError("no summary table")
    kpis = dict(zip(run.summary["metric"], run.summary["mean"], strict=True))
    events = read_flow_events(run.path)
    shares = flows.discharge_shares(events, run.warm_up or 0.0) if events is not None else None
    return flows.flows_from_kpis(kpis, shares or None)


def figure_specs(ctx: Context) -> list[tuple[str, str, str, Callable[[], Figure]]]:
    """(key, title, caption, builder) for every figure the report tries to draw."""
    first = ctx.baseline_names[0] if ctx.baseline_names else ctx.baseline
    kw: dict[str, Any] = {"baseline": first, "colours": ctx.palette}
    s, c = ctx.summary, ctx.comparison
    by_name = {r.name: r for r in ctx.runs}
    against = ctx.baseline_label

    def pressure() -> Figure:
        series = {r.name: read_timeseries(r.path) for r in ctx.runs}
        warm = next((r.warm_up for r in ctx.runs if r.warm_up is not None), None)
        return timeseries.hospital_pressure(series, warm_up=warm, **kw)

    def sens() -> Figure:
        if "assumption" not in c.columns:
            raise MissingDataError("not an assumption-sensitivity sweep (no 'assumption' column)")
        rest = [n for n in ctx.order if n not in ctx.baseline_names]
        return tornado.tornado(c, scenario=rest[0] if rest else None, baseline=ctx.baseline_run)

    def flow_grid() -> Figure:
        panels, notes = {}, []
        for name in ctx.order[:MAX_FLOW_PANELS]:
            run = by_name[name]
            try:
                panels[labels.scenario_label(name)] = _flow_table(run)
            except MissingDataError:
                continue
            if run.summary is None:
                continue
            gp = run.summary.set_index("metric")["mean"].get("gp_appointments_per_1000")
            if gp is not None and np.isfinite(gp):
                notes.append(f"{labels.scenario_label(name)} {gp:,.0f}")
        note = (
            "Not drawn to scale: GP practice appointments per 1,000 people per year: "
            + "; ".join(notes)
            if notes
            else ""
        )
        return flows.sankey_grid(panels, title="Urgent care flows", note_text=note)

    def forest() -> Figure:
        return figures.forest(
            c, metrics=ctx.headline, baseline=ctx.baseline_run, colours=ctx.palette
        )

    practice_tables: dict[str, pd.DataFrame | None] = {}

    def practice_table() -> dict[str, pd.DataFrame | None]:
        # Read once for both practice figures, and only if one of them is drawn.
        if not practice_tables:
            practice_tables.update({r.name: read_practices(r.path) for r in ctx.runs})
        return practice_tables

    def practice_differences() -> Figure:
        return figures.forest(
            c,
            metrics=GP_DIFFERENCES,
            baseline=ctx.baseline_run,
            colours=ctx.palette,
            topic="General practice",
        )

    def margins() -> Figure:
        ordered = [by_name[n] for n in ctx.order]
        return practices.margin_distribution(practice_table(), distress_threshold(ordered), **kw)

    return [
        (
            "forest",
            f"Differences from {against}",
            "Paired differences (same random numbers in every scenario) with 95% confidence "
            "intervals. Hollow markers: the interval includes zero, so the difference could be "
            "chance.",
            forest,
        ),
        (
            "dashboard",
            "Key measures",
            f"Average across replications with 95% confidence intervals; the dashed line is "
            f"{labels.baseline_phrase(first)}.",
            lambda: figures.dashboard(s, **kw),
        ),
        (
            "areas",
            "Results by area",
            "Each area (borough) of the place separately; average across replications, 95% CI.",
            lambda: figures.areas(s, **kw),
        ),
        (
            "hospital_pressure",
            "Hospital pressure over time",
            "Daily beds occupied and beds held by people ready to leave; line: mean across "
            "replications, band: 5–95% range.",
            pressure,
        ),
        (
            "gp_access",
            "Getting a GP appointment",
            "Dashed lines: England, April 2024.",
            lambda: figures.gp_access(s, **kw),
        ),
        (
            "end_of_life",
            "Where people die",
            "Simulated place of death beside England (OHID 2022).",
            lambda: figures.end_of_life(s, **kw),
        ),
        (
            "equity",
            "Emergency admissions by deprivation",
            "Rates by deprivation fifth, with 95% confidence intervals.",
            lambda: figures.equity(s, **kw),
        ),
        (
            "money",
            "Where the money goes",
            "Costs per person per year, by setting, by the "
            "organisation that holds the money, and what reaches general practice.",
            lambda: figures.money(s, **kw),
        ),
        (
            "tornado",
            "Which assumptions matter most",
            "Each bar moves one assumption to its low or high value; longest bars first.",
            sens,
        ),
        (
            "flows",
            "Patient flows",
            "People per 1,000 per year through urgent care and hospital, one panel per "
            "arrangement. Where the event log was saved, destinations after hospital come "
            "from it.",
            flow_grid,
        ),
        (
            "practice_differences",
            f"General practice: differences from {against}",
            "What patients and practices see, as paired differences with 95% confidence "
            "intervals: appointments, same-day need left unmet, routine waits, continuity, "
            "partners' profit, distress, hand-backs and displaced patients. Hollow markers: the "
            "interval includes zero.",
            practice_differences,
        ),
        (
            "practice_margins",
            "Practice margins",
            "Profit per partner (full-time equivalent) a year of each open practice in each "
            "quarter after the warm-up, all replications; the dashed line is the distress "
            "threshold of the run's settings.",
            margins,
        ),
        (
            "practice_flows",
            "Money to and from practices",
            "Per weighted patient a year: neighbourhood payments to practices and "
            "enhanced-service income moved out of them; share of practice-quarters in distress "
            "and of practices handing their contract back. Means over replications.",
            lambda: practices.practice_flows(practice_table(), **kw),
        ),
    ]


def build_figures(
    ctx: Context, svg: bool = False, progress: bool | None = None
) -> list[FigureResult]:
    """Draw and save every figure that has its data; note the rest.

    Parameters
    ----------
    ctx
        The loaded run or sweep.
    svg
        Also write each figure as SVG (slower; for papers).
    progress
        Show a progress bar; default: only when stderr is a terminal.

    Returns
    -------
    list[FigureResult]
        In report order; skipped figures carry the reason.
    """
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    out = ctx.figures_dir
    results = []
    # The model's own list (ModelSpec.figures) says which of the report's figures apply.
    spec = MODELS.get(compare.model_kind(ctx.runs) or "")
    wanted = set(spec.figures) if spec is not None and spec.figures else None
    specs = [s for s in figure_specs(ctx) if wanted is None or s[0] in wanted]
    bar = tqdm(specs, desc="report figures", unit="fig", disable=not show, leave=False)
    for key, title, caption, build in bar:
        bar.set_postfix_str(key)
        res = FigureResult(key, title, caption)
        try:
            fig = build()
        except MissingDataError as exc:
            res.skipped = str(exc)
        except Exception as exc:  # a broken figure is reported, never fatal to the report
            res.skipped = f"could not be drawn ({type(exc).__name__}: {exc})"
        else:
            res.png, res.svg = _save(fig, out, key, svg)
        results.append(res)
    return results


# --------------------------------------------------------------------------- HTML
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;
color:#222;background:#fff;line-height:1.4;font-size:17px}
main{max-width:1400px;margin:0 auto;padding:12px 32px 64px}
h1{font-size:1.7rem;margin:.2em 0 .1em}h2{font-size:1.4rem;margin-top:1.6em;
border-bottom:2px solid #ddd}h3{font-size:1.15rem;margin-top:1.2em}
p{margin:.4em 0}.lead{font-size:1.05rem}
table{border-collapse:collapse;margin:.5em 0;font-size:.95rem}
th,td{border:1px solid #ddd;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}
table.headline td,table.headline th{padding:3px 12px}
table.headline td:first-child{min-width:19em}table.headline td small{font-size:.8rem}
table.headline small{color:#555}
figure{margin:1.2em 0}figure img{width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.95rem}.note{color:#8a4b00;background:#fff6e5;padding:4px 10px;
border-left:4px solid #e69f00}.bad{color:#8b0000;background:#fdecea;padding:4px 10px;
border-left:4px solid #b00020}.ok{color:#1b5e20;background:#eef7ee;padding:4px 10px;
border-left:4px solid #1b7837}.warnings p{margin:.15em 0}
ul.pins{margin:.1em 0;padding-left:1.4em;columns:2}ul.pins li{margin:0}
table.differ td:first-child{min-width:18em}table.differ td{overflow-wrap:anywhere}
.kind-assumption{color:#b00020;font-weight:600}
.kind-cited{color:#1b7837}.kind-calibrated{color:#0072b2}.kind-set{color:#6a3d9a}
.sig{font-weight:700}.pin{color:#8a4b00;font-size:.85rem}
code,pre{background:#f6f6f6;padding:2px 4px;font-size:.9rem;white-space:pre-wrap;
word-break:break-all}
details{margin:.6em 0}summary{cursor:pointer;font-weight:600}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;margin-right:.4em;
vertical-align:middle}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _plain(x: Any) -> str:
    return json.dumps(x) if isinstance(x, dict | list) else str(x)


def _range(metric: str, low: float, high: float, signed: bool = False) -> str:
    lo = labels.format_value(metric, low, with_unit=False, signed=signed)
    hi = labels.format_value(metric, high, with_unit=False, signed=signed)
    return f"{lo} to {hi}"


def _scenario_cell(name: str, palette: dict[str, str]) -> str:
    colour = palette.get(name, "#999")
    return (
        f'<span class="swatch" style="background:{colour}"></span>{_e(labels.scenario_label(name))}'
    )


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, int | float) else str(x)


def _model_kind(ctx: Context) -> str:
    return compare.model_kind(ctx.runs) or "?"


def describe(ctx: Context) -> str:
    """What was run and what it is compared with, in one paragraph."""
    r = ctx.runs[0]
    cfg, man = r.config, r.manifest
    place: dict[str, Any] = (
        cfg["place"] if ctx.uses("place") and isinstance(cfg.get("place"), dict) else {}
    )
    areas = place.get("areas", {}) if isinstance(place.get("areas"), dict) else {}
    pop = sum(float(a.get("population", 0)) for a in areas.values() if isinstance(a, dict))
    where = f" for a place of {pop:,.0f} people ({place.get('name', '')})" if pop else ""
    if len(areas) > 1:
        where += f" in {len(areas)} areas"
    reps = man.get("replications", cfg.get("run", {}).get("replications", "?"))
    horizon = man.get("horizon", cfg.get("run", {}).get("horizon", "?"))
    # Daily series mean the clock counts days; a model without them has abstract time units.
    unit = "days" if (r.path / "timeseries.parquet").is_file() else "time units"
    what = (
        f"{len(ctx.runs)} scenarios of the {_e(_model_kind(ctx))} model{_e(where)}"
        if ctx.sweep
        else f"One run of the {_e(_model_kind(ctx))} model{_e(where)}"
    )
    against = (
        f" Differences are from <b>{_e(ctx.baseline_label)}</b>, paired replication by "
        "replication; every interval is a 95% confidence interval."
        if ctx.sweep
        else " Every interval is a 95% confidence interval across replications."
    )
    text = (
        f"<p class='lead'>{what}, {_e(reps)} replications of {_e(_num(horizon))} {unit} "
        f"each (first {_e(_num(r.warm_up))} {unit} warm-up, not counted).{against}</p>"
    )
    if ctx.sweep and ctx.expected_jobs and ctx.expected_jobs > len(ctx.runs):
        done = f"{len(ctx.runs)} of {ctx.expected_jobs}"
        text += f'<p class="note">Partial sweep: {done} jobs finished.</p>'
    return text


def _names(names: Sequence[str]) -> str:
    return ", ".join(labels.scenario_label(n) for n in names)


def verdict_html(ctx: Context) -> str:
    """Every job's verdict, the services pinned at capacity, and what the cautions are."""
    parts = []
    bad = [(n, d) for n, d in ctx.warnings.items() if d and d.get("meaningful") is False]
    for name, doc in bad:
        parts.append(
            f"<p class='bad'><b>Not meaningful — {_e(labels.scenario_label(name))}:</b> "
            f"{_e(doc.get('verdict', ''))}</p>"
        )
    by_service: dict[str, list[Pinned]] = {}
    for p in ctx.pinned:
        by_service.setdefault(p.service, []).append(p)
    if by_service:
        lines = "".join(
            f"<li><b>{_e(service)}</b>: "
            + _e(", ".join(f"{labels.scenario_label(p.scenario)} {p.share:.0%}" for p in items))
            + "</li>"
            for service, items in by_service.items()
        )
        parts.append(
            "<div class='note'>Services full on most measured days (share of days at "
            f"capacity):<ul class='pins'>{lines}</ul>Differences in the measures marked ⚠ "
            "flow through them, so they reflect those capacities, not only the arrangements."
            "</div>"
        )
    missing = [r.name for r in ctx.runs if not ctx.warnings.get(r.name)]
    cautions = sorted(
        {
            w.get("kind", "")
            for d in ctx.warnings.values()
            for w in (d or {}).get("warnings", [])
            if w.get("kind") != "capacity_saturated" and w.get("severity") != "invalid"
        }
    )
    if cautions:
        words = {
            "warm_up_short": "warm-up shorter than MSER-5 suggests",
            "no_steady_state": "some daily series never settle",
            "precision_not_reached": "precision target not reached",
            "growing_queue": "a queue grows",
            "drifts_between_cycles": "a yearly mean still moves between measured years",
        }
        said = "; ".join(words.get(k, k.replace("_", " ")) for k in cautions)
        parts.append(f"<p class='note'>Cautions: {_e(said)}. See <a href='#method'>Method</a>.</p>")
    if missing and ctx.sweep:
        parts.append(f"<p class='note'>No validity check found for: {_e(_names(missing))}.</p>")
    if not parts:
        parts.append("<p class='ok'>No validity warnings in any job.</p>")
    return f"<div class='warnings'>{''.join(parts)}</div>"


def _pinned_for(ctx: Context, metric: str) -> dict[str, list[str]]:
    """Scenario -> services full on most days that limit ``metric``."""
    out: dict[str, list[str]] = {}
    for p in ctx.pinned:
        if metric in p.constrains:
            out.setdefault(p.scenario, []).append(p.service)
    return out


def headline_table(ctx: Context, metrics: Sequence[str] | None = None) -> str:
    """The headline comparison: level at the baseline, difference (95% CI) elsewhere."""
    names = ctx.order
    s, c = ctx.summary, ctx.comparison
    metrics = ctx.headline if metrics is None else metrics
    shown = [m for m in metrics if m in set(s["metric"])]
    if not shown:
        return '<p class="note">None of the headline measures are in these results.</p>'
    has_diff = not c.empty and "diff_mean" in c.columns
    baselines = set(ctx.baseline_names)
    base_of = (
        dict(zip(c["scenario"].astype(str), c["baseline"].astype(str), strict=False))
        if has_diff and "baseline" in c.columns
        else {}
    )
    head = (
        "<tr><th>Measure</th>"
        + "".join(f"<th>{_scenario_cell(n, ctx.palette)}</th>" for n in names)
        + "</tr>"
    )
    body = []
    for m in shown:
        info = labels.metric_info(m)
        better = {"higher": "higher is better", "lower": "lower is better"}.get(info.better, "")
        pinned = _pinned_for(ctx, m)
        pin_note = ""
        if pinned:
            services = sorted({sv for v in pinned.values() for sv in v})
            n_full = len(pinned)
            pin_note = (
                f"<br><span class='pin' title='{_e(_names(list(pinned)))}'>⚠ "
                f"{_e(', '.join(services).lower())} full in {n_full} of {len(names)}</span>"
            )
        unit = ", ".join(x for x in (info.unit, better) if x)
        tip = f" title='{_e(info.definition)}'" if info.definition else ""  # from the registry
        cells = [f"<td{tip}>{_e(info.label)}<br><small>{_e(unit)}</small>{pin_note}</td>"]
        for n in names:
            row = s[(s["scenario"] == n) & (s["metric"] == m)]
            if row.empty:
                cells.append("<td class='num'>–</td>")
                continue
            # Units are in the Measure column; repeating them pushes the table off a screen.
            mean = labels.format_value(m, row["mean"].iloc[0], with_unit=False)
            low, high = (row[k].iloc[0] for k in ("ci_low", "ci_high"))
            floor, ceiling = (b / info.scale for b in info.bounds) if info.scale else (low, high)
            ci = _range(m, max(low, floor), min(high, ceiling))
            d = c[(c["scenario"] == n) & (c["metric"] == m)] if has_diff else pd.DataFrame()
            if n in baselines or not len(d) or not ctx.sweep:
                text = f"{_e(mean)}<br><small>95% CI {_e(ci)}</small>"
            else:
                dm, lo, hi = (d[k].iloc[0] for k in ("diff_mean", "diff_ci_low", "diff_ci_high"))
                diff = labels.format_value(m, dm, with_unit=False, signed=True)
                clear = labels.is_clear(lo, hi, diff)
                flag = " ⚠" if pinned.get(n) or pinned.get(base_of.get(n, "")) else ""
                text = (
                    f"<span class='{'sig' if clear else ''}'>difference {_e(diff)}</span>{flag}"
                    # The level on a line of its own: side by side with a wide CI the
                    # four-arrangement table no longer fits a 1,280-pixel screen.
                    f"<br><small>95% CI {_e(_range(m, lo, hi, signed=True))}</small>"
                    f"<br><small>level {_e(mean)}</small>"
                )
            cells.append(f"<td class='num'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='headline'>{head}{''.join(body)}</table>"


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="" src="data:image/png;base64,{data}">'


def figures_html(results: Sequence[FigureResult], skip: Sequence[str] = ()) -> str:
    """Figures embedded as base64 PNG, and a note for each one skipped."""
    parts = []
    for r in results:
        if r.key in skip:
            continue
        if r.png is None:
            if r.key not in QUIET_SKIPS:
                parts.append(f'<p class="note">{_e(r.title)}: skipped — {_e(r.skipped)}.</p>')
            continue
        files = f"{r.png.parent.name}/{r.png.name}" + (
            f", {r.png.parent.name}/{r.svg.name}" if r.svg is not None else ""
        )
        parts.append(
            f'<figure id="{_e(r.key)}">{_img(r.png)}<figcaption><b>{_e(r.title)}.</b> '
            f"{_e(r.caption)} Files: {_e(files)}.</figcaption></figure>"
        )
    return "\n".join(parts)


def _kind_class(kind: str) -> str:
    return f"kind-{kind.split()[0]}"


def assumptions_html(ctx: Context) -> str:
    """One table of the values that differ between arrangements; every full table folded."""
    if not ctx.uses("lead_provider"):
        return "<p>This model has no lead-provider arrangement.</p>"
    tables = {}
    for name in ctx.order:
        run = next(r for r in ctx.runs if r.name == name)
        table = assumptions(run)
        if not table.empty:
            tables[name] = table.set_index("key")
    if not tables:
        return "<p>This model has no lead-provider arrangement.</p>"
    keys = list(dict.fromkeys(k for t in tables.values() for k in t.index))
    differ = [k for k in keys if len({_plain(t["value"].get(k, "–")) for t in tables.values()}) > 1]
    head = (
        "<tr><th>Mechanism</th>"
        + "".join(f"<th>{_scenario_cell(n, ctx.palette)}</th>" for n in tables)
        + "</tr>"
    )
    rows = []
    for k in differ:
        cells = []
        for t in tables.values():
            if k not in t.index:
                cells.append("<td class='num'>–</td>")
                continue
            kind = str(t.at[k, "kind"])
            cells.append(
                f"<td>{_e(_plain(t.at[k, 'value']))} "
                f"<small class='{_kind_class(kind)}' title='{_e(t.at[k, 'basis'])}'>"
                f"{_e(kind)}</small></td>"
            )
        rows.append(
            f"<tr><td title='{_e(k)}'>{_e(labels.assumption_label(k))}</td>{''.join(cells)}</tr>"
        )
    counts = "; ".join(
        f"{labels.scenario_label(n)} {int((t['kind'] == 'assumption').sum())} of {len(t)}"
        for n, t in tables.items()
    )
    intro = (
        f"<p>{len(differ)} of {len(keys)} mechanism values differ between the arrangements "
        "(the rest are the same in all). Values resting on assumption, not evidence: "
        f"{_e(counts)}. Hover over a kind for its basis.</p>"
    )
    same = "<p>The arrangements share every mechanism value.</p>" if not differ else ""
    full = []
    for name, t in tables.items():
        body = "".join(
            f"<tr><td>{_e(labels.assumption_label(k))}<br><small><code>{_e(k)}</code></small></td>"
            f"<td class='num'>{_e(_plain(row.value))}</td>"
            f"<td class='{_kind_class(str(row.kind))}'>{_e(row.kind)}</td>"
            f"<td>{_e(row.basis)}</td></tr>"
            for k, row in t.iterrows()
        )
        full.append(
            f"<details><summary>{_scenario_cell(name, ctx.palette)}: every value and its "
            f"basis</summary><table><tr><th>Mechanism</th><th>Value</th><th>Kind</th>"
            f"<th>Basis</th></tr>{body}</table></details>"
        )
    table = f"<table class='differ'>{head}{''.join(rows)}</table>" if differ else same
    return intro + table + "".join(full)


def method_html(ctx: Context) -> str:
    """How the differences were computed, what common random numbers bought, every warning."""
    c = ctx.comparison
    parts = [
        "<p>Every scenario ran the same replications with the same random numbers "
        "(common random numbers): replication 1 of each arrangement meets the same people "
        "with the same needs on the same days, and so on. The difference between an "
        "arrangement and the baseline is taken within each replication, then averaged, so "
        "chance that affects both alike cancels out and the intervals on differences are "
        "narrower than two separate runs would give.</p>"
    ]
    if ctx.sweep:
        parts.append(f"<p><small>Differences: {_e(ctx.comparison_source)}.</small></p>")
    need = {"paired_half_width", "independent_half_width", "metric", "scenario"}
    if ctx.sweep and not c.empty and need <= set(c.columns):
        rows = []
        for m in ctx.headline:
            g = c[(c["metric"] == m) & c["independent_half_width"].gt(0)]
            g = g[g["scenario"].astype(str) != g.get("baseline", "").astype(str)]
            if g.empty:
                continue
            ratio = float(np.nanmedian(g["paired_half_width"] / g["independent_half_width"]))
            if not np.isfinite(ratio):
                continue
            words = f"{1 - ratio:.0%} narrower" if ratio < 1 else f"{ratio - 1:.0%} wider (no gain)"
            rows.append(
                f"<tr><td>{_e(labels.metric_info(m).label)}</td><td class='num'>{ratio:.0%}</td>"
                f"<td>{_e(words)}</td></tr>"
            )
        if rows:
            parts.append(
                "<p>What sharing random numbers bought, per headline measure: the width of "
                "the 95% interval on a difference, as a share of the width two independent "
                "runs would give (median over the arrangements). Below 100% the pairing "
                "helped; the variance reductions behind these are in the comparison table "
                "(<code>variance_reduction</code>).</p><table><tr><th>Measure</th>"
                f"<th>Interval width</th><th>In words</th></tr>{''.join(rows)}</table>"
            )
    cycles = {run_cycle(r.config) for r in ctx.runs}
    seasonal = (
        " The output follows a yearly cycle, so each candidate truncation kept a whole year, "
        "and a queue's growth or a measure's drift was judged between whole measured years, "
        "not within the measured year, which rises into winter however stable it is."
        if cycles - {None}
        else ""
    )
    parts.append(
        "<p>Validity: each run's daily series were checked for the end of the start-up "
        "transient (MSER-5, reported only where starting later would move a measured mean "
        "by more than its standard error), for queues that keep growing and for services "
        f"full on most days.{seasonal} The rules are in docs/method.md; every warning is "
        "listed below.</p>"
    )
    listing = []
    for name in ctx.order:
        doc = ctx.warnings.get(name) or {}
        records = doc.get("warnings", [])
        items = "".join(
            f"<li><b>{_e(w.get('severity', ''))}</b> {_e(w.get('message', ''))}</li>"
            for w in records
        )
        verdict = doc.get("verdict", "no warnings.json")
        listing.append(
            f"<h3>{_scenario_cell(name, ctx.palette)}: {_e(verdict)}</h3>"
            + (f"<ul>{items}</ul>" if items else "")
        )
    parts.append(
        "<details><summary>Every validity warning, by scenario (warnings.json)</summary>"
        + "".join(listing)
        + "</details>"
    )
    return "".join(parts)


MANIFEST_KEYS = (
    "package_version", "git", "config_hash", "model", "seed", "replications", "horizon",
    "warm_up", "workers", "wall_seconds", "cpu_seconds", "peak_rss_mb", "cpu_model", "platform",
)  # fmt: skip


def manifest_html(ctx: Context) -> str:
    """The run manifests in one table (a column per job), folded away."""
    runs = [r for r in (next(x for x in ctx.runs if x.name == n) for n in ctx.order)]
    head = (
        "<tr><th></th>"
        + "".join(
            f"<th>{_scenario_cell(r.name, ctx.palette)}"
            + (f" (job {_e(r.path.name)})" if ctx.sweep else "")
            + "</th>"
            for r in runs
        )
        + "</tr>"
    )
    rows = []
    extra = {
        "versions": lambda m: ", ".join(
            f"{k} {v}" for k, v in sorted((m.get("versions") or {}).items())
        ),
        "command": lambda m: m.get("command_line", ""),
        "re-run": lambda m: m.get("rerun_command", ""),
    }
    for key in MANIFEST_KEYS:
        if not any(key in r.manifest for r in runs):
            continue
        rows.append(
            f"<tr><th>{_e(key)}</th>"
            + "".join(f"<td>{_e(_plain(r.manifest.get(key, '–')))}</td>" for r in runs)
            + "</tr>"
        )
    for key, get in extra.items():
        rows.append(
            f"<tr><th>{_e(key)}</th>"
            + "".join(f"<td><code>{_e(get(r.manifest))}</code></td>" for r in runs)
            + "</tr>"
        )
    return (
        "<details><summary>Run details: code version, seeds, timings, re-run commands"
        f"</summary><div style='overflow-x:auto'><table>{head}{''.join(rows)}</table></div>"
        "</details>"
    )


def practices_html(ctx: Context, results: Sequence[FigureResult]) -> str:
    """The general-practice section: what it shows, its KPIs by scenario, its two figures.

    Empty when the results have none of :data:`GP_KPIS` and no practice figure (a model
    without general practice).
    """
    present = set(ctx.summary["metric"])
    metrics = [m for m in GP_KPIS if m in present]
    shown = [r for r in results if r.key in PRACTICE_FIGURES]
    if not metrics and not shown:
        return ""
    caveat = (
        " What each lead-provider arrangement does to practices (what it pays them, the work "
        "and income it moves out of them, the GP time it draws into neighbourhood work) rests "
        "on <b>ASSUMPTIONS</b> in its settings, not on findings: "
        "<a href='#assumptions'>Assumptions</a> gives each value's basis."
        if ctx.uses("lead_provider")
        else ""
    )
    intro = (
        "<p>General practice here is a business: each practice earns income, pays for its "
        "GP sessions and staff, and keeps what is left as its partners' profit. A practice "
        "whose profit per partner stays below the distress threshold may hand its contract "
        "back, and its patients move to neighbouring practices. This section shows the money "
        "paid to practices for neighbourhood work and the income moved out of them, how many "
        "practices are in distress or hand back their contract, and what patients see: how "
        f"long they wait for a GP and how often they see their usual GP.{caveat}</p>"
    )
    table = (
        headline_table(ctx, metrics)
        if metrics
        else '<p class="note">None of the general-practice measures are in these results.</p>'
    )
    return f"{intro}{table}{figures_html(shown)}"


def render_html(ctx: Context, results: Sequence[FigureResult]) -> str:
    """The whole report as one HTML string (no external references).

    Parameters
    ----------
    ctx
        The loaded run or sweep.
    results
        Figures from :func:`build_figures`.
    """
    name = f"sweep {ctx.root.name}" if ctx.sweep else f"run {ctx.root.name}"
    title = f"neighbourhood-sim report: {name}"
    if ctx.sweep:
        title += f" — differences from {ctx.baseline_label}"
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in ctx.notes)
    caveat = (
        '<p class="note">Lead-provider effects in this model are <b>assumptions, not '
        "findings</b>: there is no head-to-head evidence yet. "
        "<a href='#assumptions'>Assumptions</a> lists each value's basis.</p>"
        if ctx.uses("lead_provider")
        else ""
    )
    legend = (
        "<p><small>Each cell: the difference from "
        f"{_e(ctx.baseline_label)}: <b>bold</b> when clear (its 95% CI excludes zero and it "
        "shows at this precision), plain when it could be chance; its 95% CI; the level."
        + (
            " ⚠: the measure flows through a service that was full on most days."
            if ctx.pinned
            else ""
        )
        + "</small></p>"
        if ctx.sweep
        else ""
    )
    first = [r for r in results if r.key == "forest"]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>"
        f"{describe(ctx)}{verdict_html(ctx)}{caveat}{notes}"
        f"<h2>Headline comparison</h2>{headline_table(ctx)}{legend}"
        f"{figures_html(first)}"
        f"<h2>Figures</h2>{figures_html(results, skip=['forest', *PRACTICE_FIGURES])}"
        f"{_section('General practice', 'general-practice', practices_html(ctx, results))}"
        f"<h2 id='assumptions'>Assumptions and their basis</h2>{assumptions_html(ctx)}"
        f"<h2 id='method'>Method and validity</h2>{method_html(ctx)}"
        f"<h2>Run details</h2>{manifest_html(ctx)}"
        "</main></body></html>\n"
    )


def _section(title: str, anchor: str, body: str) -> str:
    """A titled section, or nothing when it has no body."""
    return f"<h2 id='{anchor}'>{_e(title)}</h2>{body}" if body else ""


def build_report(
    path: Path, baseline: str | None = None, svg: bool = False, progress: bool | None = None
) -> Path:
    """(Re)build the figures and the report for a run or sweep directory.

    Parameters
    ----------
    path
        A run directory or a sweep directory.
    baseline
        Another baseline than the declared one: the files get a ``_vs_<baseline>`` suffix.
    svg
        Also write SVG files of every figure.
    progress
        Progress bar (default: only on a terminal).

    Returns
    -------
    Path
        The written ``report.html`` (or ``report_vs_<baseline>.html``).
    """
    ctx = load(Path(path), baseline)
    results = build_figures(ctx, svg=svg, progress=progress)
    return write_text(ctx.root / f"report{ctx.suffix}.html", render_html(ctx, results))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m sim.report <run_or_sweep_dir> [--baseline NAME] [--svg]``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.report", description=__doc__.split("\n")[0]
    )
    parser.add_argument("directory", type=Path, help="a run directory or a sweep directory")
    parser.add_argument(
        "--baseline",
        default=None,
        help="compare against this override value or scenario instead of the experiment's "
        "declared baseline (writes report_vs_<NAME>.html)",
    )
    parser.add_argument("--svg", action="store_true", help="also write SVG figures (slower)")
    args = parser.parse_args(argv)
    from sim.analysis.results import ResultsError, check_results_dir

    try:
        for note in check_results_dir(args.directory):
            print(f"nhsim: note: {note}", file=sys.stderr)
        out = build_report(args.directory, args.baseline, svg=args.svg)
    except (FileNotFoundError, NotADirectoryError, ResultsError, compare.CompareError) as exc:
        print(f"nhsim: error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
