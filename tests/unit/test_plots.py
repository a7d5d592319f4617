"""Figures, labels and colours, on small fixed synthetic tables (the model is never run)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from synthetic_results import BASELINE, HEADLINE, SCENARIOS, comparison, daily, sensitivity

from sim.plots import figures, flows, labels, style, timeseries, tornado
from sim.plots.common import MissingDataError

UNIT_WORDS = ("(", "%", "£", "days", "beds", "per 1,000", "index", "ratio", "Beds")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return comparison()


@pytest.fixture(scope="module")
def drawn(table) -> dict[str, Figure]:
    """Every figure, drawn once for the module (drawing is the slow part)."""
    kpis = dict(zip(table.loc[table.scenario == "status_quo", "metric"],
                    table.loc[table.scenario == "status_quo", "mean"], strict=True))  # fmt: skip
    return {
        "forest": figures.forest(table, metrics=HEADLINE, baseline=BASELINE),
        "dashboard": figures.dashboard(table),
        "gp_access": figures.gp_access(table),
        "end_of_life": figures.end_of_life(table),
        "equity": figures.equity(table),
        "money": figures.money(table),
        "hospital_pressure": timeseries.hospital_pressure(
            {s: daily(s) for s in SCENARIOS}, warm_up=20
        ),
        "flows": flows.sankey(flows.flows_from_kpis(kpis)),
        "tornado": tornado.tornado(sensitivity(), scenario="trust_led"),
    }


def _handle_colour(handle) -> str:
    """Hex colour of a legend handle (patch, line or collection)."""
    if isinstance(handle, Patch):
        return to_hex(handle.get_facecolor())
    if isinstance(handle, Line2D):
        return to_hex(handle.get_color())
    return to_hex(np.atleast_2d(handle.get_color())[0])


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


# --------------------------------------------------------------------------- labels
@pytest.mark.parametrize(
    ("metric", "fragment", "unit", "better"),
    [
        ("gp_same_day_share", "same day", "%", "higher"),
        (
            "emergency_admissions_per_1000__q5",
            "most deprived",
            "per 1,000 people per year",
            "lower",
        ),
        (
            "emergency_admissions_per_1000__q1",
            "least deprived",
            "per 1,000 people per year",
            "lower",
        ),
        ("cost__hospital", "hospital beds", "£ per year", "neutral"),
        ("cost__acute_trust", "acute trust", "£ per year", "neutral"),
        ("wait_mean__a", "node a", "time units", "lower"),
        ("utilisation__b", "node b", "%", "neutral"),
        ("bed_occupancy_mean__area_bexley", "Bexley", "%", "lower"),
        ("something_new_per_1000", "Something new", "per 1,000 people per year", "neutral"),
    ],
)
def test_label_registry_handles_every_pattern(metric, fragment, unit, better):
    """Named, quintile, cost, per-node, per-area and unknown metrics all get a label and unit."""
    info = labels.metric_info(metric)
    assert fragment in info.label, (metric, info.label)
    assert (info.unit, info.better) == (unit, better), (metric, info)
    assert "_" not in info.label, f"variable name leaked into label: {info.label}"


def test_setting_and_organisation_costs_are_told_apart():
    """cost__<setting> and cost__<organisation> share a prefix but are classified apart."""
    assert labels.is_setting_cost("cost__hospital") and not labels.is_setting_cost("cost__icb")
    assert labels.is_organisation_cost("cost__icb")
    assert not labels.is_organisation_cost("cost_per_capita")


def test_format_value_uses_display_units():
    """Shares print as %, differences of shares as percentage points, money with £."""
    assert labels.format_value("gp_same_day_share", 0.456) == "45.6%"
    assert labels.format_value("gp_same_day_share", -0.02, signed=True) == "-2.00 pp"
    assert labels.format_value("cost_per_capita", 830.2).startswith("£830")
    assert labels.format_value("los_mean_days", float("nan")) == "–"


# --------------------------------------------------------------------------- colours
def test_scenario_colours_are_fixed_and_stable():
    """Named arrangements have fixed colours; others a blake2b hash colour, not Python's hash."""
    assert style.scenario_colour("status_quo") == style.GREY
    assert style.scenario_colour("trust_led") == style.OKABE_ITO["blue"]
    digest = hashlib.blake2b(b"my_variant", digest_size=8).digest()
    expected = style.EXTRA_COLOURS[int.from_bytes(digest, "big") % len(style.EXTRA_COLOURS)]
    assert style.scenario_colour("my_variant") == expected


def test_palette_gives_distinct_colours():
    """Within one report, no two scenarios share a colour (hash collisions are probed away)."""
    names = [f"variant_{i}" for i in range(8)] + list(SCENARIOS)
    palette = style.scenario_palette(names)
    assert len(set(palette.values())) == len(names), palette
    assert palette == style.scenario_palette(reversed(names)), "palette depends on order"


def test_scenario_colours_identical_across_figures(drawn):
    """Each scenario's legend or marker colour is the same in every figure that shows it."""
    palette = style.scenario_palette(SCENARIOS)
    for key in ("dashboard", "gp_access", "equity", "money", "hospital_pressure"):
        fig = drawn[key]
        legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
        seen = {}
        for leg in legends:
            for text, handle in zip(leg.get_texts(), leg.legend_handles, strict=True):
                for name in SCENARIOS:
                    if text.get_text().startswith(labels.scenario_label(name)):
                        seen[name] = _handle_colour(handle)
        assert seen, f"{key}: no scenario legend"
        for name, colour in seen.items():
            assert colour.lower() == palette[name].lower(), (key, name, colour)
    forest_colours = {to_hex(c.get_color()[0]) for ax in drawn["forest"].axes
                      for c in ax.collections if isinstance(c, LineCollection)}  # fmt: skip
    for name in SCENARIOS[1:]:
        assert palette[name].lower() in forest_colours, (name, forest_colours)


# --------------------------------------------------------------------------- figures
def test_every_figure_is_a_figure_with_a_plain_title(drawn):
    """Each figure function returns a Figure with a title free of variable names."""
    for key, fig in drawn.items():
        assert isinstance(fig, Figure), key
        title = fig.get_suptitle()
        assert title, f"{key}: no title"
        assert "_" not in title, f"{key}: variable name in title {title!r}"


def test_axis_labels_carry_units(drawn):
    """Every labelled axis names its unit (in brackets, or a unit word such as days or %)."""
    for key, fig in drawn.items():
        for ax in fig.axes:
            for text in (ax.get_xlabel(), ax.get_ylabel()):
                if text:
                    assert any(w in text for w in UNIT_WORDS), f"{key}: axis {text!r} has no unit"
        labelled = [ax for ax in fig.axes if ax.get_xlabel() or ax.get_ylabel()]
        if key != "flows":  # the Sankey states its unit in the title
            assert labelled, f"{key}: no labelled axis"
    assert "per 1,000 people per year" in drawn["flows"].get_suptitle()


def test_forest_has_ci_whiskers_and_better_marks(drawn, table):
    """The forest plot draws a CI whisker per scenario and KPI, and says which way is better."""
    fig = drawn["forest"]
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == len(HEADLINE)
    for ax in panels:
        bars = [c for c in ax.collections if isinstance(c, LineCollection)]
        segments = [s for c in bars for s in c.get_segments() if len(s) == 2]
        assert len(segments) >= 3, f"{ax.get_title()}: {len(segments)} whiskers"
        spans = [abs(s[1][0] - s[0][0]) for s in segments]
        assert max(spans) > 0, f"{ax.get_title()}: whiskers have zero length"
    assert any("better" in t for t in _texts(fig))


def test_dashboard_and_equity_draw_vertical_ci_whiskers(drawn):
    """Dashboard and equity panels carry error bars (CI whiskers) for the scenarios."""
    for key in ("dashboard", "equity"):
        whiskers = [c for ax in drawn[key].axes for c in ax.collections
                    if isinstance(c, LineCollection)]  # fmt: skip
        assert whiskers, f"{key}: no CI whiskers"


def test_end_of_life_marks_england(drawn):
    """The place-of-death chart shows England's OHID 2022 figures beside the scenarios."""
    texts = _texts(drawn["end_of_life"])
    assert any("England" in t and "2022" in t for t in texts), texts
    assert any("43.4%" in t for t in texts)


def test_missing_data_raises_a_named_error():
    """Figures given tables without their data raise MissingDataError, never draw blank."""
    empty = pd.DataFrame(columns=["scenario", "metric", "mean", "ci_low", "ci_high"])
    for func in (figures.dashboard, figures.gp_access, figures.end_of_life, figures.equity,
                 figures.money, figures.forest):  # fmt: skip
        with pytest.raises(MissingDataError):
            func(empty)
    with pytest.raises(MissingDataError):
        timeseries.hospital_pressure({"status_quo": None})
    one_level = pd.DataFrame(
        {"assumption": ["a"], "level": ["low"], "metric": ["m"], "diff_mean": [1.0]}
    )
    with pytest.raises(MissingDataError):
        tornado.tornado(one_level, metric="m")


def test_hospital_pressure_survives_a_missing_series():
    """Without the delayed-discharge column the figure still draws beds and notes the gap."""
    frame = daily("status_quo").drop(columns="delayed_discharge_beds")
    fig = timeseries.hospital_pressure({"status_quo": frame}, warm_up=10)
    assert any("not in the daily series" in t for t in _texts(fig))


def test_flows_conserve_people():
    """What enters major A&E leaves it, and discharge destinations come from the event log."""
    kpis = {"ed_type1_attendances_per_1000": 288.0, "ed_attendances_per_1000": 475.0,
            "ambulance_conveyances_per_1000": 70.0, "emergency_admissions_per_1000": 114.0,
            "ucr_responses_per_1000": 14.0, "deaths_per_1000": 10.0,
            "death_place_hospital_share": 0.4}  # fmt: skip
    events = pd.DataFrame({
        "replication": 0, "person_id": [1, 1, 2, 3, 3, 4],
        "time_days": [30.0, 30.0, 31.0, 32.0, 32.0, 5.0],
        "event": ["discharge", "step_down_start", "discharge", "discharge",
                  "virtual_ward_start", "discharge"],
    })  # fmt: skip
    shares = flows.discharge_shares(events, warm_up=10.0)
    assert shares == pytest.approx({"Home": 1 / 3, "Community step-down": 1 / 3,
                                    "Virtual ward": 1 / 3})  # fmt: skip
    table = flows.flows_from_kpis(kpis, shares)
    into = table.loc[table.target == "Major A&E", "value"].sum()
    out = table.loc[table.source == "Major A&E", "value"].sum()
    assert into == pytest.approx(288.0) and out == pytest.approx(288.0)
    after = table.loc[table.source == "Admitted to hospital", "value"].sum()
    assert after == pytest.approx(114.0)


def test_tornado_puts_the_largest_swing_first():
    """Assumptions are ordered by how far low-to-high moves the headline difference."""
    ordered, central = tornado.tornado_table(sensitivity(), "emergency_admissions_per_1000")
    assert list(ordered.index) == [
        "lead_provider.gp_engagement_share",
        "lead_provider.continuity",
        "lead_provider.governance_overhead_share",
    ]
    assert central == -2.0
    assert np.all(np.diff(ordered["swing"].to_numpy()) <= 0)
