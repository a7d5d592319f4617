"""Table helpers and small drawing pieces shared by the figure modules.

Every figure function takes long tables with one row per (scenario, metric): the columns of
``summary.csv`` (``metric, mean, ci_low, ci_high``) plus ``scenario``, and for paired
comparisons the ``diff_mean, diff_ci_low, diff_ci_high`` columns of ``comparison.csv``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from sim.plots import labels
from sim.plots.style import FONT, TEXT, order_scenarios, scenario_palette

BETTER_GREEN = "#1B7837"


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


def scenarios_of(table: pd.DataFrame, baseline: str | None = None) -> list[str]:
    """Scenario names in display order (baseline first)."""
    return order_scenarios(table["scenario"].astype(str), baseline)


def palette_for(table: pd.DataFrame, colours: Mapping[str, str] | None) -> dict[str, str]:
    """The caller's palette, completed for any scenario it lacks."""
    names = list(table["scenario"].astype(str).unique())
    out = scenario_palette(names)
    if colours:
        out.update({k: v for k, v in colours.items()})
    return out


def value(table: pd.DataFrame, scenario: str | None, metric: str, column: str = "mean") -> float:
    """One number from a long table, NaN when absent (or when no scenario is named)."""
    if scenario is None:
        return float("nan")
    sel = table[(table["scenario"] == scenario) & (table["metric"] == metric)]
    return float(sel[column].iloc[0]) if len(sel) and column in sel else float("nan")


def errors(mid: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Asymmetric error-bar lengths for matplotlib (NaN bounds draw no whisker)."""
    lo = np.where(np.isfinite(low), mid - low, 0.0)
    hi = np.where(np.isfinite(high), high - mid, 0.0)
    return np.vstack([np.clip(lo, 0, None), np.clip(hi, 0, None)])


def clip_to(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """Values clipped to what the measure can take (a t-interval can run past 100% or 0)."""
    return np.clip(np.asarray(values, dtype=float), bounds[0], bounds[1])


def mark_better(ax: Axes, direction: str, axis: str = "x", where: str = "top") -> None:
    """Write "better →" (or "↓ better" …) inside a panel, so nobody has to know the metric.

    Parameters
    ----------
    ax
        The axes.
    direction
        ``"higher"``, ``"lower"`` or ``"neutral"`` (neutral draws nothing).
    axis
        ``"x"``: text inside the top of the panel at the better end; ``"y"``: text in the
        panel's right corner, the arrow pointing the better way.
    where
        For ``axis="y"``: ``"top"`` (default; callers leave headroom above the data, see
        :func:`set_limits_with_headroom`) or ``"bottom"`` (for charts whose data rise to the
        right, such as a deprivation gradient).
    """
    if direction not in ("higher", "lower"):
        return
    style: dict[str, Any] = {
        "fontsize": FONT["small"],
        "color": BETTER_GREEN,
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
        up = direction == "higher"
        top = where == "top"
        ax.text(
            0.99,
            0.99 if top else 0.02,
            "↑ better" if up else "↓ better",
            transform=ax.transAxes,
            ha="right",
            va="top" if top else "bottom",
            **style,
        )


def set_limits_with_headroom(
    ax: Axes,
    values: Iterable[float],
    bounds: tuple[float, float] = (-np.inf, np.inf),
    min_span: float = 0.0,
    top: float = 0.45,
    bottom: float = 0.12,
    nbins: int = 4,
) -> None:
    """Y limits around ``values`` with room above them for the "better" note.

    Parameters
    ----------
    ax
        The axes.
    values
        Every value drawn (means and CI ends), in display units; NaNs are ignored.
    bounds
        Values the measure can take (0–100 for a percentage); the lower limit never goes
        below ``bounds[0]``, and no tick lies beyond either bound, so a percentage axis
        never reads 110%.
    min_span
        Smallest data range to show: tiny differences are not blown up to fill the panel.
    top, bottom
        Padding above and below the data, as fractions of the shown range.
    nbins
        At most this many tick intervals (large tick labels must not touch).
    """
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return
    lo, hi = float(v.min()), float(v.max())
    span = max(hi - lo, min_span, 1e-9)
    mid = (lo + hi) / 2
    lo, hi = min(lo, mid - span / 2), max(hi, mid + span / 2)
    if lo < bounds[0]:  # shift up rather than show impossible values
        lo, hi = bounds[0], max(hi, bounds[0] + span)
    span = hi - lo
    ax.set_ylim(max(lo - bottom * span, bounds[0]), hi + top * span)
    ax.yaxis.set_major_locator(BoundedLocator(bounds, nbins=nbins, steps=[1, 2, 2.5, 5, 10]))


class BoundedLocator(MaxNLocator):
    """Nice ticks (as :class:`~matplotlib.ticker.MaxNLocator`), none outside ``bounds``."""

    def __init__(self, bounds: tuple[float, float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bounds = bounds

    # matplotlib's stubs say Sequence[float]; its own MaxNLocator returns an ndarray too.
    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:  # type: ignore[override]
        """Ticks between ``vmin`` and ``vmax`` that lie within the bounds."""
        ticks = np.asarray(super().tick_values(vmin, vmax))
        eps = 1e-9 * max(1.0, float(np.nanmax(np.abs(ticks)))) if ticks.size else 0.0
        keep = (ticks >= self.bounds[0] - eps) & (ticks <= self.bounds[1] + eps)
        return ticks[keep]


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
