"""Warm-up figure: each daily series with its MSER-5 truncation point and the configured warm-up.

A pure function of the tables :mod:`sim.analysis.warmup` computes (``warmup.csv`` and the smoothed
series); it never runs the model.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.plots.common import MissingDataError, require_columns
from sim.plots.style import FONT, LIGHT_GREY, TEXT, new_figure, scenario_palette, styled

MAX_PANELS = 16


@styled
def warmup_figure(series: pd.DataFrame, results: pd.DataFrame) -> Figure:
    """Small multiples, one panel per series: the Welch-smoothed mean of each scenario.

    The configured warm-up is shaded; each scenario's MSER-5 truncation point is a vertical
    line in its colour (dotted when MSER-5 was inconclusive).

    Parameters
    ----------
    series
        Long table ``scenario, series, time, mean, smoothed``
        (:func:`sim.analysis.warmup.smoothed_series`).
    results
        ``warmup.csv``: ``scenario, series, truncation_days, configured_warm_up, conclusive``.

    Returns
    -------
    Figure
    """
    require_columns(series, ("scenario", "series", "time", "smoothed"), "smoothed series")
    require_columns(
        results,
        ("scenario", "series", "truncation_days", "configured_warm_up", "conclusive"),
        "warm-up results",
    )
    names = list(dict.fromkeys(results["series"]))[:MAX_PANELS]
    if not names:
        raise MissingDataError("no series to show")
    scenarios = list(dict.fromkeys(results["scenario"]))
    palette = scenario_palette(scenarios)
    ncols = min(4, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = new_figure(nrows, ncols, squeeze=False, sharex=True)
    flat = axes.ravel()
    for ax, name in zip(flat, names, strict=False):
        warm = float(results.loc[results["series"] == name, "configured_warm_up"].max())
        ax.axvspan(0, warm, color=LIGHT_GREY, alpha=0.6, lw=0, zorder=0)
        for scenario in scenarios:
            part = series[(series["series"] == name) & (series["scenario"] == scenario)]
            ax.plot(part["time"], part["smoothed"], color=palette[scenario], lw=1.8)
            row = results[(results["series"] == name) & (results["scenario"] == scenario)]
            if len(row) and np.isfinite(row["truncation_days"].iloc[0]):
                conclusive = bool(row["conclusive"].iloc[0])
                ax.axvline(
                    float(row["truncation_days"].iloc[0]),
                    color=palette[scenario],
                    lw=2.2,
                    ls="-" if conclusive else ":",
                )
        ax.set_title(name.replace("_", " "), loc="left", fontsize=FONT["small"])
        ax.tick_params(labelsize=FONT["small"] - 2)
        ax.grid(axis="y")
    for ax in flat[len(names) :]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=palette[s], lw=2.2, label=s) for s in scenarios[:6]]
    handles += [
        Line2D([], [], color=TEXT, lw=2.2, label="MSER-5 truncation"),
        Line2D([], [], color=TEXT, lw=2.2, ls=":", label="MSER-5 inconclusive"),
        Line2D([], [], color=LIGHT_GREY, lw=8, label="configured warm-up"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5))
    fig.suptitle("Warm-up: Welch-smoothed mean across replications, MSER-5 truncation")
    return fig
