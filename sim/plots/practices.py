"""General practice as a business: practice margins, and money to and from practices.

Both figures read each scenario's ``practices.parquet`` (one row per replication x practice x
quarter; columns in :data:`COLUMNS`). Only measured quarters (mostly after the warm-up)
count. Closed practices keep rows of zeros after they hand their contract back; they count
in the money (their list has moved to other practices) but not in the margins, which are
about practices still trading.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.plots import labels
from sim.plots.common import MissingDataError, few_ticks, require_columns
from sim.plots.style import (
    FONT,
    LIGHT_GREY,
    TEXT,
    new_figure,
    order_scenarios,
    scenario_palette,
    styled,
)

MARGIN_COLUMNS: tuple[str, ...] = ("replication", "measured", "open", "profit_per_partner_fte_gbp")
FLOW_COLUMNS: tuple[str, ...] = (
    "replication", "practice", "measured", "open", "weighted_list", "neighbourhood_payment_gbp",
    "enhanced_services_lost_gbp", "distressed", "handed_back", "quarter",
)  # fmt: skip
# Every column either figure reads: the report loads only these from practices.parquet.
COLUMNS: tuple[str, ...] = tuple(dict.fromkeys((*MARGIN_COLUMNS, *FLOW_COLUMNS)))

# A strip of more points than this per scenario is a grey smear on a projector: a fixed,
# seeded sample is drawn instead (the box always uses every value).
MAX_STRIP_POINTS = 1500
NOTE_GREY = "#555555"
# A margin further than this many 1st-to-99th-centile spans beyond that range is an extreme:
# the axis stops short of it and the footnote counts it.
EXTREME = 0.5


def _usable(
    tables: Mapping[str, pd.DataFrame | None], columns: tuple[str, ...]
) -> dict[str, pd.DataFrame]:
    """Scenarios with a practice table, each checked for ``columns``."""
    present = {k: v for k, v in tables.items() if v is not None and len(v)}
    if not present:
        raise MissingDataError("no practice table (practices.parquet)")
    for name, table in present.items():
        require_columns(table, columns, f"practices.parquet of {name}")
    return present


def _measured(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["measured"].astype(bool)]


def margins(table: pd.DataFrame) -> np.ndarray:
    """Profit per partner FTE (GBP a year) of every measured, open practice-quarter.

    Quarters of practices without partners (NaN) are left out.
    """
    rows = _measured(table)
    rows = rows[rows["open"].astype(bool)]
    values = pd.to_numeric(rows["profit_per_partner_fte_gbp"], errors="coerce").to_numpy(float)
    return values[np.isfinite(values)]


def _per_replication(table: pd.DataFrame) -> pd.DataFrame:
    """Money and strain of one scenario, one row per replication (measured quarters only)."""
    practices = table.groupby("replication")["practice"].nunique()
    rows = []
    for rep, m in _measured(table).groupby("replication"):
        weighted = float(m["weighted_list"].sum())
        open_rows = m[m["open"].astype(bool)]
        n = float(practices.get(rep, 0))
        # Sum over quarters of money over sum over quarters of list: per weighted patient per
        # quarter (the list averaged over quarters), x 4 for a year.
        per_patient = 4.0 / weighted if weighted > 0 else float("nan")
        rows.append(
            {
                "replication": rep,
                "payment_in": float(m["neighbourhood_payment_gbp"].sum()) * per_patient,
                "moved_out": float(m["enhanced_services_lost_gbp"].sum()) * per_patient,
                "distressed_share": float(open_rows["distressed"].astype(bool).mean())
                if len(open_rows)
                else float("nan"),
                "handed_back_share": float(m["handed_back"].astype(bool).sum()) / n
                if n
                else float("nan"),
                "years": m["quarter"].nunique() / 4.0,
            }
        )
    return pd.DataFrame(rows)


def flow_summary(tables: Mapping[str, pd.DataFrame | None]) -> pd.DataFrame:
    """Money to and from practices and the practices under strain, means over replications.

    Parameters
    ----------
    tables
        Scenario name to its ``practices.parquet`` table (``None`` when it has none).

    Returns
    -------
    pandas.DataFrame
        Indexed by scenario: ``payment_in`` (neighbourhood payments, GBP per weighted patient
        a year), ``moved_out`` (enhanced-service income moved out of practices, same unit),
        ``distressed_share`` (share of open practice-quarters below the distress threshold),
        ``handed_back_share`` (share of practices that handed their contract back during
        the measured years) and ``years`` (measured years).

    Raises
    ------
    MissingDataError
        If no scenario has a table, a table lacks a column, or none has a measured quarter.
    """
    usable = _usable(tables, FLOW_COLUMNS)
    per_rep = {n: _per_replication(t) for n, t in usable.items()}
    out = {n: r.drop(columns="replication").mean() for n, r in per_rep.items() if len(r)}
    if not out:
        raise MissingDataError("no measured quarter in practices.parquet (all in the warm-up)")
    return pd.DataFrame(out).T


def _money(value: float) -> str:
    """GBP at a precision that shows small per-patient sums: £0.84, £12.3, £1,234."""
    size = abs(value)
    text = f"{size:,.0f}" if size >= 100 else f"{size:.1f}" if size >= 10 else f"{size:.2f}"
    return f"−£{text}" if value < 0 else f"£{text}"


def _percent(share: float) -> str:
    pct = 100 * share
    return f"{pct:.0f}%" if pct >= 10 or pct == 0 else f"{pct:.1f}%"


def _palette(names: list[str], colours: Mapping[str, str] | None) -> dict[str, str]:
    out = scenario_palette(names)
    out.update(colours or {})
    return out


# --------------------------------------------------------------------------- margins
@styled
def margin_distribution(
    tables: Mapping[str, pd.DataFrame | None],
    threshold: float | None,
    *,
    baseline: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """How practices' margins spread, per scenario: a box over a strip of practice-quarters.

    Parameters
    ----------
    tables
        Scenario name to its ``practices.parquet`` table (``None`` when it has none).
    threshold
        The distress threshold, GBP of profit per partner FTE a year: a dashed line, and the
        share of practice-quarters below it under each scenario's name. ``None``: no line.
    baseline
        Scenario drawn first.
    colours
        Scenario colours (the report's palette).

    Returns
    -------
    Figure
        One box per scenario (artist gid ``box:<scenario>``), the line's gid ``threshold``.

    Raises
    ------
    MissingDataError
        If no scenario has a table, a table lacks a column, or no open measured quarter has
        a margin.
    """
    usable = _usable(tables, MARGIN_COLUMNS)
    values = {name: margins(t) / 1000.0 for name, t in usable.items()}
    names = [n for n in order_scenarios(values, baseline) if values[n].size]
    if not names:
        raise MissingDataError("no measured open practice-quarter with a profit per partner")
    palette = _palette(names, colours)
    fig, ax = new_figure(1, 1)
    line = None if threshold is None or not np.isfinite(threshold) else threshold / 1000.0
    for x, name in enumerate(names):
        v = values[name]
        shown, jitter = _strip(v)
        ax.scatter(x + jitter, shown, s=14, color=palette[name], alpha=0.25, lw=0, zorder=1)
    box = ax.boxplot(
        [values[n] for n in names],
        positions=range(len(names)),
        widths=0.55,
        whis=(5, 95),  # whiskers at the 5th and 95th centiles: a range people can read
        patch_artist=True,
        showfliers=False,
        medianprops={"color": TEXT, "lw": 3},
        whiskerprops={"color": TEXT, "lw": 2},
        capprops={"color": TEXT, "lw": 2},
        zorder=2,
    )
    for patch, name in zip(box["boxes"], names, strict=True):
        patch.set(facecolor=palette[name], alpha=0.55, edgecolor=TEXT, lw=2)
        patch.set_gid(f"box:{name}")
    for x, name in enumerate(names):
        median = float(np.median(values[name]))
        ax.text(x + 0.3, median, f"£{median:,.0f}k", va="center", ha="left",
                fontsize=FONT["tick"], fontweight="bold", color=TEXT, zorder=4,
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1})  # fmt: skip
    ticks = []
    for name in names:
        text = labels.scenario_label(name)
        if line is not None:
            below = float(np.mean(values[name] < line))
            text += f"\n{_percent(below)} below the line"
        ticks.append(text)
    ax.set_xticks(range(len(names)), ticks)
    ax.set_xlim(-0.6, len(names) - 0.4)
    hidden = _set_ylim(ax, np.concatenate([values[n] for n in names]), line)
    if line is not None:
        ax.axhline(line, color=TEXT, lw=2.5, ls=(0, (6, 3)), zorder=3, gid="threshold")
        ax.annotate(f"Distress threshold £{line:,.0f}k", (len(names) - 0.42, line),
                    xytext=(0, 5), textcoords="offset points", ha="right", va="bottom",
                    fontsize=FONT["small"], color=TEXT, zorder=4,
                    bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1})  # fmt: skip
    ax.axhline(0, color=LIGHT_GREY, lw=1.5, zorder=0)
    ax.set_ylabel("Profit per partner FTE (£ thousand a year)")
    ax.grid(axis="y")
    foot = (
        "Each dot is one practice in one quarter after the warm-up (open practices; all "
        "replications); box: middle half, line: median, whiskers: 5th to 95th centile."
    )
    if any(values[n].size > MAX_STRIP_POINTS for n in names):
        foot += f" Dots: {MAX_STRIP_POINTS:,} evenly spaced centiles per arrangement."
    if hidden:
        values_word = "value lies" if hidden == 1 else "values lie"
        foot += f"\n{hidden:,} extreme {values_word} beyond the axis (not shown)."
    fig.supxlabel(foot, fontsize=FONT["small"], color=NOTE_GREY)
    fig.suptitle("Practice margins: profit per partner (full-time equivalent) a year")
    return fig


def _strip(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points of a strip and their sideways offsets, the same every time (no random draws).

    Above :data:`MAX_STRIP_POINTS`, evenly spaced order statistics stand for the rest, so
    the strip keeps the distribution's shape; offsets follow the golden-ratio sequence,
    which spreads points evenly across the strip's width.
    """
    v = np.sort(values)
    if v.size > MAX_STRIP_POINTS:
        v = v[np.linspace(0, v.size - 1, MAX_STRIP_POINTS).round().astype(int)]
    offsets = (np.arange(v.size) * 0.6180339887 % 1.0 - 0.5) * 0.44
    return v, offsets


def _set_ylim(ax: Axes, values: np.ndarray, line: float | None) -> int:
    """Y limits around every value (and the line), unless a few extremes would squash the
    rest: then around the 1st to 99th centile. Returns how many values lie beyond the axis.

    A practice with a small partner FTE can show a margin many times the others'; letting it
    set the axis would squash every box into a line.
    """
    core = [float(q) for q in np.percentile(values, [1, 99])]
    whole = [float(values.min()), float(values.max())]
    core_span = max(core[1] - core[0], 1.0)
    lo, hi = whole
    if hi > core[1] + EXTREME * core_span:
        hi = core[1] + 0.1 * core_span
    if lo < core[0] - EXTREME * core_span:
        lo = core[0] - 0.1 * core_span
    if line is not None:
        lo, hi = min(lo, line), max(hi, line)
    span = max(hi - lo, 1.0)
    bottom, top = lo - 0.06 * span, hi + 0.06 * span
    ax.set_ylim(bottom, top)
    return int(np.sum((values < bottom) | (values > top)))


# --------------------------------------------------------------------------- flows
@styled
def practice_flows(
    tables: Mapping[str, pd.DataFrame | None],
    *,
    baseline: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Money to and from practices per weighted patient a year, and practices under strain.

    Left: diverging bars per scenario, neighbourhood payments to practices to the right
    (gid ``in:<scenario>``), enhanced-service income moved out of practices to the left
    (gid ``out:<scenario>``, drawn negative), the net as a diamond. Right: the share of
    open practice-quarters in distress (gid ``distressed:<scenario>``) and the share of
    practices that handed their contract back (gid ``handed_back:<scenario>``). Means over
    replications (:func:`flow_summary`).

    Parameters
    ----------
    tables
        Scenario name to its ``practices.parquet`` table (``None`` when it has none).
    baseline
        Scenario drawn first (at the top).
    colours
        Scenario colours (the report's palette).

    Returns
    -------
    Figure

    Raises
    ------
    MissingDataError
        As :func:`flow_summary`.
    """
    summary = flow_summary(tables)
    names = order_scenarios(summary.index.astype(str), baseline)
    palette = _palette(names, colours)
    fig = new_figure(1, 1)[0]
    fig.clear()
    grid = fig.add_gridspec(1, 3, width_ratios=[1.9, 1.0, 1.0])
    money = fig.add_subplot(grid[0, 0])
    strain = [fig.add_subplot(grid[0, i], sharey=money) for i in (1, 2)]
    y = np.arange(len(names))[::-1].astype(float)  # the baseline on top
    _money_panel(money, summary, names, palette, y)
    years = float(summary["years"].max())
    panels = (
        ("distressed", "distressed_share", "In distress", "% of practice-quarters"),
        ("handed_back", "handed_back_share", "Handed contract back",
         f"% of practices in {'a year' if years == 1 else f'{years:g} years'}"),
    )  # fmt: skip
    for ax, (gid, column, title, unit) in zip(strain, panels, strict=True):
        shares = summary.loc[names, column].to_numpy(float)
        bars = ax.barh(y, np.nan_to_num(shares) * 100, 0.7, color=[palette[n] for n in names])
        for bar, name, share in zip(bars, names, shares, strict=True):
            bar.set_gid(f"{gid}:{name}")
            text = _percent(share) if np.isfinite(share) else "–"
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {text}",
                    va="center", ha="left", fontsize=FONT["tick"], color=TEXT)  # fmt: skip
        top = np.nanmax(np.append(shares * 100, 1.0))
        ax.set_xlim(0, top * 1.45)
        few_ticks(ax, "x", n=4)  # big tick labels on a narrow panel must not touch
        ax.set_xlabel(unit)
        ax.set_title(title, loc="left", fontsize=FONT["base"])
        ax.tick_params(axis="y", left=False, labelleft=False)
        ax.spines["left"].set_visible(False)
        ax.grid(axis="x")
    handles = [
        Patch(facecolor="#8C8C8C", label="Neighbourhood payments to practices"),
        Patch(facecolor="#8C8C8C", alpha=0.45, hatch="//", edgecolor="white",
              label="Enhanced-service income moved out of practices"),
        money.scatter([], [], marker="D", s=90, color=TEXT, label="Net"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncols=3)
    fig.get_layout_engine().set(wspace=0.06)  # type: ignore[union-attr, call-arg]
    fig.suptitle("Money to and from general practice, and practices under strain")
    return fig


def _money_panel(
    ax: Axes, summary: pd.DataFrame, names: list[str], palette: Mapping[str, str], y: np.ndarray
) -> None:
    """Diverging bars: money in to the right, money out to the left, the net as a diamond."""
    inflow = np.nan_to_num(summary.loc[names, "payment_in"].to_numpy(float))
    outflow = np.nan_to_num(summary.loc[names, "moved_out"].to_numpy(float))
    colours = [palette[n] for n in names]
    bars_in = ax.barh(y, inflow, 0.7, color=colours)
    bars_out = ax.barh(y, -outflow, 0.7, color=colours, alpha=0.45, hatch="//",
                       edgecolor="white")  # fmt: skip
    span = max(float(np.max(inflow, initial=0.0)), float(np.max(outflow, initial=0.0)), 0.01)
    for k, name in enumerate(names):
        bars_in[k].set_gid(f"in:{name}")
        bars_out[k].set_gid(f"out:{name}")
        # Where nothing flows the other way the net diamond sits on the bar's end: the label
        # starts past it rather than under it.
        gap_in = 0.07 if outflow[k] == 0 else 0.02
        gap_out = 0.07 if inflow[k] == 0 else 0.02
        if inflow[k] > 0:
            ax.text(inflow[k] + gap_in * span, y[k], _money(inflow[k]), va="center",
                    ha="left", fontsize=FONT["tick"], color=TEXT)  # fmt: skip
        if outflow[k] > 0:
            ax.text(-outflow[k] - gap_out * span, y[k], _money(-outflow[k]), va="center",
                    ha="right", fontsize=FONT["tick"], color=TEXT)  # fmt: skip
        if inflow[k] == 0 and outflow[k] == 0:
            ax.text(0.03 * span, y[k] + 0.2, "no money moved", va="bottom", ha="left",
                    fontsize=FONT["small"], color=NOTE_GREY)  # fmt: skip
        net = inflow[k] - outflow[k]
        ax.scatter([net], [y[k]], marker="D", s=90, color=TEXT, zorder=4, gid=f"net:{name}")
    ax.axvline(0, color=TEXT, lw=1.5)
    ax.set_xlim(-1.45 * span, 1.45 * span)
    ax.set_yticks(y, [labels.scenario_label(n) for n in names])
    ax.set_xlabel("£ per weighted patient a year")
    ax.set_title("← moved out of practices  |  paid to practices →", loc="center",
                 fontsize=FONT["base"])  # fmt: skip
    ax.grid(axis="x")
