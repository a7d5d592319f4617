"""Warm-up analysis (MSER-5) and steady-state validity checks on the daily time series.

Usage: ``python -m sim.analysis.warmup <run_or_sweep_dir>`` prints, for every daily series of
``timeseries.parquet`` and every scenario (each job of a sweep), the MSER-5 truncation point
beside the configured ``run.warm_up``, writes ``warmup.csv`` and a figure (``warmup.png``).

Method
------
For each series, the replications are averaged day by day; the mean series is smoothed with
Welch's moving average of half-width ``w`` (default 3: a 7-day window, which removes the
day-of-week pattern that GP activity has and that batches of 5 days would otherwise alias);
the smoothed series is cut into batches of 5 and MSER (White 1997; White, Cobb & Spratt
2000) is applied to the batch means:

    MSER(d) = sum_{j>d} (Z_j - mean(Z_{d+1..k}))^2 / (k - d)^2

The truncation point is the start of batch ``d*`` that minimises MSER(d). As is standard,
a minimum in the second half of the series is not trusted: the series has not settled (it
drifts, or the run is too short) and the result is reported as *inconclusive*.

One degenerate case is handled apart: a series that holds one level, its batch means within
``LEVEL_WITHIN`` (0.5%) of their mean from some batch on (a caseload full every day, with a
place free for a day now and then). MSER's statistic is then nearly flat and its minimum
falls after the last small dip, anywhere in the run; such a series is settled from the first
batch after which it holds the level (:func:`held_level_from`), if that is in the first half.

The same module checks whether a run can have a steady state at all:
a node with traffic intensity rho >= 1, an occupancy pinned at its capacity, or a queue that
grows throughout the measured period. :func:`run_warnings` turns all of these into the
records that ``warnings.json``, ``run.json`` and ``stress_des.md`` carry.

This module reads tables only; it never runs the model and never imports matplotlib
(the figure is drawn by :mod:`sim.plots.warmup`, imported only by the command line).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim import io
from sim.analysis import results

BATCH = 5
WELCH_HALF_WIDTH = 3
# Fewer batches than this after truncation cannot support a variance estimate.
MIN_KEPT_BATCHES = 5
# A series whose batch means all stay within this fraction of their mean has settled at
# that level (see the module docstring).
LEVEL_WITHIN = 0.005
# Fewer time units than this after the warm-up is no measured period at all.
MIN_MEASURED = 1.0
TIME_COLUMNS = ("time_days", "time")
NON_SERIES = ("replication",)
# Level series that are queues: when one of these grows through the measured period the
# system has no steady state (demand exceeds what the service behind it can clear).
QUEUE_SERIES = re.compile(r"waiting|queue|delayed|boarding|in_department|in_system")
# A series pinned at capacity: within this fraction of it...
PINNED_WITHIN = 0.005
# ...on at least this share of measured (replication, day) pairs is a caution, and on at
# least the second share it is taken to mean the queue behind it has no steady state.
PINNED_CAUTION, PINNED_INVALID = 0.5, 0.9
# Trend test for a growing queue: Kendall's tau of the 5-day batch means against time, its
# p-value, and growth of the last tenth of the measured period over the first tenth.
GROWTH_TAU, GROWTH_P, GROWTH_FACTOR = 0.6, 0.001, 1.5
# A cycle mean that moves by more than this share between the first and last measured cycle
# (beyond its confidence interval) has not settled: the tolerance the care model's 5-year
# stability test holds annual deaths, attendances, admissions and bed occupancy to.
DRIFT_SHARE = 0.05

WARNINGS_FILE = "warnings.json"
WARNINGS_SCHEMA = 1
INVALID, CAUTION = "invalid", "caution"


# --------------------------------------------------------------------------- the method
def welch_moving_average(y: np.ndarray, half_width: int = WELCH_HALF_WIDTH) -> np.ndarray:
    """Welch's moving average of ``y`` (Welch 1983; Law 2015, §9.5.1).

    Point ``i`` is the mean of ``y[i-h .. i+h]`` with ``h = min(i, half_width)``: the window
    shrinks near the start so that the initial transient is not averaged away. The last
    ``half_width`` points, which lack a full window to their right, are dropped.

    Parameters
    ----------
    y
        The series (one value per time step).
    half_width
        ``w``; 0 returns ``y`` unchanged.
    """
    y = np.asarray(y, dtype=float)
    w = int(half_width)
    if w <= 0:
        return y.copy()
    m = y.size - w
    if m <= 0:
        return np.empty(0)
    csum = np.concatenate([[0.0], np.cumsum(y)])
    i = np.arange(m)
    h = np.minimum(i, w)
    return (csum[i + h + 1] - csum[i - h]) / (2 * h + 1)


def batch_means(y: np.ndarray, size: int = BATCH) -> np.ndarray:
    """Means of consecutive batches of ``size``; a partial last batch is dropped."""
    y = np.asarray(y, dtype=float)
    k = y.size // size
    return y[: k * size].reshape(k, size).mean(axis=1)


def mser_statistic(z: np.ndarray, min_kept: int = MIN_KEPT_BATCHES) -> np.ndarray:
    """MSER(d) for d = 0 .. k - ``min_kept``: the squared standard error of the kept mean.

    Parameters
    ----------
    z
        Batch means ``Z_1..Z_k``.
    min_kept
        Fewest batches that must remain after truncation.
    """
    z = np.asarray(z, dtype=float)
    k = z.size
    if k < min_kept + 1:
        return np.empty(0)
    out = np.empty(k - min_kept + 1)
    for d in range(out.size):
        kept = z[d:]
        out[d] = float(((kept - kept.mean()) ** 2).sum()) / (k - d) ** 2
    return out


@dataclass(frozen=True)
class MserResult:
    """MSER-5 on one series.

    Attributes
    ----------
    truncation_index
        First retained point of the original series (``d* × batch``); NaN if not computable.
    conclusive
        True when the minimum lies in the first half of the batches.
    batches
        Number of batch means ``k``.
    statistic
        MSER(d*), the minimised statistic.
    """

    truncation_index: float
    conclusive: bool
    batches: int
    statistic: float


def mser5(
    series: np.ndarray,
    batch: int = BATCH,
    half_width: int = WELCH_HALF_WIDTH,
    min_kept: int = MIN_KEPT_BATCHES,
) -> MserResult:
    """MSER-``batch`` truncation point of ``series`` after Welch smoothing.

    Parameters
    ----------
    series
        One value per time step, usually the mean across replications.
    batch
        Batch size (5 for MSER-5).
    half_width
        Welch moving-average half-width; 0 for plain MSER-5.
    min_kept
        Fewest batches every candidate truncation must keep: :data:`MIN_KEPT_BATCHES`, or
        a whole cycle's batches for output with a steady-state cycle (:func:`kept_batches`).
    """
    z = batch_means(welch_moving_average(series, half_width), batch)
    mser = mser_statistic(z, min_kept)
    finite = np.isfinite(mser)
    if not finite.any():
        return MserResult(float("nan"), False, int(z.size), float("nan"))
    d = int(np.nanargmin(np.where(finite, mser, np.nan)))
    # Ties (a constant tail) resolve to the earliest d, which nanargmin already returns.
    half = z.size / 2  # a minimum in the second half of the data is not trusted
    # A series that holds one level from some batch on has settled there, wherever the
    # nearly flat statistic happens to be least (the module docstring).
    held = held_level_from(z)
    if held < d and held <= half and held < mser.size:
        return MserResult(float(held * batch), True, int(z.size), float(mser[held]))
    return MserResult(float(d * batch), bool(d <= half), int(z.size), float(mser[d]))


def kept_batches(steps: int, cycle: float | None, batch: int = BATCH) -> int:
    """Fewest batches a truncation may keep in a series of ``steps`` time steps.

    With a steady-state cycle, only a whole number of cycles estimates the cycle's mean
    (Law 2015, section 9.6): a tail shorter than one cycle is one season, and its batch means
    can look settled by chance, which drew MSER-5's minimum into a run's last few weeks. So
    every candidate keeps at least one whole cycle, when the series leaves room to search
    :data:`MIN_KEPT_BATCHES` candidates beyond it; otherwise the plain rule applies.
    """
    if cycle is None or cycle <= 0:
        return MIN_KEPT_BATCHES
    whole = math.ceil(cycle / batch)
    k = steps // batch
    return whole if k >= whole + MIN_KEPT_BATCHES else MIN_KEPT_BATCHES


def held_level_from(z: np.ndarray, within: float = LEVEL_WITHIN) -> int:
    """The first batch from which every batch mean stays within ``within`` x their mean.

    Parameters
    ----------
    z
        Batch means.
    within
        Relative half-width of the band around the kept batches' mean (a range of twice it).

    Returns
    -------
    int
        That batch's index, or ``len(z)`` if even the last batches do not hold a level.
    """
    z = np.asarray(z, dtype=float)
    k = z.size
    if k == 0:
        return 0
    # Scan from the end: running max, min and mean of z[d:].
    hi = np.maximum.accumulate(z[::-1])[::-1]
    lo = np.minimum.accumulate(z[::-1])[::-1]
    mean = np.cumsum(z[::-1])[::-1] / np.arange(k, 0, -1)
    band = within * np.abs(mean)
    held = (hi - mean <= band) & (mean - lo <= band)
    # The band must hold for every suffix from d on: the first d after the last failure.
    bad = np.flatnonzero(~held)
    return int(bad[-1] + 1) if bad.size else 0


# --------------------------------------------------------------------------- tables
def time_column(table: pd.DataFrame) -> str:
    """The time column of a timeseries table."""
    for name in TIME_COLUMNS:
        if name in table.columns:
            return name
    raise ValueError("the timeseries table has no time column (time_days or time)")


def series_names(table: pd.DataFrame) -> list[str]:
    """Columns that are daily series worth analysing: numeric, not time, not constant."""
    tcol = time_column(table)
    names = []
    for col in table.columns:
        if col in (tcol, *NON_SERIES) or col.endswith("capacity"):
            continue
        if not pd.api.types.is_numeric_dtype(table[col]):
            continue
        values = table[col].to_numpy(dtype=float)
        if np.nanmax(values) == np.nanmin(values):
            continue  # a constant (e.g. a capacity) has no transient
        names.append(col)
    return names


def mean_series(table: pd.DataFrame) -> pd.DataFrame:
    """The across-replication mean of every column, indexed by time."""
    tcol = time_column(table)
    cols = [c for c in table.columns if c not in NON_SERIES]
    return table[cols].groupby(tcol, sort=True).mean()


def analyse(
    table: pd.DataFrame,
    warm_up: float,
    scenario: str = "run",
    *,
    batch: int = BATCH,
    half_width: int = WELCH_HALF_WIDTH,
    cycle: float | None = None,
) -> pd.DataFrame:
    """MSER-5 for every series of one scenario's timeseries table.

    Parameters
    ----------
    table
        Long table with ``replication``, a time column (one row per replication and step,
        steps of one time unit) and one column per series.
    warm_up
        The configured warm-up, in the same unit as the time column.
    scenario
        Label for the rows.
    batch, half_width
        See :func:`mser5`.
    cycle
        The model's steady-state cycle in time units (:attr:`sim.models.base.ModelSpec.cycle`),
        or ``None`` for output that settles to a level. With a cycle, every candidate
        truncation keeps a whole cycle (:func:`kept_batches`).

    Returns
    -------
    pandas.DataFrame
        ``scenario, series, truncation_days, configured_warm_up, conclusive, adequate,
        batches, replications, days, kept_days``. ``adequate`` is True when the series
        settles (a conclusive MSER) no later than the configured warm-up; ``kept_days`` is
        the least any candidate truncation kept.
    """
    means = mean_series(table)
    start = float(means.index.min()) if len(means) else 0.0
    n_reps = int(table["replication"].nunique()) if "replication" in table else 1
    min_kept = kept_batches(max(len(means) - half_width, 0), cycle, batch)
    tcol = time_column(table)
    rows = []
    for name in series_names(table):
        result = mser5(means[name].to_numpy(dtype=float), batch, half_width, min_kept)
        truncation = start + result.truncation_index
        bias, se = _residual_bias(table, tcol, name, warm_up, truncation)
        # A warm-up shorter than MSER-5's point matters only if the bias it leaves is
        # larger than the measured mean's own standard error across replications.
        adequate = bool(result.conclusive and (truncation <= warm_up or abs(bias) <= se))
        rows.append(
            (
                scenario, name, truncation, float(warm_up), result.conclusive, adequate,
                result.batches, n_reps, len(means), min_kept * batch, bias, se,
            )
        )  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=[
            "scenario", "series", "truncation_days", "configured_warm_up", "conclusive",
            "adequate", "batches", "replications", "days", "kept_days", "bias",
            "standard_error",
        ],
    )  # fmt: skip


def _residual_bias(
    table: pd.DataFrame, tcol: str, name: str, warm_up: float, truncation: float
) -> tuple[float, float]:
    """The bias the configured warm-up leaves in a series' measured mean, estimated as that
    mean less the mean from MSER-5's truncation point on (0 when the warm-up is the longer),
    and the measured mean's standard error across replications (NaN with one replication).
    """
    if not np.isfinite(truncation) or truncation <= warm_up:
        return 0.0, float("nan")
    t = table[tcol].to_numpy(dtype=float)
    values = table[name].to_numpy(dtype=float)
    measured, kept = t >= warm_up, t >= truncation
    if not kept.any():
        return float("nan"), float("nan")
    bias = float(values[measured].mean() - values[kept].mean())
    per_rep = (
        table.loc[measured].groupby("replication")[name].mean().to_numpy(dtype=float)
        if "replication" in table
        else np.empty(0)
    )
    se = float(per_rep.std(ddof=1) / np.sqrt(per_rep.size)) if per_rep.size >= 2 else np.nan
    return bias, se


def smoothed_series(
    table: pd.DataFrame, scenario: str = "run", half_width: int = WELCH_HALF_WIDTH
) -> pd.DataFrame:
    """Long table ``scenario, series, time, mean, smoothed`` for the figure."""
    means = mean_series(table)
    parts = []
    for name in series_names(table):
        y = means[name].to_numpy(dtype=float)
        smooth = welch_moving_average(y, half_width)
        padded = np.full(y.size, np.nan)
        padded[: smooth.size] = smooth
        parts.append(
            pd.DataFrame(
                {
                    "scenario": scenario,
                    "series": name,
                    "time": means.index.to_numpy(dtype=float),
                    "mean": y,
                    "smoothed": padded,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["scenario", "series", "time", "mean", "smoothed"])
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- validity
@dataclass(frozen=True)
class RunWarning:
    """One reason to doubt a run's results (a record of ``warnings.json``).

    Attributes
    ----------
    kind
        ``warm_up_short``, ``no_steady_state``, ``unstable_queue``, ``capacity_saturated``,
        ``growing_queue``, ``drifts_between_cycles`` or ``precision_not_reached``.
    severity
        ``invalid`` (the results are not meaningful) or ``caution`` (usable with care).
    scenario
        The run's label (its overrides).
    kpi
        The series, metric or node concerned.
    message
        One plain sentence.
    details
        Numbers behind the message.
    """

    kind: str
    severity: str
    scenario: str
    kpi: str
    message: str
    details: dict[str, Any]


def warm_up_warnings(analysis: pd.DataFrame) -> list[RunWarning]:
    """Warnings for series whose MSER truncation exceeds the warm-up, or that never settle."""
    out = []
    for row in analysis.itertuples(index=False):
        details = {
            "mser_truncation": float(row.truncation_days),
            "configured_warm_up": float(row.configured_warm_up),
        }
        if not row.conclusive:
            out.append(
                RunWarning(
                    "no_steady_state", CAUTION, row.scenario, row.series,
                    f"{row.series} does not settle: the MSER-5 minimum is at "
                    f"{row.truncation_days:g}, in the second half of the run, so the series "
                    "drifts or the run is too short for a steady-state mean",
                    details,
                )
            )  # fmt: skip
        elif not row.adequate:
            bias = getattr(row, "bias", float("nan"))
            details["bias"] = float(bias)
            details["standard_error"] = float(getattr(row, "standard_error", float("nan")))
            out.append(
                RunWarning(
                    "warm_up_short", CAUTION, row.scenario, row.series,
                    f"the warm-up ({row.configured_warm_up:g}) is shorter than MSER-5 suggests "
                    f"for {row.series} ({row.truncation_days:g}); the measured mean moves by "
                    f"{bias:.3g} if the later point is used",
                    details,
                )
            )  # fmt: skip
    return out


def saturation_warnings(
    table: pd.DataFrame,
    warm_up: float,
    scenario: str = "run",
    links: Sequence[Any] = (),
    cycle: float | None = None,
) -> list[RunWarning]:
    """Services pinned at capacity and queues growing through the measured period.

    A series ``x`` is compared with its capacity column: ``<x>_capacity`` or, for a name
    ``<unit>s_occupied``, ``<unit>_capacity`` (``beds_occupied`` / ``bed_capacity``), or the
    one a declared :class:`~sim.models.base.CapacityLink` names. A declared service carries
    its plain name and the KPIs it limits into the record (``details["service"]``,
    ``details["constrains"]``); a rationed one (``queue=False``) is a caution however often
    it is full, since its demand goes elsewhere rather than queueing without end.
    Queue series (names matching :data:`QUEUE_SERIES`) are tested for a monotone rise,
    unless the model's output has a steady-state ``cycle``: a measured year that starts in
    spring rises into the winter peak however stable the queue, so growth is then judged
    between whole cycles (:func:`cycle_drift_warnings`).
    """
    tcol = time_column(table)
    post = table[table[tcol] >= warm_up]
    out: list[RunWarning] = []
    if post.empty:
        return out
    declared = {link.level: link for link in links if link.capacity in table.columns}
    # Every column with a capacity, constant ones included: a level that never leaves its
    # capacity is the most saturated case, though it has no transient for MSER to find.
    for name in table.columns:
        link = declared.get(name)
        cap = link.capacity if link is not None else _capacity_column(table, name)
        if cap is None or name == cap:
            continue
        capacity = post[cap].to_numpy(dtype=float)
        level = post[name].to_numpy(dtype=float)
        valid = (capacity > 0) & np.isfinite(capacity)
        if not valid.any():
            continue
        share = float(np.mean(level[valid] >= (1 - PINNED_WITHIN) * capacity[valid]))
        if share < PINNED_CAUTION:
            continue
        queue = link is None or link.queue
        severity = INVALID if queue and share >= PINNED_INVALID else CAUTION
        details: dict[str, Any] = {
            "share_of_days_at_capacity": round(share, 4),
            "capacity_column": cap,
            "capacity": float(np.median(capacity[valid])),
        }
        if link is not None:
            details |= {"service": link.service, "constrains": list(link.constrains)}
        what = f"{link.service} ({name})" if link is not None else name
        if queue:
            tail = (
                "demand exceeds capacity, so the queue behind it"
                + (" has no steady state" if severity == INVALID else " is often long")
                + " and KPIs reflect the capacity, not the need"
            )
        else:
            tail = (
                "demand beyond its places goes elsewhere, so the KPIs it limits reflect its "
                "capacity, not the arrangement"
            )
        out.append(
            RunWarning(
                "capacity_saturated", severity, scenario, name,
                f"{what} is at capacity ({cap}) on {share:.0%} of measured days: {tail}",
                details,
            )
        )  # fmt: skip
    if cycle is not None:
        return out
    means = mean_series(post)
    for name in series_names(table):
        if not QUEUE_SERIES.search(name) or name not in means:
            continue
        growth = _growth(means[name].to_numpy(dtype=float))
        if growth is None:
            continue
        out.append(
            RunWarning(
                "growing_queue", INVALID, scenario, name,
                f"{name} grows throughout the measured period (Kendall tau "
                f"{growth['kendall_tau']:.2f}, from {growth['start_mean']:.3g} to "
                f"{growth['end_mean']:.3g}): the queue has no steady state and its mean "
                "depends on the run length",
                growth,
            )
        )  # fmt: skip
    return out


def _capacity_column(table: pd.DataFrame, name: str) -> str | None:
    candidates = [f"{name}_capacity"]
    if name.endswith("s_occupied"):
        candidates.append(name[: -len("s_occupied")] + "_capacity")
    elif name.endswith("_occupied"):
        candidates.append(name[: -len("_occupied")] + "_capacity")
    return next((c for c in candidates if c in table.columns), None)


def _growth(y: np.ndarray) -> dict[str, float] | None:
    """Trend statistics if ``y`` rises throughout, else ``None``."""
    z = batch_means(welch_moving_average(y), BATCH)
    if z.size < 2 * MIN_KEPT_BATCHES:
        return None
    tau, p = stats.kendalltau(np.arange(z.size), z)
    tenth = max(1, z.size // 10)
    start, end = float(z[:tenth].mean()), float(z[-tenth:].mean())
    # A rise from zero by less than one unit is noise, not a growing queue.
    grows = end > GROWTH_FACTOR * max(start, 0.0) and end - start >= 1.0
    if not (np.isfinite(tau) and tau >= GROWTH_TAU and p < GROWTH_P and grows):
        return None
    return {
        "kendall_tau": round(float(tau), 4),
        "p_value": float(p),
        "start_mean": start,
        "end_mean": end,
    }


def cycle_drift_warnings(
    table: pd.DataFrame, warm_up: float, cycle: float, scenario: str = "run"
) -> list[RunWarning]:
    """Series whose level moves between whole cycles of the measured period.

    For output with a steady-state cycle, the steady-state quantities are cycle means
    (Law 2015, section 9.6). When the measured period holds at least two whole cycles and
    there are at least two replications, each replication's mean over its last whole cycle
    is paired with its mean over its first; a series drifts when the confidence interval of
    the paired difference excludes zero and the difference exceeds :data:`DRIFT_SHARE` of
    the first cycle's mean. The intervals hold jointly at 95% over the run's series
    (Bonferroni): every series is tested at once, and a volatile one (ED boarding, delayed
    discharges) would otherwise move by chance in one run in twenty. A run with one measured
    cycle cannot show this: docs/method.md says how the warm-up was checked for that design.

    Parameters
    ----------
    table
        The run's stacked daily series (``replication``, a time column, one column a series).
    warm_up
        The configured warm-up.
    cycle
        The cycle's length in time steps.
    scenario
        Label for the records.
    """
    tcol = time_column(table)
    post = table[table[tcol] >= warm_up]
    steps = int(round(cycle))
    times = np.sort(post[tcol].unique())
    n_cycles = times.size // steps if steps > 0 else 0
    reps = int(post["replication"].nunique()) if "replication" in post else 1
    if n_cycles < 2 or reps < 2:
        return []
    out = []
    names = series_names(table)
    quantile = float(stats.t.ppf(1.0 - 0.025 / max(len(names), 1), reps - 1))
    for name in names:
        wide = post.pivot(index=tcol, columns="replication", values=name).sort_index()
        values = wide.to_numpy(dtype=float)
        first = values[:steps].mean(axis=0)
        last = values[(n_cycles - 1) * steps : n_cycles * steps].mean(axis=0)
        diff = last - first
        mean = float(diff.mean())
        half = quantile * float(diff.std(ddof=1)) / float(np.sqrt(reps))
        level = abs(float(first.mean()))
        if not (level > 0 and abs(mean) > half and abs(mean) > DRIFT_SHARE * level):
            continue
        grows = bool(
            QUEUE_SERIES.search(name) and last.mean() >= GROWTH_FACTOR * first.mean() and mean > 0
        )
        details = {
            "first_cycle_mean": float(first.mean()),
            "last_cycle_mean": float(last.mean()),
            "change": mean,
            "ci_half_width": half,
            "cycles": n_cycles,
            "replications": reps,
        }
        if grows:
            out.append(
                RunWarning(
                    "growing_queue", INVALID, scenario, name,
                    f"{name} grows from cycle to cycle: {first.mean():.3g} in the first "
                    f"measured cycle, {last.mean():.3g} in cycle {n_cycles}: the queue has no "
                    "steady state and its mean depends on the run length",
                    details,
                )
            )  # fmt: skip
            continue
        out.append(
            RunWarning(
                "drifts_between_cycles", CAUTION, scenario, name,
                f"{name} moves from {first.mean():.4g} in the first measured cycle to "
                f"{last.mean():.4g} in cycle {n_cycles} ({mean / level:+.1%}, joint 95% CI "
                f"+/-{half / level:.1%}): it has not reached its steady-state cycle",
                details,
            )
        )  # fmt: skip
    return out


def measured_period_warnings(
    horizon: float | None,
    warm_up: float,
    timeseries: pd.DataFrame | None = None,
    scenario: str = "run",
) -> list[RunWarning]:
    """A measured period too short for any mean to mean anything (issue 15, item 6).

    Invalid when less than :data:`MIN_MEASURED` time units follow the warm-up, or when the
    daily series after warm-up give fewer than :data:`MIN_KEPT_BATCHES` MSER batches.

    Parameters
    ----------
    horizon
        The run's length (``None`` when unknown: the series' length is used).
    warm_up
        The configured warm-up.
    timeseries
        The run's daily series, if it wrote any.
    scenario
        Label for the records.
    """
    measured = None if horizon is None else float(horizon) - float(warm_up)
    batches = None
    if timeseries is not None and not timeseries.empty:
        tcol = time_column(timeseries)
        steps = int(timeseries.loc[timeseries[tcol] >= warm_up, tcol].nunique())
        batches = steps // BATCH
    short_time = measured is not None and measured < MIN_MEASURED
    few_batches = batches is not None and batches < MIN_KEPT_BATCHES
    if not (short_time or few_batches):
        return []
    what = (
        f"only {measured:g} time units follow the warm-up"
        if short_time
        else f"the measured period holds {batches} MSER batches of {BATCH} steps "
        f"(fewer than {MIN_KEPT_BATCHES})"
    )
    return [
        RunWarning(
            "measured_period_too_short", INVALID, scenario, "run",
            f"{what}: too short for a mean or a confidence interval to mean anything; "
            "lengthen run.horizon or shorten run.warm_up",
            {"measured": measured, "batches": batches, "warm_up": float(warm_up)},
        )
    ]  # fmt: skip


def capacity_links(kind: str) -> tuple[Any, ...]:
    """The model's finite services (:attr:`sim.models.base.ModelSpec.capacity`)."""
    from sim.models import MODELS

    spec = MODELS.get(kind)
    return spec.capacity if spec is not None else ()


def run_warnings(
    kind: str,
    model: Any,
    timeseries: pd.DataFrame | None,
    warm_up: float,
    scenario: str = "run",
    horizon: float | None = None,
) -> list[RunWarning]:
    """Every reason to doubt one finished run: instability, saturation, a short warm-up.

    Parameters
    ----------
    kind
        The model kind: its registry entry supplies parameter checks and finite services.
    model
        The model's validated parameters (for the model's own checks).
    timeseries
        The run's stacked daily series, or ``None`` when it wrote none.
    warm_up
        The configured warm-up.
    scenario
        Label for the records.
    horizon
        The run's length, for the measured-period check.
    """
    from sim.models import MODELS

    spec = MODELS.get(kind)
    found = list(spec.checks(model, scenario)) if spec is not None and spec.checks else []
    found += measured_period_warnings(horizon, warm_up, timeseries, scenario)
    if timeseries is not None and not timeseries.empty:
        cycle = spec.cycle(model) if spec is not None and spec.cycle is not None else None
        found += saturation_warnings(
            timeseries, warm_up, scenario, capacity_links(kind), cycle=cycle
        )
        found += warm_up_warnings(analyse(timeseries, warm_up, scenario, cycle=cycle))
        if cycle is not None:
            found += cycle_drift_warnings(timeseries, warm_up, cycle, scenario)
    return found


def warnings_document(warnings: Sequence[RunWarning], scenario: str) -> dict[str, Any]:
    """The ``warnings.json`` document: a verdict and one record per warning."""
    invalid = [w for w in warnings if w.severity == INVALID]
    if invalid:
        verdict = "NOT MEANINGFUL: " + "; ".join(sorted({f"{w.kind} ({w.kpi})" for w in invalid}))
    elif warnings:
        verdict = "usable with caution: " + ", ".join(sorted({w.kind for w in warnings}))
    else:
        verdict = "no warnings"
    return {
        "schema_version": WARNINGS_SCHEMA,
        "scenario": scenario,
        "meaningful": not invalid,
        "verdict": verdict,
        "counts": {
            "invalid": len(invalid),
            "caution": sum(1 for w in warnings if w.severity == CAUTION),
        },
        "warnings": [asdict(w) for w in warnings],
    }


def stderr_lines(warnings: Sequence[RunWarning]) -> list[str]:
    """One line per (kind, scenario), naming every KPI concerned."""
    groups: dict[tuple[str, str, str], list[RunWarning]] = {}
    for w in warnings:
        groups.setdefault((w.severity, w.kind, w.scenario), []).append(w)
    lines = []
    for (severity, kind, scenario), items in groups.items():
        if kind == "warm_up_short":
            what = ", ".join(f"{w.kpi} ({w.details['mser_truncation']:g})" for w in items)
            warm = items[0].details["configured_warm_up"]
            text = f"warm-up {warm:g} is shorter than MSER-5 suggests for {what}"
        elif kind == "no_steady_state":
            text = "no steady state found by MSER-5 (drift or run too short) for " + ", ".join(
                w.kpi for w in items
            )
        else:
            text = " | ".join(w.message for w in items)
        label = "WARNING" if severity == INVALID else "warning"
        lines.append(f"nhsim: {label} [{scenario}]: {text}")
    return lines


# --------------------------------------------------------------------------- files
def runs_in(path: Path) -> list[results.RunData]:
    """The finished run in ``path``, or every finished job of a sweep, named as scenarios."""
    path = Path(path)
    dirs = results.job_dirs(path) if results.is_sweep(path) else [path]
    runs = [results.load_run(d) for d in dirs]
    results.name_scenarios(runs)
    return runs


def run_cycle(config: dict[str, Any]) -> float | None:
    """The steady-state cycle of a saved run's model (:attr:`ModelSpec.cycle`), from its
    resolved config; ``None`` for a model without one or a config that no longer validates."""
    from sim.errors import ConfigError
    from sim.models import MODELS

    spec = MODELS.get(str((config.get("model") or {}).get("kind", "")))
    if spec is None or spec.cycle is None:
        return None
    try:
        return spec.cycle(spec.build(config))
    except (ConfigError, KeyError, TypeError, ValueError):
        return None


def _tables(path: Path) -> list[tuple[results.RunData, pd.DataFrame]]:
    """Each finished run in ``path`` with its daily series (runs without any are skipped)."""
    out = []
    for run in runs_in(path):
        file = run.path / "timeseries.parquet"
        if run.problems or not file.is_file():
            continue  # an unreadable job counts as unfinished; check_results_dir named it
        out.append((run, pd.read_parquet(file)))
    return out


def drift_dir(path: Path) -> list[RunWarning]:
    """The cycle-drift check (:func:`cycle_drift_warnings`) of every run in ``path`` whose
    model has a steady-state cycle."""
    found: list[RunWarning] = []
    for run, table in _tables(path):
        cycle = run_cycle(run.config)
        if cycle is not None:
            found += cycle_drift_warnings(table, run.warm_up or 0.0, cycle, run.name)
    return found


def analyse_dir(
    path: Path, *, batch: int = BATCH, half_width: int = WELCH_HALF_WIDTH
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MSER-5 for a run or sweep directory: ``(results, smoothed series)``.

    Raises
    ------
    FileNotFoundError
        When no run in ``path`` has a ``timeseries.parquet``.
    """
    found, series = [], []
    for run, table in _tables(path):
        warm_up = run.warm_up or 0.0
        cycle = run_cycle(run.config)
        found.append(
            analyse(table, warm_up, run.name, batch=batch, half_width=half_width, cycle=cycle)
        )
        series.append(smoothed_series(table, run.name, half_width))
    if not found:
        raise FileNotFoundError(
            f"no timeseries.parquet in {path} (the run needs output.timeseries=true; "
            "the queueing model writes none)"
        )
    return pd.concat(found, ignore_index=True), pd.concat(series, ignore_index=True)


def print_table(results: pd.DataFrame, out: Any = None) -> None:
    """Print truncation points beside the configured warm-up, one line per scenario and KPI."""
    out = out or sys.stdout
    width = max(12, *(len(s) for s in results["series"]))
    for scenario, group in results.groupby("scenario", sort=False):
        print(f"\n{scenario}", file=out)
        kept = int(group["kept_days"].max()) if "kept_days" in group else 0
        if kept > MIN_KEPT_BATCHES * BATCH:
            note = f"each candidate truncation keeps at least {kept} days: a whole cycle"
            print(f"  ({note})", file=out)
        print(f"  {'series':<{width}}  {'MSER-5':>8}  {'warm-up':>8}  verdict", file=out)
        for row in group.itertuples(index=False):
            verdict = (
                "inconclusive (no steady state in the first half)"
                if not row.conclusive
                else ("adequate" if row.adequate else "warm-up TOO SHORT")
            )
            print(
                f"  {row.series:<{width}}  {row.truncation_days:>8g}  "
                f"{row.configured_warm_up:>8g}  {verdict}",
                file=out,
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.analysis.warmup", description=__doc__.split("\n")[0]
    )
    parser.add_argument("path", type=Path, help="a run directory or a sweep directory")
    parser.add_argument("--batch", type=int, default=BATCH, help="batch size (default 5)")
    parser.add_argument(
        "--window", type=int, default=WELCH_HALF_WIDTH,
        help="Welch moving-average half-width (default 3, a 7-day window; 0 = none)",
    )  # fmt: skip
    parser.add_argument("--no-figure", action="store_true", help="skip warmup.png")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.window < 0:
        print("nhsim.warmup: error: --batch must be >= 1 and --window >= 0", file=sys.stderr)
        return 2
    from sim.analysis import results as results_io  # `results` names the table below

    try:
        for note in results_io.check_results_dir(args.path):
            print(f"nhsim.warmup: note: {note}", file=sys.stderr)
        results, series = analyse_dir(args.path, batch=args.batch, half_width=args.window)
    except (FileNotFoundError, ValueError, results_io.ResultsError) as exc:
        print(f"nhsim.warmup: error: {exc}", file=sys.stderr)
        return 2
    print_table(results)
    drifts = drift_dir(args.path)
    for w in drifts:
        print(f"  drift [{w.scenario}]: {w.message}")
    io.write_csv(args.path / "warmup.csv", results)
    print(f"\nwrote {args.path / 'warmup.csv'}")
    if not args.no_figure:
        from sim.plots.warmup import warmup_figure

        fig = warmup_figure(series, results)
        target = args.path / "warmup.png"
        io.atomic_write(target, lambda p: fig.savefig(p, format="png", dpi=100))
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
