"""Patient flows between settings as a Sankey-style diagram, drawn with matplotlib patches.

The flow table is built from the KPIs (always available) and, when the event log exists,
refined with where people went after hospital. Flows are per 1,000 people per year.
General practice appointments are an order of magnitude larger than urgent flows, so they
are stated in a note rather than drawn, which would flatten everything else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from sim.plots.common import MissingDataError
from sim.plots.style import CATEGORY_COLOURS, FONT, OKABE_ITO, TEXT, new_figure, styled

STAGE_TITLES = ("How people arrive", "Where they are seen", "What happens next", "After hospital")

NODE_COLOURS: dict[str, str] = {
    "By ambulance": OKABE_ITO["vermillion"],
    "Walk-in to A&E": OKABE_ITO["orange"],
    "Walk-in to UTC": OKABE_ITO["yellow"],
    "Crisis at home": OKABE_ITO["bluish_green"],
    "Major A&E": OKABE_ITO["vermillion"],
    "Urgent treatment centre": OKABE_ITO["orange"],
    "Urgent community response": OKABE_ITO["bluish_green"],
    "Admitted to hospital": OKABE_ITO["blue"],
    "Went home": "#8C8C8C",
    "Home": "#8C8C8C",
    "Community step-down": OKABE_ITO["sky_blue"],
    "Virtual ward": "#44AA99",
    "Care home": CATEGORY_COLOURS["care_home"],
    "End-of-life care": OKABE_ITO["reddish_purple"],
    "Died in hospital": "#333333",
    "Left hospital": "#8C8C8C",
}

# Onward-care events that start at the moment of discharge, and the node they feed.
ONWARD_EVENTS: dict[str, str] = {
    "step_down_start": "Community step-down",
    "virtual_ward_start": "Virtual ward",
    "care_home_admission": "Care home",
    "eol_enrolment": "End-of-life care",
    "social_care_start": "Home with social care",  # a council package (discharge pathway 1)
}


def _get(kpis: Mapping[str, float], key: str) -> float:
    v = kpis.get(key, np.nan)
    return float(v) if v is not None and np.isfinite(v) else float("nan")


def flows_from_kpis(
    kpis: Mapping[str, float], after_hospital: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Flows between settings, per 1,000 people per year, from one scenario's KPI means.

    Parameters
    ----------
    kpis
        Metric name to mean value (``ambulance_conveyances_per_1000``,
        ``ed_type1_attendances_per_1000``, ``ed_attendances_per_1000``,
        ``ucr_responses_per_1000``, ``emergency_admissions_per_1000``, ``deaths_per_1000``,
        ``death_place_hospital_share``).
    after_hospital
        Optional shares of live discharges by destination node (from
        :func:`discharge_shares`); without it, live discharges are one "Left hospital" node.

    Returns
    -------
    pandas.DataFrame
        ``source, target, value`` rows with positive values.

    Raises
    ------
    MissingDataError
        If there are no A&E attendances or admissions to draw.
    """
    type1 = _get(kpis, "ed_type1_attendances_per_1000")
    all_ed = _get(kpis, "ed_attendances_per_1000")
    admitted = _get(kpis, "emergency_admissions_per_1000")
    if not (np.isfinite(type1) or np.isfinite(all_ed)) or not np.isfinite(admitted):
        raise MissingDataError("no A&E attendance or emergency admission rates")
    if not np.isfinite(type1):
        type1 = all_ed
    utc = max(0.0, all_ed - type1) if np.isfinite(all_ed) else 0.0
    ambulance = min(np.nan_to_num(_get(kpis, "ambulance_conveyances_per_1000")), type1)
    ucr = np.nan_to_num(_get(kpis, "ucr_responses_per_1000"))
    died = np.nan_to_num(_get(kpis, "deaths_per_1000") * _get(kpis, "death_place_hospital_share"))
    died = min(died, admitted)
    rows = [
        ("By ambulance", "Major A&E", ambulance),
        ("Walk-in to A&E", "Major A&E", type1 - ambulance),
        ("Walk-in to UTC", "Urgent treatment centre", utc),
        ("Crisis at home", "Urgent community response", ucr),
        ("Major A&E", "Admitted to hospital", min(admitted, type1)),
        ("Major A&E", "Went home", max(0.0, type1 - admitted)),
        ("Urgent treatment centre", "Went home", utc),
        ("Urgent community response", "Went home", ucr),
        ("Admitted to hospital", "Died in hospital", died),
    ]
    alive = min(admitted, type1) - died
    if after_hospital:
        for node, share in after_hospital.items():
            rows.append(("Admitted to hospital", node, alive * share))
    else:
        rows.append(("Admitted to hospital", "Left hospital", alive))
    table = pd.DataFrame(rows, columns=["source", "target", "value"])
    return table[table["value"] > 0].reset_index(drop=True)


def discharge_shares(events: pd.DataFrame, warm_up: float = 0.0) -> dict[str, float]:
    """Where people went when they left hospital alive, as shares of live discharges.

    An onward-care start (step-down, virtual ward, care home, end-of-life care) recorded for
    the same person at the same time as their discharge counts as that destination; the rest
    went home.

    Parameters
    ----------
    events
        The event log (``events.parquet``): ``time_days, person_id, event`` and optionally
        ``replication``.
    warm_up
        Events before this time are ignored.

    Returns
    -------
    dict[str, float]
        Node name to share, summing to 1 (empty if there were no discharges).
    """
    need = {"time_days", "person_id", "event"}
    if not need <= set(events.columns):
        return {}
    keys = ["person_id", "time_days"]
    if "replication" in events.columns:
        keys.insert(0, "replication")
    post = events[events["time_days"] >= warm_up]
    event = post["event"].astype(str)
    discharges = post.loc[event == "discharge", keys].drop_duplicates()
    if discharges.empty:
        return {}
    onward = post.loc[event.isin(list(ONWARD_EVENTS)), [*keys]].assign(
        node=event[event.isin(list(ONWARD_EVENTS))].map(ONWARD_EVENTS)
    )
    joined = discharges.merge(onward.drop_duplicates(keys), on=keys, how="left")
    counts = joined["node"].fillna("Home").value_counts()
    order = ["Home", *ONWARD_EVENTS.values()]
    total = float(counts.sum())
    return {n: float(counts.get(n, 0)) / total for n in order if counts.get(n, 0) > 0}


def _stages(flows: pd.DataFrame) -> dict[str, int]:
    """Column of each node: the longest path to it from a node with no inflow."""
    stage = {n: 0 for n in pd.unique(flows[["source", "target"]].to_numpy().ravel())}
    for _ in range(len(stage)):
        changed = False
        for s, t in zip(flows["source"], flows["target"], strict=True):
            if stage[t] < stage[s] + 1:
                stage[t] = stage[s] + 1
                changed = True
        if not changed:
            break
    return stage


def _band(x0: float, x1: float, y0: tuple[float, float], y1: tuple[float, float]) -> Path:
    """A ribbon from (x0, y0 bottom..top) to (x1, y1 bottom..top) with smooth S-curves."""
    xm = (x0 + x1) / 2
    verts = [
        (x0, y0[0]), (xm, y0[0]), (xm, y1[0]), (x1, y1[0]),
        (x1, y1[1]), (xm, y1[1]), (xm, y0[1]), (x0, y0[1]), (x0, y0[0]),
    ]  # fmt: skip
    codes = [Path.MOVETO, *[Path.CURVE4] * 3, Path.LINETO, *[Path.CURVE4] * 3, Path.CLOSEPOLY]
    return Path(verts, codes)


def _spread(centre: dict[str, float], stage: dict[str, int], min_gap: float) -> dict[str, float]:
    """Label heights moved apart (downwards, top to bottom) so labels in a column never touch."""
    out = dict(centre)
    for s in set(stage.values()):
        col = sorted((n for n in centre if stage[n] == s), key=lambda n: -centre[n])
        for above, below in zip(col, col[1:], strict=False):
            out[below] = min(out[below], out[above] - min_gap)
    return out


@styled
def sankey(
    flows: pd.DataFrame,
    title: str = "Patient flows",
    unit: str = "per 1,000 people per year",
    note_text: str = "",
) -> Figure:
    """Draw a layered Sankey diagram of ``source → target`` flows with matplotlib patches.

    Node heights are proportional to flow; every node is labelled with its value so that thin
    ribbons stay readable.

    Parameters
    ----------
    flows
        ``source, target, value`` rows (an acyclic graph).
    title
        Figure title.
    unit
        Unit of ``value``, shown in the subtitle.
    note_text
        Extra line under the diagram (e.g. flows not drawn to scale).

    Returns
    -------
    Figure
    """
    fig, ax = new_figure(1, 1)
    _draw(ax, flows, note_text)
    fig.suptitle(f"{title} ({unit})")
    return fig


@styled
def sankey_grid(
    panels: dict[str, pd.DataFrame],
    title: str = "Patient flows",
    unit: str = "per 1,000 people per year",
    note_text: str = "",
) -> Figure:
    """Small multiples: one Sankey panel per scenario, in one figure, same layout in each.

    Parameters
    ----------
    panels
        Panel title (a scenario's label) to its ``source, target, value`` rows.
    title, unit
        Figure title and the unit of every value.
    note_text
        One line under the figure (e.g. what is not drawn to scale).

    Returns
    -------
    Figure
    """
    usable = {k: v for k, v in panels.items() if v is not None and (v["value"] > 0).any()}
    if not usable:
        raise MissingDataError("no flows to draw")
    n = len(usable)
    ncols = 1 if n == 1 else 2
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, squeeze=False)
    for ax, (name, table) in zip(axes.flat, usable.items(), strict=False):
        _draw(ax, table, "", small=n > 1)
        ax.set_title(name, loc="left", fontsize=FONT["base"], fontweight="bold")
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    if note_text:
        # supxlabel, not free text: constrained layout keeps room for it below the panels.
        fig.supxlabel(note_text, fontsize=FONT["small"], color="#555555")
    fig.suptitle(f"{title} ({unit})")
    return fig


def _draw(ax: Axes, flows: pd.DataFrame, note_text: str, small: bool = False) -> None:
    """One Sankey diagram on ``ax`` (see :func:`sankey`)."""
    flows = flows[flows["value"] > 0]
    if flows.empty:
        raise MissingDataError("no flows to draw")
    stage = _stages(flows)
    n_stages = max(stage.values()) + 1
    nodes = list(dict.fromkeys(flows[["source", "target"]].to_numpy().ravel()))
    inflow = flows.groupby("target")["value"].sum()
    outflow = flows.groupby("source")["value"].sum()
    size = {n: max(inflow.get(n, 0.0), outflow.get(n, 0.0)) for n in nodes}
    columns = [[n for n in nodes if stage[n] == s] for s in range(n_stages)]
    gap = 0.03
    tallest = max(sum(size[n] for n in col) for col in columns)
    scale = (1.0 - gap * (max(len(c) for c in columns) - 1)) / tallest
    width = 0.018
    xs = np.linspace(0.04, 0.78, n_stages)
    pos: dict[str, tuple[float, float]] = {}
    for col in columns:
        y = 1.0
        for n in col:
            h = max(size[n] * scale, 0.004)  # a sliver stays visible; its label gives the value
            pos[n] = (y - h, y)
            y -= h + gap
    ax.set_axis_off()
    label_size = FONT["small"] * (0.8 if small else 1.0)
    out_cursor = {n: pos[n][1] for n in nodes}
    in_cursor = {n: pos[n][1] for n in nodes}
    for row in flows.itertuples(index=False):
        h = row.value * scale
        s0 = out_cursor[row.source]
        t0 = in_cursor[row.target]
        out_cursor[row.source] -= h
        in_cursor[row.target] -= h
        x0, x1 = xs[stage[row.source]] + width, xs[stage[row.target]]
        path = _band(x0, x1, (s0 - h, s0), (t0 - h, t0))
        ax.add_patch(PathPatch(path, facecolor=NODE_COLOURS.get(row.source, "#999999"),
                               alpha=0.35, lw=0))  # fmt: skip
    label_y = _spread({n: (pos[n][0] + pos[n][1]) / 2 for n in nodes}, stage, min_gap=0.04)
    for n in nodes:
        x = xs[stage[n]]
        lo, hi = pos[n]
        ax.add_patch(Rectangle((x, lo), width, hi - lo, color=NODE_COLOURS.get(n, "#777777")))
        ax.text(x + width + 0.006, label_y[n], f"{n}: {size[n]:,.0f}", va="center", ha="left",
                fontsize=label_size, color=TEXT,
                bbox={"facecolor": "white", "alpha": 0.75, "lw": 0, "pad": 1})  # fmt: skip
    for s in range(n_stages):
        ax.text(xs[s], 1.04, STAGE_TITLES[s] if s < len(STAGE_TITLES) else "", ha="left",
                va="bottom", fontsize=label_size if small else FONT["base"],
                fontweight="bold")  # fmt: skip
    bottom = min(min(p[0] for p in pos.values()), min(label_y.values()) - 0.02)
    if note_text:
        ax.text(0.0, bottom - 0.03, note_text, ha="left", va="top", fontsize=FONT["small"],
                color="#555555")  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom - (0.08 if note_text else 0.03), 1.1)
