"""The run-specific part of a STRESS-DES report (Monks et al. 2019), generated per run.

The static items (2.x, 3.1, 3.2, 3.4) live in ``docs/stress_des.md``; this module fills in
the items that depend on the run: 1.2, 1.3, 3.3, 4.1–4.3, 5.1–5.4 and 6.1, from the saved
tables, the resolved config and the manifest. It reads files only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim import io
from sim.analysis import provenance

ITEMS = ("1.2", "1.3", "3.3", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3", "5.4", "6.1")


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        rows: list[tuple[str, Any]] = []
        for k, v in data.items():
            rows.extend(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return rows
    return [(prefix, data)]


def _read(
    run_dir: Path, resolved: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any], list[str], pd.DataFrame]:
    manifest = json.loads((run_dir / "run.json").read_text())
    config_path = run_dir / ".hydra" / "config.yaml"
    if resolved is not None:
        config = resolved
    elif config_path.exists():
        config = yaml.safe_load(config_path.read_text()) or {}
    else:
        config = {}
    overrides_path = run_dir / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(overrides_path.read_text()) if overrides_path.exists() else []
    summary = pd.read_csv(run_dir / "summary.csv")
    return manifest, config, list(overrides or []), summary


def _precision(summary: pd.DataFrame) -> str:
    rel = (summary["ci_high"] - summary["ci_low"]) / 2 / summary["mean"].abs()
    rel = rel.replace([float("inf")], float("nan")).dropna()
    if rel.empty:
        return "not computable (fewer than two replications)"
    worst = summary.loc[rel.idxmax(), "metric"]
    return (
        f"median relative 95% CI half-width {rel.median():.1%} across {len(rel)} metrics; "
        f"widest: {worst} ({rel.max():.1%})"
    )


def render(run_dir: Path, resolved: dict[str, Any] | None = None) -> str:
    """The STRESS-DES run-specific items for ``run_dir`` as Markdown.

    Parameters
    ----------
    run_dir
        A finished run directory (holds ``run.json`` and ``summary.csv``).
    resolved
        The resolved config; read from ``.hydra/config.yaml`` when not given.
    """
    run_dir = Path(run_dir)
    manifest, config, overrides, summary = _read(run_dir, resolved)
    run = config.get("run", {})
    versions = manifest.get("versions", {})
    git = manifest.get("git", {})
    warm = run_dir / "warmup.csv"
    warm_text = "MSER-5 not yet run for this directory (`python -m sim.analysis.warmup <dir>`)."
    if warm.exists():
        table = pd.read_csv(warm)
        short = table[~table["adequate"].astype(bool)] if "adequate" in table else table.iloc[0:0]
        warm_text = (
            f"MSER-5 truncation points per daily series: max {table['truncation_days'].max():g} "
            "days; configured warm-up is "
            f"{'adequate' if short.empty else 'SHORTER than MSER for: '}"
            + ", ".join(short.get("series", pd.Series(dtype=str)).astype(str))
        )
    measured = float(run.get("horizon", 0)) - float(run.get("warm_up", 0))
    bases = provenance.value_basis(config)
    params = "\n".join(
        f"| `{k}` | `{v}` | {bases.get(k, '')} |"
        for k, v in _flatten(config)
        if ".basis." not in f".{k}."
    )
    kpis = ", ".join(f"`{m}`" for m in summary["metric"].head(40))
    more = f" (and {len(summary) - 40} more)" if len(summary) > 40 else ""
    return f"""# STRESS-DES: run-specific items

Generated from this directory's `run.json`, `.hydra/config.yaml` and `summary.csv`. The
model-wide items are in the project's `docs/stress_des.md`.

## 1.2 Model outputs
{len(summary)} KPIs, each a mean over replications with a 95% t confidence interval
(`summary.csv`); per-replication values in `replications.csv`: {kpis}{more}.

## 1.3 Experimentation aims
Model `{manifest.get("model")}` with overrides: {", ".join(f"`{o}`" for o in overrides) or "none"}.

## 3.3 Input parameters
Every resolved input, as run, with its basis where the config gives one (a
`docs/sources.md` key and evidence grade, "calibrated" or "assumption"):

| key | value | basis |
|---|---|---|
{params}

## 4.1 Initialisation
Starts empty and idle; the first {run.get("warm_up")} time units are a warm-up excluded from every
KPI. {warm_text}

## 4.2 Run length
Horizon {run.get("horizon")} time units, so {measured:g} time units are measured per replication.

## 4.3 Estimation approach
{run.get("replications")} independent replications; 95% t confidence intervals across them.
{_auto_text(manifest)}Precision reached: {_precision(summary)}.

## 5.1 Software
Python {versions.get("python")}; SimPy {versions.get("simpy")}; NumPy {versions.get("numpy")};
pandas {versions.get("pandas")}; Hydra {versions.get("hydra-core")}; neighbourhood-sim
{manifest.get("package_version")} at commit `{git.get("commit")}` (dirty: {git.get("dirty")}).

## 5.2 Random sampling
{manifest.get("seed_policy")} Base seed {manifest.get("seed")}.

## 5.3 Model execution
Discrete-event simulation (SimPy event scheduling), with general-practice booking processed in
daily batches where the model is the care model. Config hash `{manifest.get("config_hash")}`.
Re-run exactly: `{manifest.get("rerun_command")}`, or `python -m sim.analysis.rerun {run_dir.name}`.

## 5.4 System specification
{manifest.get("cpu_model")}; {manifest.get("platform")}; {run.get("workers")} worker process(es);
wall time {manifest.get("wall_seconds")} s, CPU time {manifest.get("cpu_seconds")} s, peak memory
{manifest.get("peak_rss_mb")} MiB.

## 6.1 Computer model sharing statement
Open source under the MIT licence; cite via CITATION.cff. This directory holds everything
needed to reproduce it: the resolved config, the overrides and the manifest.
"""


def write(run_dir: Path, resolved: dict[str, Any] | None = None) -> Path:
    """Write ``stress_des.md`` into ``run_dir`` atomically."""
    return io.write_text(Path(run_dir) / "stress_des.md", render(run_dir, resolved))


def _auto_text(manifest: dict) -> str:
    """How ``run.replications=auto`` chose N, when it did."""
    auto = manifest.get("replications_auto")
    if not auto:
        return ""
    outcome = "met" if auto["precision_met"] else "NOT met (cap reached)"
    return (
        f"N = {auto['replications_chosen']} was chosen by the confidence-interval method: the "
        f"smallest N (up to {auto['max_replications']}) whose 95% half-width is within "
        f"{auto['precision_target']:.1%} of the mean for every headline KPI; target {outcome} "
        f"after steps {auto['replications_after_each_step']}.\n"
    )
