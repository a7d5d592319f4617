"""Hospital pressure over time, from the daily series in ``timeseries.parquet``."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.plots import labels
from sim.plots.common import MissingDataError, empty_panel
from sim.plots.style import (
    FONT,
    LIGHT_GREY,
    TEXT,
    new_figure,
    order_scenarios,
    scenario_palette,
    styled,
)

PANELS: tuple[tuple[str, str, str], ...] = (
    ("beds_occupied", "Hospital beds occupied (lower is better)", "Beds"),
    (
        "delayed_discharge_beds",
        "Beds held by people ready to leave hospital (lower is better)",
        "Beds",
    ),
)


def band(frame: pd.DataFrame, column: str, smooth_days: int = 1) -> pd.DataFrame:
    """Mean, low and high of one daily series across replications.

    Parameters
    ----------
    frame
        ``timeseries.parquet`` content: ``replication, time_days`` and series columns.
    column
        The series.
    smooth_days
        Centred rolling mean applied to each replication first (1 = none).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``time_days`` with ``mean``, ``low`` and ``high`` (the 5th and 95th
        percentiles across replications; with few replications, close to min and max).
    """
    if smooth_days > 1:
        frame = frame.sort_values(["replication", "time_days"]).assign(
            **{
                column: lambda d: d.groupby("replication")[column].transform(
                    lambda x: x.rolling(smooth_days, center=True, min_periods=1).mean()
                )
            }
        )
    by_day = frame.groupby("time_days")[column]
    return pd.DataFrame(
        {"mean": by_day.mean(), "low": by_day.quantile(0.05), "high": by_day.quantile(0.95)}
    )


def _panel(
    ax: Axes,
    series: Mapping[str, pd.DataFrame],
    column: str,
    names: list[str],
    palette: Mapping[str, str],
    smooth_days: int,
    warm_up: float | None,
) -> list[float]:
    """Draw one series per scenario; return the values drawn after the warm-up."""
    after: list[float] = []
    for name in names:
        frame = series[name]
        if column not in frame.columns:
            continue
        b = band(frame, column, smooth_days)
        # Light bands: with four scenarios, darker ones merge into one colour.
        ax.fill_between(b.index, b["low"], b["high"], color=palette[name], alpha=0.13, lw=0)
        ax.plot(b.index, b["mean"], color=palette[name], lw=3)
        counted = b[b.index >= (warm_up or 0.0)]
        after += [float(counted["low"].min()), float(counted["high"].max())]
    return after


@styled
def hospital_pressure(
    series: Mapping[str, pd.DataFrame],
    warm_up: float | None = None,
    baseline: str | None = None,
    colours: Mapping[str, str] | None = None,
    smooth_days: int = 7,
) -> Figure:
    """Beds occupied and delayed-discharge beds over time, with capacity as a line.

    Each scenario is a line (mean across replications) inside a band (5th–95th percentile
    across replications). Absent series leave their panel with a note.

    Parameters
    ----------
    series
        Scenario name to its ``timeseries.parquet`` table (``replication, time_days``,
        ``beds_occupied``, ``bed_capacity``, ``delayed_discharge_beds``).
    warm_up
        Days at the start excluded from every KPI; shaded and labelled.
    baseline
        Scenario drawn first.
    colours
        Scenario colours.
    smooth_days
        Rolling mean over this many days before plotting (day-to-day noise hides trends on
        a projected slide); 1 plots raw daily values.

    Returns
    -------
    Figure
    """
    usable = {
        k: v
        for k, v in series.items()
        if v is not None and "time_days" in v.columns and any(c in v.columns for c, *_ in PANELS)
    }
    if not usable:
        raise MissingDataError("no daily bed series (timeseries.parquet)")
    names = order_scenarios(usable, baseline)
    palette = scenario_palette(names)
    palette.update(colours or {})
    fig, axes = new_figure(2, 1, sharex=True, height_ratios=[1.6, 1.0])
    capacity = [f["bed_capacity"].max() for f in usable.values() if "bed_capacity" in f.columns]
    cap = float(np.nanmax(capacity)) if capacity else float("nan")
    for k, (ax, (column, title, ylabel)) in enumerate(zip(axes, PANELS, strict=True)):
        after = _panel(ax, usable, column, names, palette, smooth_days, warm_up)
        if not after:
            empty_panel(ax, f"{title}: not in the daily series of this run")
            continue
        ax.set_title(title, loc="left")
        ax.set_ylabel(ylabel)
        ax.grid(axis="y")
        # The y range follows the counted period: the warm-up's climb from an empty hospital
        # would otherwise squash the part that matters into a thin strip.
        values = [v for v in after if np.isfinite(v)]
        if k == 0 and np.isfinite(cap):
            values.append(cap)
        lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
        pad = 0.08 * max(hi - lo, 1.0)
        ax.set_ylim(max(0.0, lo - pad), hi + pad)
        if warm_up:
            ax.axvspan(0, warm_up, color=LIGHT_GREY, alpha=0.6, lw=0, zorder=0)
            ax.text(warm_up / 2, 0.97, "warm-up\n(not counted)", transform=ax.get_xaxis_transform(),
                    ha="center", va="top", fontsize=FONT["small"], color="#444444",
                    bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 2})  # fmt: skip
    top = axes[0]
    handles: list[Artist] = [Patch(color=palette[n], label=labels.scenario_label(n)) for n in names]
    if np.isfinite(cap) and top.has_data():
        top.axhline(cap, color=TEXT, lw=2.5, ls=(0, (5, 2)))
        top.text(top.get_xlim()[1], cap, f"  {cap:,.0f} beds", va="center",
                 ha="left", fontsize=FONT["small"])  # fmt: skip
        handles.append(Line2D([], [], color=TEXT, lw=2.5, ls=(0, (5, 2)), label="beds available"))
    handles.append(
        Patch(facecolor="#999999", alpha=0.3, label="shaded band: 5–95% of replications")
    )
    axes[-1].set_xlabel("Day of the simulated period (days)")
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6))
    smooth = f" ({smooth_days}-day average)" if smooth_days > 1 else ""
    fig.suptitle(f"Hospital pressure over time{smooth}")
    return fig
