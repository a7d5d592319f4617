"""Table helpers and small drawing pieces shared by the figure modules.

Every figure function takes long tables with one row per (scenario, metric): the columns of
``summary.csv`` (``metric, mean, ci_low, ci_high``) plus ``scenario``, and for paired
comparisons the ``diff_mean, diff_ci_low, diff_ci_high`` columns of ``comparison.csv``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from sim.plots import labels
from sim.plots.style import BASELINE, FONT, TEXT, order_scenarios, scenario_palette


class MissingDataError(ValueError):
    """A figure's inputs lack the rows or columns it needs (the report skips it with a note)."""


def require_columns(table: pd.DataFrame | None, columns: Iterable[str], what: str) -> pd.DataFrame:
    """Return ``table`` if it has every column, else raise :class:`MissingDataError`.

    Parameters
    ----------
    table
        The input table (``None`` counts as missing).
    columns
        Columns the figure needs.
    what
        Name of the table, for the message.
    """
    if table is None or len(table) == 0:
        raise MissingDataError(f"no {what}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise MissingDataError(f"{what} has no column {', '.join(missing)}")
    return table


def metric_rows(table: pd.DataFrame, metrics: Iterable[str]) -> pd.DataFrame:
    """Rows of ``table`` for the given metrics, in the given order (absent metrics dropped)."""
    wanted = list(dict.fromkeys(metrics))
    rows = table[table["metric"].isin(wanted)].copy()
    rows["metric"] = pd.Categorical(rows["metric"], categories=wanted, ordered=True)
    return rows.sort_values(["metric"]).assign(metric=lambda d: d["metric"].astype(str))


def present_metrics(table: pd.DataFrame, metrics: Iterable[str], column: str = "mean") -> list[str]:
    """The metrics that have at least one finite value in ``column``."""
    have = table.loc[np.isfinite(pd.to_numeric(table[column], errors="coerce")), "metric"]
    have_set = set(have)
    return [m for m in metrics if m in have_set]


def scenarios_of(table: pd.DataFrame, baseline: str = BASELINE) -> list[str]:
    """Scenario names in display order (baseline first)."""
    return order_scenarios(table["scenario"].astype(str), baseline)


def palette_for(table: pd.DataFrame, colours: Mapping[str, str] | None) -> dict[str, str]:
    """The caller's palette, completed for any scenario it lacks."""
    names = list(table["scenario"].astype(str).unique())
    out = scenario_palette(names)
    if colours:
        out.update({k: v for k, v in colours.items()})
    return out


def value(table: pd.DataFrame, scenario: str, metric: str, column: str = "mean") -> float:
    """One number from a long table, NaN when absent."""
    sel = table[(table["scenario"] == scenario) & (table["metric"] == metric)]
    return float(sel[column].iloc[0]) if len(sel) and column in sel else float("nan")


def errors(mid: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Asymmetric error-bar lengths for matplotlib (NaN bounds draw no whisker)."""
    lo = np.where(np.isfinite(low), mid - low, 0.0)
    hi = np.where(np.isfinite(high), high - mid, 0.0)
    return np.vstack([np.clip(lo, 0, None), np.clip(hi, 0, None)])


def mark_better(ax: Axes, direction: str, axis: str = "x") -> None:
    """Write "better →" (or "← better") along an axis, so nobody has to know the metric.

    Parameters
    ----------
    ax
        The axes.
    direction
        ``"higher"``, ``"lower"`` or ``"neutral"`` (neutral draws nothing).
    axis
        ``"x"``: text under the axis at the better end; ``"y"``: text beside the top or bottom.
    """
    if direction not in ("higher", "lower"):
        return
    style = {
        "fontsize": FONT["small"],
        "color": "#1B7837",
        "fontweight": "bold",
        "zorder": 10,
        "bbox": {"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 2},
    }
    if axis == "x":
        # Inside the top of the panel, at the better end; x limits may run either way.
        right = (direction == "higher") == (not ax.xaxis_inverted())
        ax.text(
            0.99 if right else 0.01,
            0.99,
            "better →" if right else "← better",
            transform=ax.transAxes,
            ha="right" if right else "left",
            va="top",
            **style,
        )
    else:
        # Inside the panel's right edge, at the better end; callers leave y margins for it.
        up = direction == "higher"
        ax.text(
            0.99,
            0.98 if up else 0.02,
            "↑ better" if up else "↓ better",
            transform=ax.transAxes,
            ha="right",
            va="top" if up else "bottom",
            **style,
        )


def note(ax: Axes, text: str) -> None:
    """A small grey note in the bottom-left corner of a panel."""
    ax.text(
        0.0,
        -0.02,
        text,
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=FONT["small"],
        color="#555555",
    )


def empty_panel(ax: Axes, message: str) -> None:
    """A panel that says why it is empty, instead of a blank square."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=FONT["small"], color=TEXT,
            transform=ax.transAxes, wrap=True)  # fmt: skip


def scenario_legend_labels(names: Iterable[str]) -> list[str]:
    """Plain-English legend text for scenarios."""
    return [labels.scenario_label(n) for n in names]


def wrap(text: str, width: int = 26) -> str:
    """Break a label over lines of at most ``width`` characters (panels are narrow)."""
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def few_ticks(ax: Axes, axis: str = "x", n: int = 5) -> None:
    """At most ``n`` ticks on an axis, so big tick labels never run into each other."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10]))
