"""The general-practice figures, from small constructed practice tables (no model run)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.text import Text
from synthetic_practices import MARGIN, PAYMENT, WEIGHTED_LIST, practice_table

from sim.plots import practices
from sim.plots.common import MissingDataError
from sim.plots.style import SCENARIO_COLOURS

# Given out of display order on purpose: the figures must put the baseline first.
NAMES = ("trust_led", "federation_led", "status_quo")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {
        "trust_led": practice_table("trust_led", distressed=2, hand_back=1),
        "federation_led": practice_table("federation_led"),
        "status_quo": practice_table("status_quo", distressed=1),
    }


def _by_gid(fig: Figure, prefix: str) -> dict[str, object]:
    """Artists whose gid starts with ``prefix:``, keyed by the scenario after it."""
    found = fig.findobj(lambda a: str(a.get_gid() or "").startswith(f"{prefix}:"))
    return {str(a.get_gid()).split(":", 1)[1]: a for a in found}


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def test_margins_count_only_open_measured_quarters(tables):
    """Warm-up quarters, closed practices and practices without partners (NaN) are left out."""
    t = tables["trust_led"]
    v = practices.margins(t)
    # 3 replications x (7 practices x 6 measured quarters + practice 0's last open quarter).
    assert v.size == 3 * (7 * 6 + 1), v.size
    assert np.all(np.isfinite(v)), v[~np.isfinite(v)]
    no_partners = t.assign(profit_per_partner_fte_gbp=np.nan)
    assert practices.margins(no_partners).size == 0


def test_margin_figure_has_one_box_per_scenario_in_display_order(tables):
    """One box per scenario, baseline first, in the report's colours, median where the data
    put it, and a dashed threshold line at the threshold in £k."""
    fig = practices.margin_distribution(tables, 70_000.0, baseline="status_quo")
    boxes = _by_gid(fig, "box")
    assert set(boxes) == set(NAMES), sorted(boxes)
    # x centre of each box: status quo first, then the named arrangements in their order.
    centres = {n: float(np.mean(b.get_path().vertices[:, 0])) for n, b in boxes.items()}
    assert sorted(centres, key=centres.get) == ["status_quo", "trust_led", "federation_led"], (
        centres
    )
    for name, box in boxes.items():
        assert to_hex(box.get_facecolor()) == SCENARIO_COLOURS[name].lower(), name
        low, high = box.get_path().vertices[:, 1].min(), box.get_path().vertices[:, 1].max()
        q1, q3 = np.percentile(practices.margins(tables[name]) / 1000, [25, 75])
        assert (low, high) == pytest.approx((q1, q3)), (name, low, high, q1, q3)
    (line,) = fig.findobj(lambda a: a.get_gid() == "threshold")
    assert list(line.get_ydata()) == [70.0, 70.0], line.get_ydata()
    assert "Distress threshold £70k" in _texts(fig)


def test_margin_figure_names_the_share_below_the_line(tables):
    """Each scenario's tick label gives its share of practice-quarters below the threshold."""
    fig = practices.margin_distribution(tables, 70_000.0, baseline="status_quo")
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    expected = float(np.mean(practices.margins(tables["trust_led"]) < 70_000.0))
    assert expected > 0.1, expected  # the fixture puts trust-led's margins near the line
    trust = next(t for t in ticks if t.startswith("Trust-led"))
    assert trust.endswith(f"{100 * expected:.0f}% below the line"), (trust, expected)


def test_margin_figure_without_threshold_draws_no_line(tables):
    """No threshold in the config: no dashed line and no share-below text."""
    fig = practices.margin_distribution(tables, None)
    assert not fig.findobj(lambda a: a.get_gid() == "threshold")
    assert not any("below the line" in t for t in _texts(fig)), _texts(fig)
    assert len(_by_gid(fig, "box")) == 3


def test_an_extreme_margin_does_not_set_the_axis(tables):
    """One practice-quarter with a margin 100 times the rest stays off the axis, and the
    footnote says one value is not shown."""
    t = tables["federation_led"].copy()
    t.loc[t.index[-1], "profit_per_partner_fte_gbp"] = 100 * MARGIN["federation_led"]
    fig = practices.margin_distribution({"federation_led": t}, None)
    top = fig.axes[0].get_ylim()[1]
    assert top < 1000, top  # £k: the outlier is £11,000k
    assert any("1 extreme value lies beyond the axis" in s for s in _texts(fig)), _texts(fig)


def test_flow_summary_is_money_per_weighted_patient_a_year(tables):
    """Payments per weighted patient a year = quarterly payment x 4 / weighted list; distress
    is a share of open practice-quarters; hand-backs a share of practices."""
    s = practices.flow_summary(tables)
    trust = s.loc["trust_led"]
    assert trust["payment_in"] == pytest.approx(PAYMENT["trust_led"] * 4 / WEIGHTED_LIST), trust
    assert trust["moved_out"] == pytest.approx(2_000.0 * 4 / WEIGHTED_LIST), trust
    # Practice 0 (distressed) is open 1 measured quarter, practice 1 all 6; 43 open rows.
    assert trust["distressed_share"] == pytest.approx(7 / 43), trust
    assert trust["handed_back_share"] == pytest.approx(1 / 8), trust
    assert trust["years"] == pytest.approx(1.5), trust
    assert s.loc["status_quo", "distressed_share"] == pytest.approx(1 / 8), s
    assert s.loc["status_quo", "payment_in"] == 0.0, s


def test_flow_figure_bars_carry_the_summary_values(tables):
    """Money in to the right, money out to the left (negative), the net as a diamond, and the
    two strain panels in percent, one bar per scenario each."""
    fig = practices.practice_flows(tables, baseline="status_quo")
    s = practices.flow_summary(tables)
    bars_in, bars_out = _by_gid(fig, "in"), _by_gid(fig, "out")
    distressed, handed = _by_gid(fig, "distressed"), _by_gid(fig, "handed_back")
    for group in (bars_in, bars_out, distressed, handed):
        assert set(group) == set(NAMES), sorted(group)
    for name in NAMES:
        assert bars_in[name].get_width() == pytest.approx(s.loc[name, "payment_in"]), name
        assert bars_out[name].get_width() == pytest.approx(-s.loc[name, "moved_out"]), name
        assert distressed[name].get_width() == pytest.approx(
            100 * s.loc[name, "distressed_share"]
        ), name
        assert handed[name].get_width() == pytest.approx(100 * s.loc[name, "handed_back_share"])
    net = _by_gid(fig, "net")["trust_led"].get_offsets()[0][0]
    assert net == pytest.approx(0.5 - 1.0), net
    # The baseline is the top row.
    assert bars_in["status_quo"].get_y() > bars_in["federation_led"].get_y()
    texts = _texts(fig)
    assert "£0.50" in texts and "−£1.00" in texts, texts
    assert "% of practices in 1.5 years" in texts, texts


def test_a_scenario_without_a_table_is_left_out(tables):
    """A job with no practices.parquet (None) is not drawn; the others are."""
    partial = {**tables, "alliance": None}
    fig = practices.practice_flows(partial)
    assert set(_by_gid(fig, "in")) == set(NAMES)
    assert set(_by_gid(practices.margin_distribution(partial, None), "box")) == set(NAMES)


@pytest.mark.parametrize("draw", ["margins", "flows"])
def test_missing_data_raises(tables, draw):
    """No table, a table without a needed column, or only warm-up quarters: MissingDataError
    (the report skips the figure with a note), never a blank figure."""

    def call(t: dict[str, pd.DataFrame | None]) -> Figure:
        if draw == "margins":
            return practices.margin_distribution(t, 50_000.0)
        return practices.practice_flows(t)

    with pytest.raises(MissingDataError, match="no practice table"):
        call({"status_quo": None})
    with pytest.raises(MissingDataError, match="no practice table"):
        call({})
    column = "profit_per_partner_fte_gbp" if draw == "margins" else "neighbourhood_payment_gbp"
    with pytest.raises(MissingDataError, match=column):
        call({"status_quo": tables["status_quo"].drop(columns=column)})
    warm = tables["status_quo"].assign(measured=False)
    with pytest.raises(MissingDataError, match="no measured"):
        call({"status_quo": warm})
