"""Tornado chart: which assumptions move the headline difference most."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.plots import labels
from sim.plots.common import MissingDataError, mark_better, require_columns
from sim.plots.style import FONT, GREY, OKABE_ITO, TEXT, new_figure, styled

LOW_COLOUR = OKABE_ITO["sky_blue"]
HIGH_COLOUR = OKABE_ITO["vermillion"]


def tornado_table(
    sensitivity: pd.DataFrame, metric: str, column: str = "diff_mean"
) -> tuple[pd.DataFrame, float]:
    """Low and high results per assumption, sorted by swing, and the central value.

    Parameters
    ----------
    sensitivity
        A comparison table with ``assumption`` (the varied key), ``level`` (``low``,
        ``high``, and optionally ``central``/``base`` rows), ``metric`` and ``column``;
        optional ``value`` holds the assumption's value at that level.
    metric
        The headline metric.
    column
        The result to plot (default: the paired difference from the baseline).

    Returns
    -------
    tuple
        (table indexed by assumption with ``low, high, swing`` and optionally
        ``low_value, high_value``, largest swing first; central value or NaN).
    """
    table = require_columns(sensitivity, ["assumption", "level", "metric", column], "sensitivity")
    rows = table[table["metric"] == metric]
    if rows.empty:
        raise MissingDataError(f"no sensitivity results for {metric}")
    level = rows["level"].astype(str).str.lower()
    central_rows = rows[level.isin(["central", "base", "default"])]
    central = float(central_rows[column].mean()) if len(central_rows) else float("nan")
    wide = rows[level.isin(["low", "high"])].pivot_table(
        index="assumption",
        columns=level[level.isin(["low", "high"])],
        values=column,
        aggfunc="mean",
    )
    if not {"low", "high"} <= set(wide.columns):
        raise MissingDataError("sensitivity table needs both low and high levels")
    out = wide[["low", "high"]].copy()
    if "value" in rows.columns:
        vals = rows[level.isin(["low", "high"])].pivot_table(
            index="assumption", columns=level[level.isin(["low", "high"])], values="value",
            aggfunc="first",
        )  # fmt: skip
        out["low_value"] = vals.get("low")
        out["high_value"] = vals.get("high")
    out["swing"] = (out["high"] - out["low"]).abs()
    out = out.dropna(subset=["low", "high"]).sort_values("swing", ascending=False)
    if out.empty:
        raise MissingDataError("no assumption has both low and high results")
    return out, central


@styled
def tornado(
    sensitivity: pd.DataFrame,
    metric: str = "emergency_admissions_per_1000",
    column: str = "diff_mean",
    scenario: str | None = None,
    top: int = 12,
    baseline: str | None = None,
) -> Figure:
    """Bars from the central result to each assumption's low and high result, largest first.

    Parameters
    ----------
    sensitivity
        See :func:`tornado_table`; if it has a ``scenario`` column, pass ``scenario``.
    metric
        The headline metric whose difference is plotted.
    column
        ``diff_mean`` (difference from the baseline) or ``mean``.
    scenario
        Keep only rows of this scenario.
    top
        At most this many assumptions (the rest move the result less).
    baseline
        Name of the scenario the differences are taken from (for the axis text).

    Returns
    -------
    Figure
    """
    if scenario is not None and "scenario" in sensitivity.columns:
        sensitivity = sensitivity[sensitivity["scenario"] == scenario]
    table, central = tornado_table(sensitivity, metric, column)
    table = table.head(top)
    info = labels.metric_info(metric)
    s = info.scale
    centre = (
        central * s if np.isfinite(central) else float(table[["low", "high"]].mean().mean() * s)
    )
    fig, ax = new_figure(1, 1)
    y = np.arange(len(table))[::-1]
    ticks = []
    for yi, (name, row) in zip(y, table.iterrows(), strict=True):
        sides = [("low", LOW_COLOUR), ("high", HIGH_COLOUR)]
        # Longer bar first: when both ends fall on one side, the shorter stays visible on top.
        sides.sort(key=lambda sc: -abs(row[sc[0]] * s - centre))
        for side, colour in sides:
            v = row[side] * s
            ax.barh(yi, v - centre, left=centre, height=0.6, color=colour)
            ax.text(v, yi, f" {v:+.3g} " if column.startswith("diff") else f" {v:.3g} ",
                    va="center", ha="left" if v >= centre else "right",
                    fontsize=FONT["small"])  # fmt: skip
        text = labels.assumption_label(name)
        if "low_value" in row and pd.notna(row.get("low_value")):
            text += f"\n({row['low_value']} to {row['high_value']})"
        ticks.append(text)
    ax.axvline(centre, color=TEXT if np.isfinite(central) else GREY, lw=2)
    if column.startswith("diff"):
        ax.axvline(0, color=GREY, lw=1.5, ls="--")
    ax.set_yticks(y, ticks)
    ax.margins(x=0.15)
    if np.isfinite(central):
        ax.text(centre, 1.0, f"central assumptions: {centre:+.3g}", ha="center", va="bottom",
                transform=ax.get_xaxis_transform(), fontsize=FONT["small"])  # fmt: skip
    diff = column.startswith("diff")
    what = f"Difference from {labels.baseline_phrase(baseline)}" if diff else info.short_label
    unit = info.diff_unit if column.startswith("diff") else info.unit
    ax.set_xlabel(f"{what}: {info.short_label.lower()} ({unit})")
    ax.grid(axis="x")
    mark_better(ax, info.better)
    handles = [
        Patch(color=LOW_COLOUR, label="assumption at its low value"),
        Patch(color=HIGH_COLOUR, label="assumption at its high value"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2)
    who = f" ({labels.scenario_label(scenario)})" if scenario else ""
    fig.suptitle(f"Which assumptions move the result most{who}: {info.label.lower()}")
    return fig
