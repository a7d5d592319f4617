"""A self-contained HTML report of a run or a sweep, rebuilt from its saved tables only.

    python -m sim.report.build <run_or_sweep_dir>

writes ``figures/*.png``, ``figures/*.svg`` and ``report.html`` into that directory. The HTML
embeds its images (base64 PNG) and its CSS, and refers to nothing on the network, so it can be
emailed or opened offline in a workshop. A figure whose data are missing is skipped with a
note; a partial sweep (some jobs unfinished) reports the jobs that finished.

Nothing here runs or imports the model: only tables on disk are read.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.compare import paired_difference
from sim.analysis.results import (
    RunData,
    is_sweep,
    job_dirs,
    load_run,
    name_scenarios,
    read_csv,
    read_yaml,
)
from sim.analysis.stats import t_interval
from sim.io import write_text
from sim.paths import conf_dir
from sim.plots import figures, flows, labels, timeseries, tornado
from sim.plots.common import MissingDataError
from sim.plots.style import BASELINE, order_scenarios, scenario_palette

TIMESERIES_COLUMNS = ("beds_occupied", "bed_capacity", "delayed_discharge_beds")
FLOW_EVENTS = ("discharge", *flows.ONWARD_EVENTS)
MAX_FLOW_DIAGRAMS = 4


# --------------------------------------------------------------------------- loading
def scenario_summary(runs: Sequence[RunData]) -> pd.DataFrame:
    """All runs' summary tables stacked, with a ``scenario`` column."""
    parts = [r.summary.assign(scenario=r.name) for r in runs if r.summary is not None]
    cols = ["scenario", "metric", "mean", "ci_low", "ci_high", "n"]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def paired_comparison(runs: Sequence[RunData], baseline: str) -> pd.DataFrame:
    """Paired differences from the baseline, replication by replication (common random numbers).

    Used only when the sweep has no ``comparison.csv`` (e.g. a partial sweep);
    ``sim.analysis.compare`` is the reference implementation.

    Parameters
    ----------
    runs
        Named runs with ``replications`` tables.
    baseline
        Name of the baseline run.

    Returns
    -------
    pandas.DataFrame
        ``scenario, metric, mean, ci_low, ci_high, n, diff_mean, diff_ci_low, diff_ci_high,
        variance_reduction, significant``.
    """
    by_name = {r.name: r for r in runs if r.replications is not None}
    if baseline not in by_name:
        return pd.DataFrame()
    base = by_name[baseline].replications
    rows = []
    for name, run in by_name.items():
        merged = run.replications.merge(base, on=["replication", "metric"], suffixes=("", "_b"))
        for metric, g in merged.groupby("metric", sort=False):
            mean, _, lo, hi = t_interval(g["value"].to_numpy())
            d = paired_difference(g["value"].to_numpy(), g["value_b"].to_numpy())
            rows.append(
                (name, metric, mean, lo, hi, len(g), d.mean, d.low, d.high,
                 d.variance_reduction, d.significant)
            )  # fmt: skip
    cols = [
        "scenario",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "n",
        "diff_mean",
        "diff_ci_low",
        "diff_ci_high",
        "variance_reduction",
        "significant",
    ]
    return pd.DataFrame(rows, columns=cols)


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


# --------------------------------------------------------------------------- assumptions
def yaml_comments(text: str) -> dict[str, str]:
    """Trailing ``# comment`` of every key in a YAML file, by dotted path.

    Keys of an inline mapping (``a: {b: 1, c: 2}  # basis``) get their line's comment; keys
    with no comment of their own inherit the nearest parent's.

    Parameters
    ----------
    text
        The YAML source.

    Returns
    -------
    dict[str, str]
        Dotted key path to comment text (without ``#``).
    """
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        m = re.match(r"^(\s*)([\"']?[\w\-+.]+[\"']?)\s*:(.*)$", line)
        if not m or line.lstrip().startswith("#"):
            continue
        indent, key, rest = len(m.group(1)), m.group(2).strip("\"'"), m.group(3)
        value, _, comment = rest.partition(" #")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        parent = ".".join(k for _, k in stack)
        comment = comment.strip() or out.get(parent, "")
        if comment:
            out[path] = comment
        inline = value.strip()
        if inline.startswith("{") and inline.endswith("}"):
            for child in re.findall(r"([\w\-]+)\s*:", inline):
                if comment:
                    out[f"{path}.{child}"] = comment
        stack.append((indent, key))
    return out


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict) and d:
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def basis_kind(comment: str) -> str:
    """``assumption`` (no evidence, or the comment says so), ``calibrated`` or ``cited``."""
    text = comment.lower()
    if not text or "assumption" in text:
        return "assumption"
    if "calibrat" in text:
        return "calibrated"
    return "cited"


def assumptions(run: RunData, conf: Path | None = None) -> pd.DataFrame:
    """The arrangement's mechanism values with their basis.

    Values come from the run's resolved config; the basis from the trailing comments of
    ``conf/lead_provider/<name>.yaml`` (the resolved config keeps no comments). A value that
    differs from the file was set for this run, and says so.

    Parameters
    ----------
    run
        A run whose config has a ``lead_provider`` section.
    conf
        Config tree to read comments from (default: the package's).

    Returns
    -------
    pandas.DataFrame
        ``key, value, kind, basis``; empty when there is no ``lead_provider`` section.
    """
    lead = run.config.get("lead_provider")
    if not isinstance(lead, dict):
        return pd.DataFrame(columns=["key", "value", "kind", "basis"])
    source = (conf or conf_dir()) / "lead_provider" / f"{lead.get('name', '')}.yaml"
    comments = yaml_comments(source.read_text(encoding="utf-8")) if source.is_file() else {}
    file_values = _flatten(read_yaml(source) or {}) if source.is_file() else {}
    rows = []
    for key, val in _flatten(lead).items():
        if key in ("name", "defaults"):
            continue
        comment = comments.get(key, "")
        if file_values and key in file_values and file_values[key] != val:
            comment = f"set for this run (file value {file_values[key]}); {comment or 'assumption'}"
            kind = "set for this run"
        else:
            kind = basis_kind(comment)
        rows.append((key, val, kind, comment or "assumption"))
    return pd.DataFrame(rows, columns=["key", "value", "kind", "basis"])


# --------------------------------------------------------------------------- figures
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
    expected_jobs: int | None = None
    notes: list[str] = field(default_factory=list)


def _save(fig: Figure, out: Path, key: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{key}.png", out / f"{key}.svg"
    fig.savefig(png)
    fig.savefig(svg)
    return png, svg


def figure_specs(ctx: Context) -> list[tuple[str, str, str, Callable[[], Figure]]]:
    """(key, title, caption, builder) for every figure the report tries to draw."""
    kw = {"baseline": ctx.baseline, "colours": ctx.palette}
    s, c = ctx.summary, ctx.comparison
    by_name = {r.name: r for r in ctx.runs}

    def pressure() -> Figure:
        series = {r.name: read_timeseries(r.path) for r in ctx.runs}
        warm = next((r.warm_up for r in ctx.runs if r.warm_up is not None), None)
        return timeseries.hospital_pressure(series, warm_up=warm, **kw)

    def sens() -> Figure:
        if "assumption" not in c.columns:
            raise MissingDataError("not an assumption-sensitivity sweep (no 'assumption' column)")
        rest = [
            n for n in order_scenarios(c["scenario"].astype(str), ctx.baseline) if n != ctx.baseline
        ]
        return tornado.tornado(c, scenario=rest[0] if rest else None, baseline=ctx.baseline)

    specs: list[tuple[str, str, str, Callable[[], Figure]]] = [
        (
            "forest",
            "Differences from the baseline",
            "Paired differences (same random numbers in every scenario) with 95% confidence "
            "intervals. Hollow markers: the interval includes zero, so the difference could be "
            "chance.",
            lambda: figures.forest(c, **kw),
        ),
        (
            "dashboard",
            "Key measures",
            "Average across replications with 95% confidence "
            "intervals; the dashed line is the baseline.",
            lambda: figures.dashboard(s, **kw),
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
    ]
    for name in order_scenarios(by_name, ctx.baseline)[:MAX_FLOW_DIAGRAMS]:
        run = by_name[name]

        def flow(run: RunData = run) -> Figure:
            if run.summary is None:
                raise MissingDataError("no summary table")
            kpis = dict(zip(run.summary["metric"], run.summary["mean"], strict=True))
            events = read_flow_events(run.path)
            shares = (
                flows.discharge_shares(events, run.warm_up or 0.0) if events is not None else None
            )
            gp = kpis.get("gp_appointments_per_1000")
            note_text = (
                f"Not drawn to scale: {gp:,.0f} GP practice appointments per 1,000 people per year."
                if gp and np.isfinite(gp)
                else ""
            )
            table = flows.flows_from_kpis(kpis, shares or None)
            title = f"Urgent care flows: {labels.scenario_label(run.name)}"
            return flows.sankey(table, title=title, note_text=note_text)

        key = "flows_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        specs.append(
            (
                key,
                f"Patient flows: {labels.scenario_label(name)}",
                "People per 1,000 per year through urgent care and hospital. Where the "
                "event log was saved, destinations after hospital come from it.",
                flow,
            )
        )
    return specs


def build_figures(ctx: Context) -> list[FigureResult]:
    """Draw and save every figure that has its data; note the rest.

    Parameters
    ----------
    ctx
        The loaded run or sweep.

    Returns
    -------
    list[FigureResult]
        In report order; skipped figures carry the reason.
    """
    out = ctx.root / "figures"
    results = []
    for key, title, caption, build in figure_specs(ctx):
        res = FigureResult(key, title, caption)
        try:
            fig = build()
        except MissingDataError as exc:
            res.skipped = str(exc)
        except Exception as exc:  # a broken figure is reported, never fatal to the report
            res.skipped = f"could not be drawn ({type(exc).__name__}: {exc})"
        else:
            res.png, res.svg = _save(fig, out, key)
        results.append(res)
    return results


# --------------------------------------------------------------------------- context
def load(path: Path) -> Context:
    """Read a run or sweep directory into a :class:`Context`.

    Parameters
    ----------
    path
        A run directory or a sweep directory (numbered job directories, optional
        ``comparison.csv``).

    Returns
    -------
    Context

    Raises
    ------
    FileNotFoundError
        If the directory holds no finished run at all.
    """
    root = Path(path).resolve()
    sweep = is_sweep(root)
    all_runs = [load_run(p) for p in job_dirs(root)] if sweep else [load_run(root)]
    runs = [r for r in all_runs if r.finished]
    if not runs:
        raise FileNotFoundError(f"{root}: no finished run (no summary.csv and run.json)")
    name_scenarios(runs)
    names = [r.name for r in runs]
    # Without a status quo, the first job is the baseline (a sweep lists its central case first).
    baseline = BASELINE if BASELINE in names else runs[0].name
    notes = []
    unfinished = [r.path.name for r in all_runs if not r.finished]
    if unfinished:
        notes.append(f"Jobs {', '.join(unfinished)} have not finished; they are left out.")
    comparison = read_csv(root / "comparison.csv") if sweep else None
    source = "comparison.csv (sim.analysis.compare)"
    if comparison is None or comparison.empty:
        comparison = paired_comparison(runs, baseline) if len(runs) > 1 else pd.DataFrame()
        source = "computed by the report from replications.csv (no comparison.csv yet)"
    return Context(
        root=root,
        sweep=sweep,
        runs=runs,
        summary=scenario_summary(runs),
        comparison=comparison,
        comparison_source=source,
        baseline=baseline,
        palette=scenario_palette(names),
        expected_jobs=len(all_runs) if sweep else None,
        notes=notes,
    )


# --------------------------------------------------------------------------- HTML
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;
color:#222;background:#fff;line-height:1.5}
main{max-width:1200px;margin:0 auto;padding:24px 32px 64px}
h1{font-size:2rem;margin:.2em 0}h2{font-size:1.5rem;margin-top:2em;border-bottom:2px solid #ddd}
h3{font-size:1.2rem;margin-top:1.5em}
table{border-collapse:collapse;margin:1em 0;font-size:.95rem}
th,td{border:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.5em 0}figure img{width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.95rem}.note{color:#8a4b00;background:#fff6e5;padding:6px 10px;
border-left:4px solid #e69f00}.kind-assumption{color:#b00020;font-weight:600}
.kind-cited{color:#1b7837}.kind-calibrated{color:#0072b2}.sig{font-weight:700}
code,pre{background:#f6f6f6;padding:2px 4px;font-size:.9rem;white-space:pre-wrap;
word-break:break-all}
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


def describe(ctx: Context) -> str:
    """What was run, in plain words."""
    r = ctx.runs[0]
    cfg, man = r.config, r.manifest
    model = man.get("model") or cfg.get("model", {}).get("kind", "?")
    place = cfg.get("place", {}) if isinstance(cfg.get("place"), dict) else {}
    areas = place.get("areas", {}) if isinstance(place.get("areas"), dict) else {}
    pop = sum(float(a.get("population", 0)) for a in areas.values() if isinstance(a, dict))
    what = "the care model" if model == "care" else f"the {model} model"
    where = f" for a place of {pop:,.0f} people ({place.get('name', '')})" if pop else ""
    reps = man.get("replications", cfg.get("run", {}).get("replications", "?"))
    horizon = man.get("horizon", cfg.get("run", {}).get("horizon", "?"))
    warm = r.warm_up
    unit = "days" if model == "care" else "time units"
    scen = ", ".join(
        labels.scenario_label(n) for n in order_scenarios([x.name for x in ctx.runs], ctx.baseline)
    )
    text = (
        f"<p>{'A sweep of ' + str(len(ctx.runs)) + ' scenarios' if ctx.sweep else 'One run'} of "
        f"{_e(what)}{_e(where)}. "
        + (
            f"Scenarios: {_e(scen)}; the baseline is {_e(labels.scenario_label(ctx.baseline))}. "
            if ctx.sweep
            else f"Arrangement: {_e(scen)}. "
        )
        + f"Each scenario ran {_e(reps)} replications of {_e(horizon)} {unit}; the first "
        f"{_e(warm)} {unit} are a warm-up and count in no result. Scenarios share random "
        "numbers replication by replication (common random numbers), so differences between "
        "them reflect the arrangements, not chance draws. Every interval is a 95% confidence "
        "interval across replications.</p>"
    )
    if ctx.sweep and ctx.expected_jobs and ctx.expected_jobs > len(ctx.runs):
        done = f"{len(ctx.runs)} of {ctx.expected_jobs}"
        text += f'<p class="note">Partial sweep: {done} jobs finished.</p>'
    return text


def headline_table(ctx: Context, metrics: Sequence[str] = figures.HEADLINE) -> str:
    """The headline comparison as an HTML table (means, and differences with CIs)."""
    names = order_scenarios([r.name for r in ctx.runs], ctx.baseline)
    s, c = ctx.summary, ctx.comparison
    shown = [m for m in metrics if m in set(s["metric"])]
    if not shown:
        return '<p class="note">None of the headline measures are in these results.</p>'
    head = (
        "<tr><th>Measure</th>"
        + "".join(f"<th>{_scenario_cell(n, ctx.palette)}</th>" for n in names)
        + "</tr>"
    )
    body = []
    for m in shown:
        info = labels.metric_info(m)
        better = {"higher": " (higher is better)", "lower": " (lower is better)"}.get(
            info.better, ""
        )
        cells = [f"<td>{_e(info.label)}<br><small>{_e(info.unit)}{_e(better)}</small></td>"]
        for n in names:
            row = s[(s["scenario"] == n) & (s["metric"] == m)]
            if row.empty:
                cells.append("<td class='num'>–</td>")
                continue
            # Units are in the Measure column; repeating them in every cell pushes a
            # four-scenario table past a projector's width.
            mean = labels.format_value(m, row["mean"].iloc[0], with_unit=False)
            # A t-interval can run past what the measure can take (an occupancy over 100%).
            low, high = (row[k].iloc[0] for k in ("ci_low", "ci_high"))
            floor, ceiling = (b / info.scale for b in info.bounds) if info.scale else (low, high)
            ci = _range(m, max(low, floor), min(high, ceiling))
            text = f"{_e(mean)}<br><small>95% CI {_e(ci)}</small>"
            d = (
                c[(c["scenario"] == n) & (c["metric"] == m)]
                if not c.empty and "diff_mean" in c
                else c
            )
            if n != ctx.baseline and not c.empty and len(d):
                dm, lo, hi = (d[k].iloc[0] for k in ("diff_mean", "diff_ci_low", "diff_ci_high"))
                sig = bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))
                diff = labels.format_value(m, dm, with_unit=False, signed=True)
                dci = _range(m, lo, hi, signed=True)
                text += (
                    f"<br><span class='{'sig' if sig else ''}'>difference {_e(diff)}</span>"
                    f"<br><small>95% CI {_e(dci)}{'' if sig else ' (could be chance)'}</small>"
                )
            cells.append(f"<td class='num'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = (
        (
            f"<p><small>Differences are paired against {_e(labels.scenario_label(ctx.baseline))}; "
            f"source: {_e(ctx.comparison_source)}.</small></p>"
        )
        if ctx.sweep
        else ""
    )
    return f"<table>{head}{''.join(body)}</table>{note}"


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="" src="data:image/png;base64,{data}">'


def figures_html(results: Sequence[FigureResult]) -> str:
    """Figures embedded as base64 PNG, and a note for each one skipped."""
    parts = []
    for r in results:
        if r.png is None:
            parts.append(f'<p class="note">{_e(r.title)}: skipped — {_e(r.skipped)}.</p>')
            continue
        parts.append(
            f'<figure id="{_e(r.key)}">{_img(r.png)}<figcaption><b>{_e(r.title)}.</b> '
            f"{_e(r.caption)} Files: figures/{_e(r.png.name)}, figures/{_e(r.key)}.svg."
            "</figcaption></figure>"
        )
    return "\n".join(parts)


def assumptions_html(ctx: Context) -> str:
    """Each scenario's assumptions with their basis."""
    parts = []
    for name in order_scenarios([r.name for r in ctx.runs], ctx.baseline):
        run = next(r for r in ctx.runs if r.name == name)
        table = assumptions(run)
        if table.empty:
            continue
        rows = "".join(
            f"<tr><td>{_e(labels.assumption_label(k))}<br><small><code>{_e(k)}</code></small></td>"
            f"<td class='num'>{_e(v)}</td><td class='kind-{_e(kind.split()[0])}'>{_e(kind)}</td>"
            f"<td>{_e(basis)}</td></tr>"
            for k, v, kind, basis in table.itertuples(index=False)
        )
        n_assumed = int((table["kind"] == "assumption").sum())
        parts.append(
            f"<h3>{_scenario_cell(name, ctx.palette)}</h3><p>{n_assumed} of {len(table)} values "
            "rest on assumption, not evidence.</p>"
            f"<table><tr><th>Mechanism</th><th>Value</th><th>Kind</th><th>Basis</th></tr>{rows}</table>"
        )
    if not parts:
        return "<p>This model has no lead-provider arrangement.</p>"
    return "\n".join(parts)


def manifest_html(ctx: Context) -> str:
    """The run manifest: code version, seed, timings, machine, how to re-run."""
    keys = [
        "package_version",
        "git",
        "config_hash",
        "model",
        "seed",
        "replications",
        "horizon",
        "warm_up",
        "workers",
        "wall_seconds",
        "cpu_seconds",
        "peak_rss_mb",
        "cpu_model",
        "platform",
    ]
    parts = []
    for r in ctx.runs:
        m = r.manifest
        if not m:
            parts.append(f"<p>{_e(r.path.name)}: no run.json.</p>")
            continue
        rows = "".join(
            f"<tr><th>{_e(k)}</th><td>{_e(_plain(m[k]))}</td></tr>" for k in keys if k in m
        )
        versions = ", ".join(f"{k} {v}" for k, v in sorted((m.get("versions") or {}).items()))
        title = (
            f"{_scenario_cell(r.name, ctx.palette)} (job {_e(r.path.name)})" if ctx.sweep else "Run"
        )
        parts.append(
            f"<h3>{title}</h3><table>{rows}<tr><th>versions</th><td>{_e(versions)}</td></tr>"
            f"<tr><th>command</th><td><code>{_e(m.get('command_line', ''))}</code></td></tr>"
            f"<tr><th>re-run</th><td><code>{_e(m.get('rerun_command', ''))}</code></td></tr>"
            "</table>"
        )
    return "\n".join(parts)


def render_html(ctx: Context, results: Sequence[FigureResult]) -> str:
    """The whole report as one HTML string (no external references).

    Parameters
    ----------
    ctx
        The loaded run or sweep.
    results
        Figures from :func:`build_figures`.
    """
    title = "neighbourhood-sim report: " + (
        f"sweep {ctx.root.name}" if ctx.sweep else f"run {ctx.root.name}"
    )
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in ctx.notes)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>"
        '<p class="note">Lead-provider effects in this model are <b>assumptions, not findings</b>: '
        "there is no head-to-head evidence yet. The assumptions section lists each value's "
        "basis.</p>"
        f"<h2>What was run</h2>{describe(ctx)}{notes}"
        f"<h2>Headline comparison</h2>{headline_table(ctx)}"
        f"<h2>Figures</h2>{figures_html(results)}"
        f"<h2>Assumptions and their basis</h2>{assumptions_html(ctx)}"
        f"<h2>Run manifest</h2>{manifest_html(ctx)}"
        "</main></body></html>\n"
    )


def build_report(path: Path) -> Path:
    """(Re)build ``figures/`` and ``report.html`` for a run or sweep directory.

    Parameters
    ----------
    path
        A run directory or a sweep directory.

    Returns
    -------
    Path
        The written ``report.html``.
    """
    ctx = load(Path(path))
    results = build_figures(ctx)
    return write_text(ctx.root / "report.html", render_html(ctx, results))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m sim.report.build <run_or_sweep_dir>``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.report.build", description=__doc__.split("\n")[0]
    )
    parser.add_argument("directory", type=Path, help="a run directory or a sweep directory")
    args = parser.parse_args(argv)
    from sim.analysis.results import ResultsError, check_results_dir

    try:
        for note in check_results_dir(args.directory):
            print(f"nhsim: note: {note}", file=sys.stderr)
        out = build_report(args.directory)
    except (FileNotFoundError, NotADirectoryError, ResultsError) as exc:
        print(f"nhsim: error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
