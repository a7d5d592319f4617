"""Figures comparing scenarios: each is a pure function of results tables returning a Figure.

Inputs are long tables with one row per (scenario, metric) — the columns of ``summary.csv``
plus ``scenario`` — or ``comparison.csv`` for paired differences. A figure whose data are
absent raises :class:`~sim.plots.common.MissingDataError`; it never draws an empty chart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.plots import labels
from sim.plots.common import (
    MissingDataError,
    clip_to,
    errors,
    few_ticks,
    mark_better,
    palette_for,
    present_metrics,
    require_columns,
    scenarios_of,
    set_limits_with_headroom,
    value,
    wrap,
)
from sim.plots.style import (
    CATEGORY_COLOURS,
    FONT,
    GREY,
    LIGHT_GREY,
    TEXT,
    new_figure,
    styled,
)

DASHBOARD: tuple[str, ...] = (
    "gp_routine_wait_mean_days",
    "gp_within_14_days_share",
    "gp_continuity_upc",
    "ed_within_4h_share",
    "emergency_admissions_per_1000",
    "los_mean_days",
    "bed_occupancy_mean",
    "delayed_discharge_bed_days_per_1000",
    "ucr_within_2h_share",
    "death_place_hospital_share",
    "emergency_admissions_ratio_q5_q1",
    "cost_per_capita",
)

# England reference values marked on plots (stored as fractions, like the model's shares).
ENGLAND_PLACE_OF_DEATH: dict[str, float] = {
    "hospital": 0.434,
    "home": 0.287,
    "care_home": 0.205,
    "hospice": 0.047,
    "other": 0.026,
}
ENGLAND_PLACE_OF_DEATH_SOURCE = "England, OHID 2022"
ENGLAND_GP_ACCESS: dict[str, float] = {"gp_same_day_share": 0.45, "gp_within_14_days_share": 0.82}
ENGLAND_GP_ACCESS_SOURCE = "England, April 2024 (NHS Digital via RCGP)"

PLACES: tuple[str, ...] = ("hospital", "home", "care_home", "hospice", "other")
PLACE_LABELS = {
    "hospital": "Hospital",
    "home": "Home",
    "care_home": "Care home",
    "hospice": "Hospice",
    "other": "Elsewhere",
}


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def _scenario_handles(names: Sequence[str], colours: Mapping[str, str]) -> list[Patch]:
    return [Patch(color=colours[n], label=labels.scenario_label(n)) for n in names]


# --------------------------------------------------------------------------- forest plot
# Smallest half-width of a forest panel, as a share of the baseline's level.
FOREST_MIN_SPAN = 0.02


@styled
def forest(
    comparison: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    baseline: str | None = None,
    colours: Mapping[str, str] | None = None,
    topic: str | None = None,
) -> Figure:
    """Paired differences from the baseline with 95% CIs, one panel per KPI.

    A filled marker means the interval excludes zero; a hollow one means the difference
    could be noise. Each axis says which way is better.

    Parameters
    ----------
    comparison
        Long table with ``scenario, metric, diff_mean, diff_ci_low, diff_ci_high``.
    metrics
        KPIs to show, one panel each, in order; absent ones are left out. Default: the
        model's headline KPIs, as the caller passes them; without them, the table's first 8.
    baseline
        The scenario the differences are taken from (not drawn), named in the title. Rows
        whose own ``baseline`` column names them (every stratum of a crossed sweep) are
        left out too.
    colours
        Scenario colours; defaults to :func:`sim.plots.style.scenario_palette`.
    topic
        What the panels are about, put before the title ("General practice: ...").

    Returns
    -------
    Figure
    """
    cols = ["scenario", "metric", "diff_mean", "diff_ci_low", "diff_ci_high"]
    table = require_columns(comparison, cols, "comparison table")
    if baseline is None and "baseline" in table.columns and table["baseline"].nunique() == 1:
        baseline = str(table["baseline"].iloc[0])
    table = table[table["scenario"].astype(str) != baseline]
    if "baseline" in table.columns:
        table = table[table["scenario"].astype(str) != table["baseline"].astype(str)]
    if metrics is None:
        metrics = list(dict.fromkeys(table["metric"]))[:8]
    shown = present_metrics(table, metrics, "diff_mean")
    if not shown:
        raise MissingDataError("no paired differences for the headline KPIs")
    names = [n for n in scenarios_of(table, baseline) if n != baseline]
    palette = palette_for(table, colours)
    nrows, ncols = _grid(len(shown))
    # One row of panels on a full 16:9 canvas stretches the rows apart; halve its height.
    size = {"figsize": (16.0, 5.5)} if nrows == 1 else {}
    fig, axes = new_figure(nrows, ncols, sharey=True, squeeze=False, **size)
    y = np.arange(len(names))[::-1]
    for ax, metric in zip(axes.flat, shown, strict=False):
        info = labels.metric_info(metric)
        rows = table[table["metric"] == metric].set_index("scenario")
        for yi, name in zip(y, names, strict=True):
            if name not in rows.index or not np.isfinite(rows.at[name, "diff_mean"]):
                continue
            raw = [float(rows.at[name, c]) for c in cols[2:]]
            significant = labels.is_clear_difference(metric, *raw)
            mid, lo, hi = (v * info.scale for v in raw)
            ax.errorbar(
                mid,
                yi,
                xerr=errors(np.array([mid]), np.array([lo]), np.array([hi])),
                fmt="o",
                ms=13,
                color=palette[name],
                mfc=palette[name] if significant else "white",
                mew=2.5,
                elinewidth=3,
                capsize=7,
            )
        ax.axvline(0, color=GREY, lw=1.5, ls="--", zorder=0)
        lo_all = rows[["diff_ci_low", "diff_mean"]].min().min() * info.scale
        hi_all = rows[["diff_ci_high", "diff_mean"]].max().max() * info.scale
        # A difference of 0.001 days must not fill a panel as if it mattered: the axis always
        # spans at least FOREST_MIN_SPAN of the baseline's level (when the table has it).
        level = abs(value(comparison, baseline, metric)) * info.scale
        floor = FOREST_MIN_SPAN * level if np.isfinite(level) else 0.0
        span = max(abs(lo_all), abs(hi_all), floor, 1e-12)
        # Zero always in view, centred, so left/right of the line reads the same in each panel.
        ax.set_xlim(-1.25 * span, 1.25 * span)
        # Four panels a row: titles and labels wrap so they never run into the next panel.
        ax.set_title(wrap(info.short_label, 24), loc="left", fontsize=FONT["base"])
        ax.set_xlabel(wrap(labels.axis_label(metric, difference=True), 24))
        few_ticks(ax, "x")
        # Room above the top row for the "better" note; the note has a fixed height in
        # pixels, so the room in rows grows with the number of scenarios.
        ax.set_ylim(-0.7, len(names) - 0.2 + 0.12 * len(names))
        ax.grid(axis="x")
        mark_better(ax, info.better)
    for ax in axes.flat[len(shown) :]:
        ax.set_axis_off()
    for ax in axes[:, 0]:
        ax.set_yticks(y, [wrap(labels.scenario_label(n), 24) for n in names])
    handles = [
        Line2D([], [], marker="o", ls="", ms=12, color=TEXT, label="clear difference"),
        Line2D([], [], marker="o", ls="", ms=12, color=TEXT, mfc="white", mew=2,
               label="could be chance (95% CI includes 0)"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncols=2)
    base = labels.baseline_phrase(baseline)
    title = f"Difference from {base}, with 95% confidence intervals"
    fig.suptitle(wrap(f"{topic}: {title[0].lower()}{title[1:]}" if topic else title, 80))
    return fig


# --------------------------------------------------------------------------- dashboard
@styled
def dashboard(
    summary: pd.DataFrame,
    metrics: Sequence[str] = DASHBOARD,
    baseline: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Small multiples of scenario means with 95% CIs, one panel per KPI.

    Parameters
    ----------
    summary
        Long table with ``scenario, metric, mean, ci_low, ci_high``.
    metrics
        KPIs to show, in order; absent ones are left out.
    baseline
        Scenario drawn first and marked with a dashed reference line.
    colours
        Scenario colours.

    Returns
    -------
    Figure
    """
    table = require_columns(summary, ["scenario", "metric", "mean", "ci_low", "ci_high"], "summary")
    shown = present_metrics(table, metrics)
    if not shown:
        raise MissingDataError("none of the dashboard KPIs are in the results")
    names = scenarios_of(table, baseline)
    palette = palette_for(table, colours)
    nrows, ncols = _grid(len(shown))
    fig, axes = new_figure(nrows, ncols, squeeze=False)
    x = np.arange(len(names))
    for ax, metric in zip(axes.flat, shown, strict=False):
        info = labels.metric_info(metric)
        drawn: list[float] = []
        for xi, name in zip(x, names, strict=True):
            mid, lo, hi = (
                value(table, name, metric, c) * info.scale for c in ("mean", "ci_low", "ci_high")
            )
            if not np.isfinite(mid):
                continue
            lo, hi = clip_to(np.array([lo, hi]), info.bounds)
            ax.errorbar(xi, mid, yerr=errors(np.array([mid]), np.array([lo]), np.array([hi])),
                        fmt="o", ms=12, color=palette[name], elinewidth=3, capsize=7)  # fmt: skip
            drawn += [mid, lo, hi]
        base = value(table, baseline, metric) * info.scale
        if np.isfinite(base) and len(names) > 1:
            ax.axhline(base, color=GREY, lw=1.2, ls="--", zorder=0)
        ax.set_title(wrap(info.short_label, 24), loc="left", fontsize=FONT["base"])
        ax.set_ylabel(wrap(info.unit, 18), fontsize=FONT["small"])
        ax.set_xticks([])
        ax.set_xlim(-0.6, len(names) - 0.4)
        # Differences under 10% of the level are not blown up to fill the panel; the top
        # is left free for the "better" note.
        level = float(np.nanmax(np.abs(drawn))) if drawn else 0.0
        set_limits_with_headroom(ax, drawn, info.bounds, min_span=0.1 * level)
        ax.grid(axis="y")
        mark_better(ax, info.better, axis="y")
    for ax in axes.flat[len(shown) :]:
        ax.set_axis_off()
    fig.legend(handles=_scenario_handles(names, palette), loc="outside lower center",
               ncols=min(len(names), 6))  # fmt: skip
    fig.suptitle("Key measures by arrangement (average across replications, 95% CI)")
    return fig


# --------------------------------------------------------------------------- GP access
def _grouped_bars(
    ax: Axes,
    table: pd.DataFrame,
    metrics: Sequence[str],
    names: Sequence[str],
    palette: Mapping[str, str],
    group_labels: Sequence[str] | None = None,
) -> np.ndarray:
    """Bars of each metric (groups) by scenario (bars in a group), with CI whiskers and values."""
    width = 0.8 / max(len(names), 1)
    groups = np.arange(len(metrics))
    for k, name in enumerate(names):
        scale = np.array([labels.metric_info(m).scale for m in metrics])
        mid, lo, hi = (
            np.array([value(table, name, m, c) for m in metrics]) * scale
            for c in ("mean", "ci_low", "ci_high")
        )
        bounds = [labels.metric_info(m).bounds for m in metrics]
        lo = np.array([clip_to(v, b) for v, b in zip(lo, bounds, strict=True)])
        hi = np.array([clip_to(v, b) for v, b in zip(hi, bounds, strict=True)])
        pos = groups - 0.4 + width * (k + 0.5)
        ax.bar(pos, np.nan_to_num(mid), width * 0.92, color=palette[name],
               label=labels.scenario_label(name))  # fmt: skip
        ax.errorbar(pos, mid, yerr=errors(mid, lo, hi), fmt="none", ecolor=TEXT, elinewidth=2,
                    capsize=5)  # fmt: skip
        for p, v, h in zip(pos, mid, np.where(np.isfinite(hi), hi, mid), strict=True):
            if np.isfinite(v):
                ax.text(p, h, f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}", ha="center",
                        va="bottom", fontsize=FONT["small"])  # fmt: skip
    names_ = group_labels or [labels.metric_info(m).short_label for m in metrics]
    ax.set_xticks(groups, names_)
    return groups


@styled
def gp_access(
    summary: pd.DataFrame,
    baseline: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Access to general practice: how fast people are seen, by scenario.

    Left: shares seen the same day and within 2 weeks, with England's figures marked.
    Right: mean and 90th-percentile days to a routine appointment.

    Parameters
    ----------
    summary
        Long table with ``scenario, metric, mean, ci_low, ci_high``.
    baseline
        Scenario drawn first.
    colours
        Scenario colours.

    Returns
    -------
    Figure
    """
    table = require_columns(summary, ["scenario", "metric", "mean", "ci_low", "ci_high"], "summary")
    shares = present_metrics(table, ["gp_same_day_share", "gp_within_14_days_share"])
    waits = present_metrics(table, ["gp_routine_wait_mean_days", "gp_routine_wait_p90_days"])
    if not shares and not waits:
        raise MissingDataError("no general practice access measures")
    names = scenarios_of(table, baseline)
    palette = palette_for(table, colours)
    fig, (left, right) = new_figure(1, 2)
    if shares:
        groups = _grouped_bars(left, table, shares, names, palette)
        for g, metric in zip(groups, shares, strict=True):
            ref = ENGLAND_GP_ACCESS.get(metric)
            if ref is not None:
                left.hlines(ref * 100, g - 0.45, g + 0.45, colors=TEXT, lw=3, ls=(0, (4, 2)))
        left.set_ylim(0, 100)
        left.set_ylabel("Share of appointments (%)")
        left.set_title("How quickly appointments happen", loc="left")
        left.legend(handles=[Line2D([], [], color=TEXT, lw=3, ls=(0, (4, 2)),
                                    label=ENGLAND_GP_ACCESS_SOURCE)], loc="upper left")  # fmt: skip
        mark_better(left, "higher", axis="y")
    else:
        left.set_axis_off()
    if waits:
        wait_names = {
            "gp_routine_wait_mean_days": "Average wait",
            "gp_routine_wait_p90_days": "Wait that 9 in 10 beat",
        }
        _grouped_bars(right, table, waits, names, palette, [wait_names[m] for m in waits])
        right.set_ylabel("Wait for a routine appointment (days)")
        right.set_ylim(0, right.get_ylim()[1] * 1.18)  # room for the "better" note
        right.set_title("Waits for a routine appointment", loc="left")
        mark_better(right, "lower", axis="y")
    else:
        right.set_axis_off()
    for ax in (left, right):
        ax.grid(axis="y")
    fig.legend(handles=_scenario_handles(names, palette), loc="outside lower center",
               ncols=min(len(names), 6))  # fmt: skip
    fig.suptitle("Getting a GP appointment (95% CI whiskers)")
    return fig


# --------------------------------------------------------------------------- end of life
@styled
def end_of_life(
    summary: pd.DataFrame,
    baseline: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Where people die, by scenario, as stacked bars beside England's figures.

    Parameters
    ----------
    summary
        Long table with ``scenario, metric, mean`` (and ``ci_low, ci_high`` for the whisker
        on the hospital share) with ``death_place_<place>_share`` metrics.
    baseline
        Scenario drawn first.
    colours
        Scenario colours (used for the scenario names on the axis).

    Returns
    -------
    Figure
    """
    table = require_columns(summary, ["scenario", "metric", "mean"], "summary")
    metrics = [f"death_place_{p}_share" for p in PLACES]
    if not present_metrics(table, metrics[:4]):
        raise MissingDataError("no place-of-death shares")
    names = scenarios_of(table, baseline)
    palette = palette_for(table, colours)
    fig, ax = new_figure(1, 1)
    rows: list[tuple[str, dict[str, float]]] = []
    for name in names:
        shares = {p: value(table, name, f"death_place_{p}_share") for p in PLACES}
        if not np.isfinite(shares["other"]):
            known = sum(v for k, v in shares.items() if k != "other" and np.isfinite(v))
            shares["other"] = max(0.0, 1.0 - known)
        rows.append((name, shares))
    rows.append(("__england__", ENGLAND_PLACE_OF_DEATH))
    y = np.arange(len(rows))[::-1].astype(float)
    y[-1] -= 0.35  # a visible gap sets England apart from the simulated arrangements
    for yi, (name, shares) in zip(y, rows, strict=True):
        left = 0.0
        england = name == "__england__"
        for place in PLACES:
            w = float(np.nan_to_num(shares[place])) * 100
            ax.barh(yi, w, left=left, height=0.7, color=CATEGORY_COLOURS[place],
                    edgecolor="white", hatch="//" if england else None, lw=1.5)  # fmt: skip
            if w >= 4:
                dark = place in ("hospital", "hospice")
                # On the hatched England bar the number sits on a plain patch of its colour.
                box = ({"facecolor": CATEGORY_COLOURS[place], "lw": 0, "pad": 2} if england
                       else None)  # fmt: skip
                ax.text(left + w / 2, yi, f"{w:.0f}%", ha="center", va="center",
                        fontsize=FONT["tick"], fontweight="bold",
                        color="white" if dark else TEXT, bbox=box)  # fmt: skip
            left += w
        if not england:
            lo = value(table, name, "death_place_hospital_share", "ci_low") * 100
            hi = value(table, name, "death_place_hospital_share", "ci_high") * 100
            mid = shares["hospital"] * 100
            if np.isfinite(lo) and np.isfinite(hi):
                ax.errorbar(mid, yi, xerr=errors(np.array([mid]), np.array([lo]), np.array([hi])),
                            fmt="none", ecolor=TEXT, elinewidth=2.5, capsize=8)  # fmt: skip
    ax.axvline(ENGLAND_PLACE_OF_DEATH["hospital"] * 100, color=TEXT, lw=2, ls=(0, (4, 2)))
    ax.text(ENGLAND_PLACE_OF_DEATH["hospital"] * 100, y[0] + 0.45,
            f"England: {ENGLAND_PLACE_OF_DEATH['hospital'] * 100:.1f}% die in hospital",
            ha="center", va="bottom", fontsize=FONT["small"],
            bbox={"facecolor": "white", "lw": 0, "pad": 2})  # fmt: skip
    ticks = [labels.scenario_label(n) for n, _ in rows[:-1]] + [ENGLAND_PLACE_OF_DEATH_SOURCE]
    ax.set_yticks(y, ticks)
    # Names stay dark (orange or grey text is hard to read from the back of a room); a square
    # of the scenario's colour beside each name keeps the colour link to the other figures.
    for yi, (name, _) in zip(y, rows, strict=True):
        if name in palette:
            ax.plot(-0.012, yi, marker="s", ms=16, color=palette[name], clip_on=False,
                    transform=ax.get_yaxis_transform(), ls="")  # fmt: skip
    ax.set_xlim(0, 100)
    ax.set_ylim(y[-1] - 0.6, y[0] + 0.9)
    ax.set_xlabel("Share of deaths (%)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0, pad=26)
    handles = [Patch(color=CATEGORY_COLOURS[p], label=PLACE_LABELS[p]) for p in PLACES]
    # The explanation goes in the legend title: constrained layout keeps it clear of the axis.
    fig.legend(handles=handles, loc="outside lower center", ncols=len(PLACES),
               title="Black whisker: 95% CI of the share dying in hospital. Hatched bar: England.",
               title_fontsize=FONT["small"])  # fmt: skip
    fig.suptitle("Where people die")
    return fig


# --------------------------------------------------------------------------- equity
@styled
def equity(
    summary: pd.DataFrame,
    metric: str = "emergency_admissions_per_1000",
    baseline: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """A rate by deprivation quintile, one line per scenario, with 95% CI whiskers.

    Parameters
    ----------
    summary
        Long table with ``scenario, metric, mean, ci_low, ci_high`` holding
        ``<metric>__q1`` … ``<metric>__q5``.
    metric
        Base name of the rate (``emergency_admissions_per_1000`` by default).
    baseline
        Scenario drawn first.
    colours
        Scenario colours.

    Returns
    -------
    Figure
    """
    table = require_columns(summary, ["scenario", "metric", "mean", "ci_low", "ci_high"], "summary")
    qs = [f"{metric}__q{i}" for i in range(1, 6)]
    if len(present_metrics(table, qs)) < 2:
        raise MissingDataError(f"no rates by deprivation quintile for {metric}")
    names = scenarios_of(table, baseline)
    palette = palette_for(table, colours)
    info = labels.metric_info(metric)
    fig, ax = new_figure(1, 1)
    x = np.arange(1, 6, dtype=float)
    dodge = np.linspace(-0.12, 0.12, len(names)) if len(names) > 1 else [0.0]
    ratio_metric = metric.replace("_per_1000", "_ratio_q5_q1")
    for name, dx in zip(names, dodge, strict=True):
        mid = np.array([value(table, name, q) for q in qs]) * info.scale
        lo = clip_to(np.array([value(table, name, q, "ci_low") for q in qs]) * info.scale,
                     info.bounds)  # fmt: skip
        hi = clip_to(np.array([value(table, name, q, "ci_high") for q in qs]) * info.scale,
                     info.bounds)  # fmt: skip
        ratio = value(table, name, ratio_metric)
        text = labels.scenario_label(name)
        if np.isfinite(ratio):
            text += f" (most deprived {ratio:.2f}× least)"
        ax.errorbar(x + dx, mid, yerr=errors(mid, lo, hi), fmt="-o", ms=10, lw=3,
                    color=palette[name], elinewidth=2.5, capsize=6, label=text)  # fmt: skip
    ax.set_xticks(x, ["1\nleast\ndeprived", "2", "3", "4", "5\nmost\ndeprived"])
    ax.set_xlabel("Deprivation fifth of the population (IMD quintile)")
    ax.set_ylabel(f"{info.short_label} ({info.unit})")
    ax.grid(axis="y")
    ax.legend(loc="upper left")
    # Rates rise with deprivation, so the lower right corner is the free one.
    mark_better(ax, info.better, axis="y", where="bottom")
    fig.suptitle(f"{info.label} by deprivation (95% CI whiskers)")
    return fig


# --------------------------------------------------------------------------- money
def population_size(table: pd.DataFrame, scenario: str) -> float:
    """People covered, recovered as total cost by setting divided by cost per person-year.

    ``cost__<setting>`` values are per year for the whole place and ``cost_per_capita`` is per
    person per year, so their ratio is the population (NaN if either is missing).
    """
    rows = table[(table["scenario"] == scenario) & table["metric"].map(labels.is_setting_cost)]
    per_head = value(table, scenario, "cost_per_capita")
    total = float(rows["mean"].sum())
    return total / per_head if per_head and np.isfinite(per_head) and total > 0 else float("nan")


def _cost_panel(
    ax: Axes,
    table: pd.DataFrame,
    metrics: Sequence[str],
    names: Sequence[str],
    palette: Mapping[str, str],
    title: str,
    top: int = 8,
) -> None:
    """Horizontal grouped bars of costs in £ per person per year; small items pooled."""
    pops = {n: population_size(table, n) for n in names}
    per_head = {
        n: {m: value(table, n, m) / pops[n] if np.isfinite(pops[n]) else np.nan for m in metrics}
        for n in names
    }
    ref = names[0]
    order = sorted(metrics, key=lambda m: -np.nan_to_num(per_head[ref][m]))
    total = sum(np.nan_to_num(v) for v in per_head[ref].values())
    # Items under 1% of the total would be invisible bars; they join "Everything else".
    big = [m for m in order if np.nan_to_num(per_head[ref][m]) >= 0.01 * total]
    keep = big[: top - 1] if len(order) > top or len(big) < len(order) else big
    rest = [m for m in order if m not in keep]
    items: list[tuple[str, list[str]]] = [(labels.metric_info(m).short_label, [m]) for m in keep]
    if rest:
        items.append(("Everything else", rest))
    height = 0.8 / max(len(names), 1)
    y = np.arange(len(items))[::-1]
    for k, name in enumerate(names):
        vals = [sum(np.nan_to_num(per_head[name][m]) for m in ms) for _, ms in items]
        ax.barh(y + 0.4 - height * (k + 0.5), vals, height * 0.92, color=palette[name])
    ax.set_yticks(y, [t for t, _ in items])
    ax.set_xlabel("£ per person per year")
    ax.set_title(title, loc="left")
    ax.grid(axis="x")


@styled
def money(
    summary: pd.DataFrame,
    baseline: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Where the money goes: by setting, by organisation, and what reaches general practice.

    Costs are shown per person per year so that places of any size compare.

    Parameters
    ----------
    summary
        Long table with ``scenario, metric, mean`` holding ``cost_per_capita``,
        ``cost__<setting>`` and ``cost__<organisation>`` (and optionally
        ``practice_neighbourhood_payments_per_head_gbp``).
    baseline
        Scenario drawn first.
    colours
        Scenario colours.

    Returns
    -------
    Figure
    """
    table = require_columns(summary, ["scenario", "metric", "mean"], "summary")
    metrics = list(dict.fromkeys(table["metric"].astype(str)))
    settings = [m for m in metrics if labels.is_setting_cost(m)]
    orgs = [m for m in metrics if labels.is_organisation_cost(m)]
    names = scenarios_of(table, baseline)
    if not settings or not np.isfinite(population_size(table, names[0])):
        raise MissingDataError("no costs by setting with cost per person")
    palette = palette_for(table, colours)
    fig = new_figure(1, 1)[0]
    fig.clear()
    grid = fig.add_gridspec(1, 3, width_ratios=[1.25, 1.0, 0.75])
    ax_set, ax_org, ax_gp = (fig.add_subplot(grid[0, i]) for i in range(3))
    _cost_panel(ax_set, table, settings, names, palette, "By setting")
    if orgs:
        _cost_panel(ax_org, table, orgs, names, palette, "By who holds the money")
    else:
        ax_org.set_axis_off()
    # What reaches general practice: appointment funding plus any neighbourhood payment.
    x = np.arange(len(names))
    appts = np.array([value(table, n, "cost__general_practice") / population_size(table, n)
                      for n in names])  # fmt: skip
    extra = np.nan_to_num(
        [value(table, n, "practice_neighbourhood_payments_per_head_gbp") for n in names]
    )
    ax_gp.bar(x, np.nan_to_num(appts), 0.7, color=[palette[n] for n in names])
    ax_gp.bar(x, extra, 0.7, bottom=np.nan_to_num(appts), color=[palette[n] for n in names],
              hatch="//", edgecolor="white", alpha=0.6)  # fmt: skip
    for xi, total in zip(x, np.nan_to_num(appts) + extra, strict=True):
        ax_gp.text(
            float(xi), total, f"£{total:,.0f}", ha="center", va="bottom", fontsize=FONT["tick"]
        )
    ax_gp.set_xticks(x, [labels.scenario_label(n) for n in names], rotation=30, ha="right")
    ax_gp.set_ylabel("£ per person per year")
    ax_gp.set_title("What reaches\ngeneral practice", loc="left")
    ax_gp.margins(y=0.12)
    handles = _scenario_handles(names, palette) + [
        Patch(facecolor=LIGHT_GREY, hatch="//", edgecolor="white",
              label="Neighbourhood contract payment to practices"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5))
    fig.suptitle("Cost of care by setting and by organisation (average across replications)")
    return fig


# --------------------------------------------------------------------------- areas
AREA_TAG = "__area_"


@styled
def areas(
    summary: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    baseline: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Per-area (borough) results: one panel per KPI, areas along x, a point per scenario.

    Parameters
    ----------
    summary
        Long table with ``scenario, metric, mean, ci_low, ci_high``; per-area metrics are
        named ``<kpi>__area_<area>``.
    metrics
        Base KPI names to show (default: every KPI that has per-area values, in order).
    baseline
        Scenario drawn first.
    colours
        Scenario colours.

    Returns
    -------
    Figure
    """
    table = require_columns(summary, ["scenario", "metric", "mean", "ci_low", "ci_high"], "summary")
    parts = table["metric"].astype(str).str.partition(AREA_TAG)
    table = table.assign(kpi=parts[0], area=parts[2])[parts[1] == AREA_TAG]
    if table.empty:
        raise MissingDataError("one area only: no per-area results")
    kpis = list(dict.fromkeys(table["kpi"])) if metrics is None else list(metrics)
    kpis = [k for k in kpis if k in set(table["kpi"])]
    area_names = list(dict.fromkeys(table["area"]))
    names = scenarios_of(table, baseline)
    palette = palette_for(table, colours)
    nrows, ncols = _grid(len(kpis), max_cols=3)
    fig, axes = new_figure(nrows, ncols, squeeze=False)
    x = np.arange(len(area_names))
    width = 0.8 / max(len(names), 1)
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        info = labels.metric_info(kpi)
        rows = table[table["kpi"] == kpi]
        for i, name in enumerate(names):
            r = rows[rows["scenario"] == name].set_index("area").reindex(area_names)
            mid, lo, hi = (r[c].to_numpy(float) * info.scale for c in ("mean", "ci_low", "ci_high"))
            ok = np.isfinite(mid)
            if not ok.any():
                continue
            lo, hi = clip_to(lo, info.bounds), clip_to(hi, info.bounds)
            xs = x[ok] - 0.4 + width * (i + 0.5)
            ax.errorbar(xs, mid[ok], yerr=errors(mid[ok], lo[ok], hi[ok]), fmt="o", ms=8,
                        color=palette[name], elinewidth=2, capsize=4)  # fmt: skip
        ax.set_title(wrap(info.short_label, 30), loc="left", fontsize=FONT["base"])
        ax.set_ylabel(wrap(info.unit, 18), fontsize=FONT["small"])
        # Six borough names side by side overlap at room size: slant them when there are many.
        slant = {"rotation": 30, "ha": "right"} if len(area_names) > 4 else {}
        ax.set_xticks(x, [wrap(labels.humanise(a), 10) for a in area_names],
                      fontsize=FONT["small"], **slant)  # fmt: skip
        ax.grid(axis="y")
        mark_better(ax, info.better, axis="y")
    for ax in axes.flat[len(kpis) :]:
        ax.set_axis_off()
    fig.legend(handles=_scenario_handles(names, palette), loc="outside lower center",
               ncols=min(len(names), 6))  # fmt: skip
    fig.suptitle("Results by area (average across replications, 95% CI)")
    return fig
