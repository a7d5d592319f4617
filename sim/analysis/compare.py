"""Paired comparison of a sweep's scenarios against a baseline, under common random numbers.

    python -m sim.analysis.compare <sweep_dir> [--baseline NAME]

writes ``comparison.csv`` into the sweep directory and prints the headline KPIs. It runs
after every sweep (the sweep-end callback) and by hand on a partial or failed sweep: jobs
that finished are compared, and the ones that did not are named.

The baseline is declared once per experiment (``analysis.baseline`` in the jobs' saved
config; null means the model's default, :attr:`sim.models.base.ModelSpec.baseline`; a sweep
with neither compares against its first job). ``--baseline X`` for any other X writes
``comparison_vs_X.csv`` beside it and never overwrites ``comparison.csv``.

Replication ``r`` of every scenario draws from the same named streams ``(seed, r, name)``,
so scenario and baseline values in one replication are positively correlated and the paired
difference ``x_r - b_r`` has a smaller variance than the difference of two independent
means. ``variance_reduction`` reports how much smaller: ``1 - Var(d) / (Var(x) + Var(b))``.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.results import (
    ResultsError,
    RunData,
    check_results_dir,
    is_sweep,
    job_dirs,
    load_run,
    name_scenarios,
    read_yaml,
)
from sim.analysis.stats import t_interval, t_quantile
from sim.io import write_csv
from sim.models import MODELS

COMPARISON_FILE = "comparison.csv"

COLUMNS = [
    "scenario",
    "job",
    "baseline",
    "metric",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "diff_mean",
    "diff_ci_low",
    "diff_ci_high",
    "paired_half_width",
    "independent_half_width",
    "variance_reduction",
    "significant",
    "assumption",
    "level",
]


class CompareError(Exception):
    """The directory cannot be compared (no sweep, nothing finished, unknown baseline)."""


@dataclass(frozen=True)
class Difference:
    """A paired difference from the baseline and its independent-samples counterpart."""

    mean: float
    low: float
    high: float
    paired_half_width: float
    independent_half_width: float
    variance_reduction: float
    n: int

    @property
    def significant(self) -> bool:
        """True when the paired 95% CI excludes zero."""
        return bool(self.n > 1 and (self.low > 0 or self.high < 0))


def welch_half_width(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the Welch (unequal-variance, independent-samples) CI of ``mean(x)-mean(y)``.

    Parameters
    ----------
    x, y
        Replication values of the two scenarios.
    level
        Confidence level.

    Returns
    -------
    float
        NaN when either sample has fewer than two values.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    nx, ny = x.size, y.size
    if nx < 2 or ny < 2:
        return math.nan
    vx, vy = x.var(ddof=1) / nx, y.var(ddof=1) / ny
    se2 = vx + vy
    if se2 == 0:
        return 0.0
    # Welch-Satterthwaite degrees of freedom
    dof = se2**2 / (vx**2 / (nx - 1) + vy**2 / (ny - 1))
    return t_quantile(level, dof) * math.sqrt(se2)


def paired_difference(x: np.ndarray, b: np.ndarray, level: float = 0.95) -> Difference:
    """Paired t interval of ``x - b`` over common replications, with the CRN gain.

    Parameters
    ----------
    x, b
        Scenario and baseline values, aligned by replication (same length).
    level
        Confidence level.

    Returns
    -------
    Difference
    """
    x, b = np.asarray(x, float), np.asarray(b, float)
    keep = ~(np.isnan(x) | np.isnan(b))
    x, b = x[keep], b[keep]
    d = x - b
    mean, sd, low, high = t_interval(d, level)
    n = int(d.size)
    var_indep = (x.var(ddof=1) + b.var(ddof=1)) if n > 1 else math.nan
    if n > 1 and var_indep > 0:
        reduction = 1.0 - float(d.var(ddof=1)) / var_indep
    else:
        reduction = math.nan  # undefined: no spread to reduce (e.g. the baseline itself)
    half = (high - low) / 2 if n > 1 else math.nan
    return Difference(mean, low, high, half, welch_half_width(x, b, level), reduction, n)


def sensitivity_level(value: str) -> tuple[str, str] | None:
    """``(assumption, level)`` from a one-way sensitivity file name, else ``None``.

    ``sessions_drawn_low`` -> ``("sessions_drawn", "low")``; ``base`` -> ``("base", "central")``.
    """
    if value == "base":
        return ("base", "central")
    for level in ("low", "high"):
        if value.endswith(f"_{level}"):
            return (value[: -len(level) - 1], level)
    return None


def expected_jobs(sweep_dir: Path) -> list[list[str]]:
    """Every job's overrides that the sweep set out to run, in Hydra's job order.

    Read from ``multirun.yaml`` with the sweeper's own expansion, so job ``i`` here
    is the job Hydra numbered ``i``. Empty when the sweep wrote no ``multirun.yaml``.
    """
    saved = read_yaml(Path(sweep_dir) / "multirun.yaml")
    if not isinstance(saved, dict):
        return []
    from sim.config.overrides import expand_jobs, parse

    hydra_cfg = saved.get("hydra", {})
    params = (hydra_cfg.get("sweeper") or {}).get("params") or {}
    task = (hydra_cfg.get("overrides") or {}).get("task") or []
    texts = [f"{k}={v}" for k, v in params.items()] + [str(t) for t in task]
    try:
        return expand_jobs(parse(texts))  # the sweeper's own expansion (sim.cli.sweeper)
    except Exception:  # a sweep that could not be expanded never ran any job
        return []


@dataclass
class Sweep:
    """A sweep's finished runs, and the jobs that did not finish."""

    path: Path
    runs: list[RunData]
    missing: list[str]


def load_sweep(sweep_dir: Path) -> Sweep:
    """Finished jobs of a sweep (named scenarios) and a description of each missing job.

    Parameters
    ----------
    sweep_dir
        A Hydra sweep directory.

    Raises
    ------
    CompareError
        When the directory is not a sweep or no job finished.
    """
    root = Path(sweep_dir)
    if not root.is_dir() or not is_sweep(root):
        raise CompareError(f"{root}: not a sweep directory (no numbered job directories)")
    runs = [load_run(p) for p in job_dirs(root)]
    finished = [r for r in runs if r.finished and r.replications is not None]
    expected = expected_jobs(root)
    done = {r.path.name for r in finished}
    missing = []
    for i, overrides in enumerate(expected):
        if str(i) not in done:
            missing.append(f"job {i} ({', '.join(overrides)})")
    for r in runs:  # job directories beyond what multirun.yaml describes
        if r.path.name not in done and int(r.path.name) >= len(expected):
            missing.append(f"job {r.path.name}")
    if not finished:
        raise CompareError(f"{root}: no job has finished yet")
    name_scenarios(finished)
    return Sweep(root, finished, missing)


def _baseline_for(run: RunData, candidates: list[RunData], token: str) -> RunData | None:
    """The baseline job for ``run``: same overrides except where the baseline has ``token``.

    In a crossed sweep (arrangement x envelope) each arrangement is compared with the status
    quo at the same envelope; with one swept key this is simply the baseline job.
    """
    mine = run.override_values
    for cand in candidates:
        theirs = cand.override_values
        keys = {k for k, v in theirs.items() if v == token}
        if all(mine.get(k) == v for k, v in theirs.items() if k not in keys) and set(mine) == set(
            theirs
        ):
            return cand
    return candidates[0] if len(candidates) == 1 else None


def model_kind(runs: Sequence[RunData]) -> str | None:
    """The model kind the runs were made with (from the saved config or the manifest)."""
    for r in runs:
        model = r.config.get("model")
        kind = model.get("kind") if isinstance(model, dict) else None
        kind = kind or r.manifest.get("model")
        if kind:
            return str(kind)
    return None


def declared_baseline(runs: Sequence[RunData]) -> str | None:
    """The baseline the experiment declared: ``analysis.baseline``, else the model's default.

    Read from the first job's saved config (every job of a sweep shares it). ``None`` when
    neither names one, e.g. a model without a natural baseline.
    """
    for r in runs:
        analysis = r.config.get("analysis")
        if isinstance(analysis, dict) and analysis.get("baseline") is not None:
            return str(analysis["baseline"])
    spec = MODELS.get(model_kind(runs) or "")
    return spec.baseline if spec is not None else None


def _matches(run: RunData, token: str) -> bool:
    return run.name == token or token in run.override_values.values()


def choose_baseline(runs: Sequence[RunData], requested: str | None = None) -> str:
    """The baseline override value or scenario name.

    ``requested`` when given; otherwise the declared baseline (:func:`declared_baseline`)
    when some job has it, else the first value of the sweep's first job (experiments list
    their baseline first).
    """
    if requested:
        return requested
    declared = declared_baseline(runs)
    if declared is not None and any(_matches(r, declared) for r in runs):
        return declared
    first = runs[0].override_values
    swept = [k for k, v in first.items() if any(r.override_values.get(k) != v for r in runs)]
    return first[swept[0]] if swept else runs[0].name


def baseline_runs(runs: Sequence[RunData], token: str) -> list[RunData]:
    """The runs that are the baseline (one, or one per stratum of a crossed sweep)."""
    return [r for r in runs if _matches(r, token)]


def comparison_file(runs: Sequence[RunData], baseline: str | None) -> str:
    """``comparison.csv`` for the declared baseline, ``comparison_vs_<X>.csv`` for any other.

    A comparison against a baseline the experiment did not declare never replaces the
    experiment's own table.
    """
    default = choose_baseline(runs, None)
    if not baseline or baseline == default:
        return COMPARISON_FILE
    return f"comparison_vs_{file_token(baseline)}.csv"


def file_token(name: str) -> str:
    """A file-name-safe form of a baseline name (``trust_led`` stays ``trust_led``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "baseline"


def compare(sweep: Sweep, baseline: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """The comparison table: every scenario and KPI against its paired baseline.

    Parameters
    ----------
    sweep
        From :func:`load_sweep`.
    baseline
        Override value (``status_quo``, ``base``...) or scenario name of the baseline;
        ``None`` for the declared one (:func:`choose_baseline`).
    level
        Confidence level of every interval.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; one row per finished scenario and KPI.

    Raises
    ------
    CompareError
        When no finished job matches the baseline.
    """
    token = choose_baseline(sweep.runs, baseline)
    candidates = baseline_runs(sweep.runs, token)
    if not candidates:
        names = ", ".join(r.name for r in sweep.runs)
        raise CompareError(f"baseline = {token}: no finished job matches (finished: {names})")
    rows = []
    for run in sweep.runs:
        base = _baseline_for(run, candidates, token)
        sens = next((s for s in map(sensitivity_level, run.override_values.values()) if s), None)
        reps = run.replications
        if reps is None:  # a finished run always has its replications table
            continue
        merged = (
            reps.merge(base.replications, on=["replication", "metric"], suffixes=("", "_b"))
            if base is not None
            else None
        )
        is_baseline = base is not None and base.path == run.path
        for metric, group in reps.groupby("metric", sort=False):
            mean, _, low, high = t_interval(group["value"].to_numpy(float), level)
            row = {
                "scenario": run.name,
                "job": int(run.path.name),
                "baseline": base.name if base is not None else "",
                "metric": metric,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "n": int(group["value"].notna().sum()),
                "assumption": sens[0] if sens else "",
                "level": sens[1] if sens else "",
            }
            if merged is not None:
                m = merged[merged["metric"] == metric]
                d = paired_difference(m["value"].to_numpy(), m["value_b"].to_numpy(), level)
                row |= {
                    "diff_mean": d.mean,
                    "diff_ci_low": d.low,
                    "diff_ci_high": d.high,
                    "paired_half_width": d.paired_half_width,
                    "independent_half_width": d.independent_half_width,
                    # against itself the "reduction" is trivially 1; say nothing instead
                    "variance_reduction": math.nan if is_baseline else d.variance_reduction,
                    "significant": d.significant,
                }
            rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    if not table["assumption"].astype(str).str.len().any():
        table = table.drop(columns=["assumption", "level"])
    return table


def _fmt(x: float) -> str:
    if pd.isna(x):
        return "-"
    # Thousands as whole numbers with separators (a partner's profit of -22,519, not -2.25e+04).
    return f"{x:+.3g}" if abs(x) < 1e3 else f"{x:+,.0f}"


def headline_lines(table: pd.DataFrame, metrics: Sequence[str] | None = None) -> list[str]:
    """A short terminal table: each headline KPI's paired difference per scenario.

    ``metrics`` defaults to the model's headline KPIs (:attr:`ModelSpec.headline`) among the
    table's metrics, for whichever model the table holds.
    """
    others = table[table["scenario"] != table["baseline"]]
    if metrics is None:
        names = list(dict.fromkeys(others["metric"]))
        found = [spec.headline_metrics(names) for spec in MODELS.values()]
        metrics = max(found, key=len) if found else []
    present = [m for m in metrics if m in set(others["metric"])]
    if others.empty or not present:
        return []
    from sim.plots.labels import label  # plain-English names, kept in one place

    plain = {m: label(m) for m in present}
    width = max(len(n) for n in plain.values())
    lines = []
    for scenario, g in others.groupby("scenario", sort=False):
        base = g["baseline"].iloc[0]
        lines.append(f"{scenario} - {base}   (paired difference, 95% CI, * = CI excludes 0)")
        g = g.set_index("metric")
        for m in present:
            r = g.loc[m]
            ci = f"[{_fmt(r.diff_ci_low)}, {_fmt(r.diff_ci_high)}]"
            star = "*" if bool(r.significant) else " "
            lines.append(f"  {plain[m]:<{width}}  {_fmt(r.diff_mean):>9} {ci:>22} {star}")
    return lines


def write_comparison(sweep_dir: Path, baseline: str | None = None) -> tuple[Path, Sweep]:
    """Compare a sweep and write its table atomically; return its path and the sweep.

    The declared baseline's table is ``comparison.csv``; any other baseline's is
    ``comparison_vs_<baseline>.csv`` (:func:`comparison_file`).
    """
    sweep = load_sweep(sweep_dir)
    table = compare(sweep, baseline)
    target = Path(sweep_dir) / comparison_file(sweep.runs, baseline)
    return write_csv(target, table), sweep


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m sim.analysis.compare <sweep_dir> [--baseline NAME]``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.analysis.compare", description=__doc__.split("\n")[0]
    )
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument(
        "--baseline",
        default=None,
        help="override value or scenario name of the baseline (default: the experiment's "
        "analysis.baseline, else the model's default, else the sweep's first value); another "
        "baseline is written to comparison_vs_<NAME>.csv",
    )
    args = parser.parse_args(argv)
    try:
        for note in check_results_dir(args.sweep_dir):
            print(f"nhsim: note: {note}", file=sys.stderr)
        path, sweep = write_comparison(args.sweep_dir, args.baseline)
    except (CompareError, ResultsError) as exc:
        print(f"nhsim: error: {exc}", file=sys.stderr)
        return 2
    table = pd.read_csv(path)
    for line in headline_lines(table):
        print(line)
    if sweep.missing:
        print(
            f"nhsim: partial sweep: {len(sweep.runs)} finished; not finished: "
            + "; ".join(sweep.missing),
            file=sys.stderr,
        )
    print(f"comparison: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
