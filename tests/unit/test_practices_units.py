"""Unit tests of general practice as a business (issue 17): each module of
:mod:`sim.models.care.practices` on hand-made inputs, plus calibration checks at the shipped
config (nominal appointments, expenses ratio, engagement under each shipped arrangement)."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest

from sim.config.compose import compose_params
from sim.models.care import schema as s
from sim.models.care.params import load_arrangement
from sim.models.care.practices import behaviour, continuity, money, viability, weighting, workforce
from sim.rng import Streams

BANDS = s.AGE_BANDS


@functools.lru_cache(maxsize=1)
def _shipped() -> s.CareModelConfig:
    """The shipped care model config (validated), composed once for the module."""
    return compose_params(["model=care", "place=neighbourhood_50k"]).model.model


def _rng(name: str) -> np.random.Generator:
    """A seeded generator from the project's named streams (never numpy's default_rng)."""
    return Streams(20261205, 0).generator(name)


# ----------------------------------------------------------------------------- weighting
def _weighting() -> s.PracticeWeightingConfig:
    return s.PracticeWeightingConfig(
        age_weights=dict(zip(BANDS, [0.5, 1.0, 1.5, 2.0, 2.5, 3.0], strict=True)),
        care_home_weight=1.4,
    )


def test_person_weight_is_age_band_weight_times_care_home_weight():
    """A person's weight is their age band's workload weight, times the care-home weight
    only for care-home residents."""
    cfg = _weighting()
    age = np.array([0, 3, 5, 5])
    care_home = np.array([False, False, False, True])
    got = weighting.person_weights(cfg, age, care_home)
    want = np.array([0.5, 2.0, 3.0, 3.0 * 1.4])
    assert np.allclose(got, want), f"weights {got}, expected {want}"


def test_weighted_lists_count_only_registered_people_per_practice():
    """Registered and weighted lists count only registered people, each in their own
    practice, with zeros for a practice whose people are all unregistered and for one with
    nobody at all."""
    cfg = _weighting()
    practice = np.array([0, 0, 0, 1, 2, 2])
    age = np.array([1, 5, 2, 4, 0, 3])
    care_home = np.array([False, True, False, False, False, False])
    registered = np.array([True, True, False, False, True, True])
    n_reg, n_w = weighting.weighted_lists(cfg, practice, age, care_home, registered, 4)
    assert n_reg.shape == (4,) and n_w.shape == (4,), f"shapes {n_reg.shape}, {n_w.shape}"
    assert list(n_reg) == [2.0, 0.0, 2.0, 0.0], f"registered lists {n_reg}"
    want = np.array([1.0 + 3.0 * 1.4, 0.0, 0.5 + 2.0, 0.0])
    assert np.allclose(n_w, want), f"weighted lists {n_w}, expected {want}"


# ----------------------------------------------------------------------------- workforce
def _wf_cfg(**kw: float) -> s.PracticeWorkforceConfig:
    base = dict(
        gp_fte_per_10000_weighted=4.0,
        partner_share_of_gp_fte=0.25,
        nurse_fte_per_10000_weighted=2.0,
        arrs_fte_per_10000_weighted=1.0,
        sessions_per_fte=9.0,
        sessions_per_gp=6.0,
        spread_cv=0.0,
        capacity_spread_cv=0.0,
        appointments_per_session={"gp": 10.0, "nurse": 5.0, "additional_roles": 20.0},
    )
    base.update(kw)
    return s.PracticeWorkforceConfig(**base)


def _workforce(**kw: list[float]) -> workforce.Workforce:
    base = dict(
        partner=[4.0], salaried=[2.0], nurse=[3.0], arrs=[1.0], gp_headcount=[1.0], drawn=[1.0]
    )
    base.update(kw)
    return workforce.Workforce(**{k: np.array(v, dtype=float) for k, v in base.items()})


def test_slots_are_sessions_times_appointments_per_session_over_five_days():
    """Slots a weekday by role = sessions a week x appointments a session / 5, with GP
    sessions net of those drawn into neighbourhood work."""
    got = workforce.slots_per_weekday(_wf_cfg(), _workforce())
    want = np.array([[(4 + 2 - 1) * 10 / 5, 3 * 5 / 5, 1 * 20 / 5]])
    assert got.shape == (1, 3), f"shape {got.shape}"
    assert np.allclose(got, want), f"slots {got}, expected {want}"


def test_gp_working_subtracts_drawn_and_never_goes_negative():
    """GP sessions left for practice work are all GP sessions less those drawn, floored at 0
    when more are drawn than the practice has."""
    wf = _workforce(
        partner=[4.0, 4.0, 0.0], salaried=[2.0, 2.0, 0.0], nurse=[0.0] * 3, arrs=[0.0] * 3,
        gp_headcount=[1.0] * 3, drawn=[1.0, 10.0, 0.5],
    )  # fmt: skip
    assert np.allclose(wf.gp, [6.0, 6.0, 0.0]), f"gp {wf.gp}"
    assert np.allclose(wf.gp_working, [5.0, 0.0, 0.0]), f"gp_working {wf.gp_working}"
    slots = workforce.slots_per_weekday(_wf_cfg(), wf)
    assert (slots >= 0).all(), f"negative slots {slots}"


def test_draw_without_spread_gives_the_exact_configured_rates():
    """With no spread, each practice gets the per-10,000 rate x weighted / 10,000 x
    sessions a FTE of each role, the partner share of its GP sessions, a headcount of GP
    sessions / sessions a GP, and nothing drawn."""
    cfg = _wf_cfg()
    weighted = np.array([10_000.0, 2_500.0, 0.0])
    wf = workforce.draw(cfg, weighted, _rng("test/draw0"))
    per = weighted / 10_000.0 * 9.0
    checks = {
        "partner": (wf.partner, per * 4.0 * 0.25),
        "salaried": (wf.salaried, per * 4.0 * 0.75),
        "nurse": (wf.nurse, per * 2.0),
        "arrs": (wf.arrs, per * 1.0),
        "gp_headcount": (wf.gp_headcount, per * 4.0 / 6.0),
        "drawn": (wf.drawn, np.zeros(3)),
    }
    for name, (got, want) in checks.items():
        assert np.allclose(got, want), f"{name} {got}, expected {want}"


def test_draw_with_spread_has_the_configured_mean_and_coefficient_of_variation():
    """With a spread, GP sessions over many equal practices average the configured rate and
    vary with about the configured coefficient of variation."""
    cfg = _wf_cfg(spread_cv=0.15, capacity_spread_cv=0.03)
    n = 4000
    wf = workforce.draw(cfg, np.full(n, 10_000.0), _rng("test/draw_spread"))
    rel = wf.gp / (9.0 * 4.0)
    assert abs(rel.mean() - 1.0) < 0.015, f"mean GP sessions / rate {rel.mean():.4f}"
    cv = rel.std() / rel.mean()
    assert abs(cv - 0.15) < 0.015, f"GP sessions CV {cv:.4f}, configured 0.15"
    share = wf.partner / wf.gp
    assert np.allclose(share, 0.25), f"partner shares {share.min()}..{share.max()}"


def test_total_appointments_vary_less_than_gp_sessions():
    """Nurses and other roles make up for fewer GPs (skill mix), so a practice's total
    appointments vary between practices less than its GP sessions do."""
    cfg = _wf_cfg(spread_cv=0.15, capacity_spread_cv=0.03)
    wf = workforce.draw(cfg, np.full(4000, 10_000.0), _rng("test/draw_mix"))
    total = workforce.slots_per_weekday(cfg, wf).sum(axis=1)
    cv_total = total.std() / total.mean()
    cv_gp = wf.gp.std() / wf.gp.mean()
    assert cv_total < cv_gp, f"CV of total appointments {cv_total:.4f} >= CV of GP {cv_gp:.4f}"
    assert cv_total < 0.05, f"CV of total appointments {cv_total:.4f}, configured 0.03"


def test_nominal_appointments_per_1000_at_the_shipped_config():
    """At the shipped rates a practice gives 26.40 appointments per 1,000 weighted patients
    a working day (the calibration target of the place-wide GP capacity)."""
    got = workforce.nominal_per_1000_per_weekday(_shipped().practices.workforce)
    assert got == pytest.approx(26.40, abs=0.005), f"nominal per 1,000 a weekday {got:.4f}"


def test_nominal_appointments_per_1000_by_hand():
    """The nominal rate is sessions a FTE / 5 days / 10 (per 1,000 of per 10,000) x the
    sum over roles of FTE rate x appointments a session."""
    got = workforce.nominal_per_1000_per_weekday(_wf_cfg())
    want = 9.0 / 5.0 / 10.0 * (4.0 * 10.0 + 2.0 * 5.0 + 1.0 * 20.0)
    assert got == pytest.approx(want), f"nominal {got}, expected {want}"


# --------------------------------------------------------------------------------- money
def _money() -> s.PracticeMoneyConfig:
    return s.PracticeMoneyConfig(
        global_sum_per_weighted_patient_gbp=100.0,
        out_of_hours_deduction_share=0.1,
        qof_per_patient_gbp=10.0,
        pcn_des_per_patient_gbp=5.0,
        enhanced_services_per_patient_gbp=20.0,
        salaried_gp_cost_per_fte_gbp=90_000.0,
        nurse_cost_per_fte_gbp=45_000.0,
        other_costs_per_weighted_patient_gbp=10.0,
    )


def _tiny_quarter(engaged: bool, partner: float = 9.0, drawn: float = 0.0) -> money.Quarter:
    """A practice of 1,000 registered and 1,200 weighted patients, one partner FTE, one
    salaried GP FTE, one nurse FTE, paid GBP 2 per weighted patient, keeping 75% of its
    enhanced services and paid GBP 900 a year per drawn weekly session."""
    wf = _workforce(
        partner=[partner], salaried=[9.0], nurse=[9.0], arrs=[9.0], gp_headcount=[3.0],
        drawn=[drawn],
    )  # fmt: skip
    terms = money.Terms(
        payment_per_weighted_patient=np.array([2.0]),
        enhanced_services_kept_share=np.array([0.75]),
        drawn_session_payment=np.array([900.0]),
    )
    return money.quarter(
        _money(), 9.0, wf, np.array([1000.0]), np.array([1200.0]), np.array([engaged]),
        terms, np.ones(1), np.ones(1),
    )  # fmt: skip


def test_tiny_practice_quarter_by_hand():
    """An engaged practice's quarter, worked by hand: income is a quarter of global sum net
    of out-of-hours + QOF + PCN DES + kept enhanced services + the neighbourhood payment;
    costs are a quarter of salaried GP and nurse FTE costs (ARRS not a cost) + other costs;
    profit per partner FTE is the quarter's profit x 4."""
    q = _tiny_quarter(engaged=True)
    core = 1200 * 100 * 0.9 + 1000 * (10 + 5)  # 123,000
    kept = 1000 * 20 * 0.75  # 15,000
    routed = 1200 * 2.0  # 2,400
    income = (core + kept + routed) / 4
    costs = (90_000 + 45_000 + 1200 * 10.0) / 4
    checks = {
        "income": (q.income[0], income),
        "costs": (q.costs[0], costs),
        "profit": (q.profit[0], income - costs),
        "partner_fte": (q.partner_fte[0], 1.0),
        "profit_per_partner_fte": (q.profit_per_partner_fte[0], (income - costs) * 4),
        "neighbourhood_payment": (q.neighbourhood_payment[0], routed / 4),
        "enhanced_services_lost": (q.enhanced_services_lost[0], 1000 * 20 * 0.25 / 4),
    }
    for name, (got, want) in checks.items():
        assert got == pytest.approx(want), f"{name} {got}, expected {want}"


def test_neighbourhood_payment_only_when_engaged():
    """A practice that does not engage gets no neighbourhood payment; everything else in its
    accounts is the same as if it had."""
    yes, no = _tiny_quarter(engaged=True), _tiny_quarter(engaged=False)
    assert no.neighbourhood_payment[0] == 0.0, f"paid {no.neighbourhood_payment[0]}"
    diff = yes.income[0] - no.income[0]
    assert diff == pytest.approx(1200 * 2.0 / 4), f"income difference {diff}"
    assert yes.costs[0] == no.costs[0], f"costs {yes.costs[0]} vs {no.costs[0]}"


def test_drawn_sessions_are_paid_to_the_practice():
    """Each weekly GP session drawn into neighbourhood work is paid at the arrangement's
    rate (a year), and counts as neighbourhood payment."""
    q = _tiny_quarter(engaged=True, drawn=2.0)
    want = (1200 * 2.0 + 2.0 * 900.0) / 4
    got = q.neighbourhood_payment[0]
    assert got == pytest.approx(want), f"neighbourhood payment {got}, expected {want}"


def test_profit_per_partner_fte_is_nan_without_partners():
    """A practice with no partners has no profit per partner FTE (NaN), not a division by 0."""
    q = _tiny_quarter(engaged=True, partner=0.0)
    assert q.partner_fte[0] == 0.0, f"partner FTE {q.partner_fte[0]}"
    assert math.isnan(q.profit_per_partner_fte[0]), f"got {q.profit_per_partner_fte[0]}"
    assert math.isfinite(q.profit[0]), f"profit {q.profit[0]}"


def test_enhanced_services_lost_is_the_moved_out_share():
    """The enhanced-services income a practice loses is the moved-out share (1 - kept) of
    its enhanced services, for any share."""
    wf = _workforce(partner=[9.0] * 3, salaried=[0.0] * 3, nurse=[0.0] * 3, arrs=[0.0] * 3,
                    gp_headcount=[1.0] * 3, drawn=[0.0] * 3)  # fmt: skip
    kept = np.array([1.0, 0.5, 0.0])
    terms = money.Terms(np.zeros(3), kept, np.zeros(3))
    reg = np.full(3, 1000.0)
    q = money.quarter(_money(), 9.0, wf, reg, reg, np.ones(3, bool), terms, np.ones(3), np.ones(3))
    want = 1000 * 20.0 * (1 - kept) / 4
    assert np.allclose(q.enhanced_services_lost, want), f"lost {q.enhanced_services_lost}"


def test_session_cost_is_fte_cost_over_sessions():
    """One weekly salaried session costs the FTE cost / sessions a FTE a year (0 if none)."""
    assert money.session_cost(_money(), 9.0) == pytest.approx(10_000.0)
    assert money.session_cost(_money(), 0.0) == 0.0


def test_shipped_expenses_ratio_is_about_69_7_percent():
    """Calibration: a practice at the configured rates (no spread, weighted = registered,
    not engaged, keeping all enhanced services) spends about 69.7% of its income, the
    GPMS contractors' expenses-to-earnings ratio of 2019/20."""
    m = _shipped().practices
    cfg = dataclasses.replace(m.workforce, spread_cv=0.0, capacity_spread_cv=0.0)
    n = np.array([10_000.0])
    wf = workforce.draw(cfg, n, _rng("test/expenses"))
    terms = money.Terms(np.zeros(1), np.ones(1), np.zeros(1))
    q = money.quarter(
        m.money, cfg.sessions_per_fte, wf, n, n, np.zeros(1, bool), terms, np.ones(1), np.ones(1)
    )
    ratio = q.costs[0] / q.income[0]
    assert ratio == pytest.approx(0.697, abs=0.002), f"expenses ratio {ratio:.4f}"


# ----------------------------------------------------------------------------- behaviour
def _behaviour() -> s.PracticeBehaviourConfig:
    return s.PracticeBehaviourConfig(
        engagement_intercept=0.2, engagement_per_gbp=0.3, engagement_per_autonomy=1.0
    )


def test_engagement_probability_is_logistic():
    """Engagement = logistic(intercept + per GBP x payment + per autonomy x (autonomy - 0.5))."""
    mech = s.PracticeMechanismsConfig(payment_per_weighted_patient_gbp=1.5, autonomy=0.8)
    got = behaviour.engagement_probability(_behaviour(), mech)
    want = 1.0 / (1.0 + math.exp(-(0.2 + 0.3 * 1.5 + 1.0 * 0.3)))
    assert got == pytest.approx(want), f"probability {got}, expected {want}"


def test_no_engagement_under_collective_disengagement():
    """Under collective disengagement no practice engages, whatever the money and control."""
    mech = s.PracticeMechanismsConfig(
        payment_per_weighted_patient_gbp=50.0, autonomy=1.0, collective_disengagement=True
    )
    got = behaviour.engagement_probability(_behaviour(), mech)
    assert got == 0.0, f"probability {got}"


def test_engagement_rises_with_payment_and_autonomy():
    """More money routed to practices, or more control given to them, never lowers the
    chance of engaging (strictly raises it with positive coefficients)."""
    b = _behaviour()
    pay = [
        behaviour.engagement_probability(
            b, s.PracticeMechanismsConfig(payment_per_weighted_patient_gbp=x)
        )
        for x in (0.0, 0.5, 1.0, 2.0, 5.0)
    ]
    aut = [
        behaviour.engagement_probability(b, s.PracticeMechanismsConfig(autonomy=a))
        for a in (0.0, 0.25, 0.5, 0.75, 1.0)
    ]
    assert all(x < y for x, y in zip(pay, pay[1:], strict=False)), f"by payment {pay}"
    assert all(x < y for x, y in zip(aut, aut[1:], strict=False)), f"by autonomy {aut}"


@pytest.mark.parametrize(
    ("arrangement", "want"),
    [("status_quo", 0.60), ("trust_led", 0.50), ("federation_led", 0.80), ("alliance", 0.68)],
)
def test_shipped_arrangements_engagement(arrangement, want):
    """Calibration: at the shipped behaviour, the four shipped arrangements engage 60%, 50%,
    80% and 68% of practices."""
    mech = load_arrangement(arrangement).practices
    got = behaviour.engagement_probability(_shipped().practices.behaviour, mech)
    assert got == pytest.approx(want, abs=0.005), f"{arrangement}: {got:.4f}, expected {want}"


def test_higher_probability_engages_a_superset():
    """With the same uniforms, a higher engagement probability engages every practice a lower
    one engages, and more (common random numbers across scenarios)."""
    u = _rng("test/engaged").random(2000)
    low, high = behaviour.engaged(np.full(2000, 0.3), u), behaviour.engaged(np.full(2000, 0.7), u)
    assert not (low & ~high).any(), f"{int((low & ~high).sum())} engaged only at 0.3"
    assert high.sum() > low.sum(), f"engaged {low.sum()} at 0.3, {high.sum()} at 0.7"
    assert abs(high.mean() - 0.7) < 0.04, f"share engaged at 0.7: {high.mean():.3f}"
    assert not behaviour.engaged(np.zeros(2000), u).any(), "engaged at probability 0"


COST = 10_000.0  # GBP a year per weekly session
FLOOR = 100_000.0


def _hire(shortfall, profit, partner_fte=1.0, cap=2.0) -> np.ndarray:
    return behaviour.sessions_to_hire(
        np.atleast_1d(np.asarray(shortfall, float)),
        np.atleast_1d(np.asarray(profit, float)),
        np.atleast_1d(np.asarray(partner_fte, float)),
        COST,
        FLOOR,
        cap,
    )


@pytest.mark.parametrize(
    ("shortfall", "profit", "partner_fte", "cap", "want", "why"),
    [
        (1.0, 1e9, 1.0, 2.0, 1.0, "capped by the shortfall"),
        (5.0, 1e9, 1.0, 2.0, 2.0, "capped by the labour market"),
        (5.0, FLOOR, 1.0, 2.0, 0.0, "a practice at the floor hires nothing"),
        (5.0, FLOOR - 1.0, 1.0, 2.0, 0.0, "below the floor hires nothing"),
        (5.0, FLOOR + 1.5 * COST, 1.0, 2.0, 1.5, "room for exactly 1.5 sessions"),
        (5.0, FLOOR + 0.5 * COST, 2.0, 2.0, 1.0, "room scales with partner FTE"),
        (-3.0, 1e9, 1.0, 2.0, 0.0, "a negative shortfall hires nothing"),
        (0.0, 1e9, 1.0, 2.0, 0.0, "no shortfall hires nothing"),
        (5.0, np.nan, 0.0, 2.0, 0.0, "NaN profit (no partners) hires nothing"),
        (5.0, np.nan, 1.0, 2.0, 0.0, "NaN profit hires nothing even with a partner FTE"),
    ],
)
def test_sessions_to_hire(shortfall, profit, partner_fte, cap, want, why):
    """Hiring is the least of the shortfall, the cap and what the profit above the floor
    pays for, never negative, and nothing when profit per partner is NaN."""
    got = _hire(shortfall, profit, partner_fte, cap)
    assert got.shape == (1,), f"shape {got.shape}"
    assert got[0] == pytest.approx(want), f"{why}: hired {got[0]}, expected {want}"


def test_sessions_to_hire_never_negative_on_random_input():
    """Over random shortfalls, profits and partner FTEs, hiring is never negative, never
    above the cap or the shortfall, and never NaN."""
    rng = _rng("test/hire")
    n = 5000
    short = rng.normal(1.0, 2.0, n)
    profit = rng.normal(FLOOR, 50_000.0, n)
    profit[::7] = np.nan
    fte = rng.uniform(0.0, 3.0, n)
    got = behaviour.sessions_to_hire(short, profit, fte, COST, FLOOR, 2.0)
    assert np.isfinite(got).all(), f"{int((~np.isfinite(got)).sum())} non-finite"
    assert (got >= 0).all(), f"min {got.min()}"
    assert (got <= 2.0 + 1e-12).all(), f"max {got.max()}"
    assert (got <= np.maximum(short, 0) + 1e-12).all(), "hired more than the shortfall"


def test_target_sessions_by_hand():
    """A practice wants its starting GP sessions per weighted patient on today's list, plus
    the share of the neighbourhood payment it spends, in weekly sessions at their annual
    cost; a practice that is not paid wants only the first."""
    per_weighted = np.array([0.004, 0.004, 0.004])
    weighted = np.array([10_000.0, 10_000.0, 5_000.0])
    payment = np.array([2.0, 2.0, 2.0])
    paid = np.array([True, False, True])
    got = behaviour.target_sessions(per_weighted, weighted, payment, paid, 0.5, COST)
    # 40 sessions; + 0.5 x GBP 2 x 10,000 / GBP 10,000 = 1 session; the half-size list: 20 + 0.5.
    assert got == pytest.approx([41.0, 40.0, 20.5]), got


@pytest.mark.parametrize("share", [0.0, 0.25, 1.0])
def test_target_sessions_rise_with_the_spent_share_and_not_without_payment(share):
    """The sessions bought are proportional to the spent share and zero with no payment or a
    free session cost (which buys nothing rather than dividing by zero)."""
    one = np.array([0.004])
    w = np.array([8_000.0])
    paid = np.array([True])
    base = behaviour.target_sessions(one, w, np.array([0.0]), paid, share, COST)
    bought = behaviour.target_sessions(one, w, np.array([3.0]), paid, share, COST)
    assert base == pytest.approx([32.0]), base
    assert bought - base == pytest.approx([share * 3.0 * 8_000.0 / COST]), bought
    free = behaviour.target_sessions(one, w, np.array([3.0]), paid, share, 0.0)
    assert free == pytest.approx([32.0]), free


# ----------------------------------------------------------------------------- viability
def test_distressed_by_threshold_and_loss_without_partners():
    """Distress is profit per partner FTE below the threshold; a practice without partners
    (NaN) is distressed only when it makes a loss."""
    ppf = np.array([50_000.0, 62_500.0, 70_000.0, np.nan, np.nan])
    profit = np.array([1.0, 1.0, 1.0, -1.0, 1.0])
    got = viability.distressed(ppf, profit, 62_500.0)
    want = [True, False, False, True, False]
    assert list(got) == want, f"distressed {list(got)}, expected {want}"


def test_count_quarters_adds_and_resets():
    """The counter of consecutive quarters in distress adds one in distress and resets to 0
    in any quarter out of it."""
    counter = np.array([0, 2, 3, 0])
    got = viability.count_quarters(counter, np.array([True, True, False, False]))
    assert list(got) == [1, 3, 0, 0], f"counters {list(got)}"
    seq = np.array([0])
    for d in (True, True, False, True):
        seq = viability.count_quarters(seq, np.array([d]))
    assert seq[0] == 1, f"counter after T,T,F,T is {seq[0]}, expected 1"


def test_hand_back_after_n_quarters():
    """A practice hands back once distressed for the configured number of quarters in a row,
    not before, and never when already closed."""
    counter = np.array([4, 3, 5, 9])
    is_open = np.array([True, True, True, False])
    area = np.zeros(4, int)
    got = viability.hand_backs(counter, 4, is_open, area)
    assert list(got) == [True, False, True, False], f"hand backs {list(got)}"


def test_last_open_practice_of_an_area_never_hands_back():
    """When every open practice of an area is due, the lowest-numbered stays open; an area
    whose only other practice is closed keeps its last one; other areas are unaffected."""
    counter = np.array([4, 4, 4, 9, 0, 4])
    is_open = np.array([True, True, False, True, True, True])
    area = np.array([0, 0, 0, 1, 2, 2])
    got = viability.hand_backs(counter, 4, is_open, area)
    want = [False, True, False, False, False, True]
    assert list(got) == want, f"hand backs {list(got)}, expected {want}"
    for a in np.unique(area):
        left = is_open & (area == a) & ~got
        assert left.any(), f"area {a} left with no open practice"


def test_receivers_prefer_the_neighbourhood_then_the_area():
    """A closing practice's list goes to the other open practices of its neighbourhood, and
    only when there are none, to the open practices of its area (never itself)."""
    neighbourhood = np.array([0, 0, 0, 1, 1, 2])
    area = np.array([0, 0, 0, 0, 0, 1])
    is_open = np.ones(6, bool)
    got = viability.receivers(0, is_open, neighbourhood, area)
    assert list(got) == [1, 2], f"same neighbourhood: {list(got)}"
    is_open[[1, 2]] = False
    got = viability.receivers(0, is_open, neighbourhood, area)
    assert list(got) == [3, 4], f"area fallback: {list(got)}"
    is_open[4] = False
    got = viability.receivers(0, is_open, neighbourhood, area)
    assert list(got) == [3], f"only open practices: {list(got)}"
    got = viability.receivers(5, np.ones(6, bool), neighbourhood, area)
    assert got.size == 0, f"no other practice in area 1, got {list(got)}"


def test_disperse_in_proportion_to_list_and_only_to_the_pool():
    """Dispersed patients choose practices of the pool only, each with a chance in
    proportion to its registered list."""
    reg = np.array([100.0, 1000.0, 50.0, 3000.0])
    pool = np.array([1, 3])
    n = 40_000
    u = _rng("test/disperse").random(n + 10)
    got = viability.disperse(n, pool, reg, u)
    assert got.shape == (n,), f"shape {got.shape}"
    assert set(np.unique(got)) <= {1, 3}, f"chosen outside the pool: {set(np.unique(got))}"
    share = (got == 3).mean()
    assert abs(share - 0.75) < 0.01, f"share to practice 3: {share:.4f}, expected 0.75"


def test_disperse_to_empty_lists_still_spreads():
    """Receivers with empty lists count as a list of 1, so every one of them can be chosen."""
    reg = np.zeros(3)
    got = viability.disperse(3000, np.array([0, 2]), reg, _rng("test/disperse0").random(3000))
    counts = np.bincount(got, minlength=3)
    assert counts[1] == 0 and counts[0] > 1300 and counts[2] > 1300, f"counts {counts}"


# ---------------------------------------------------------------------------- continuity
def test_usual_probability_is_scaled_sessions_per_gp_over_ten():
    """The chance of the usual GP = scale x GP sessions per GP / 10 half days, clipped to
    [0, 1], and 0 for a practice with no GPs."""
    cfg = s.PracticeContinuityConfig(usual_gp_scale=0.9)
    working = np.array([35.0, 70.0, 0.0, 10.0, 5.0])
    heads = np.array([5.0, 5.0, 0.0, 1.0, 0.0])
    got = continuity.practice_usual_probability(cfg, working, heads)
    want = np.array([0.9 * 0.7, 1.0, 0.0, 0.9, 0.0])
    assert np.allclose(got, want), f"usual probability {got}, expected {want}"


def test_crisis_multiplier_is_one_at_reference_and_lower_above():
    """With the shipped (negative, protective) effect, the multiplier is 1 at the reference
    continuity, below 1 above it, above 1 below it, and falls by the effect per +0.2 UPC."""
    m = _shipped()
    u, ref = m.urgent, m.general_practice.continuity_reference
    assert u.continuity_effect_per_0_2_upc < 0, f"effect {u.continuity_effect_per_0_2_upc}"
    got = continuity.crisis_multiplier(u, ref, np.array([ref, ref + 0.2, ref - 0.2, 1.0]))
    assert got[0] == pytest.approx(1.0), f"at the reference {got[0]}"
    assert got[1] == pytest.approx(1.0 + u.continuity_effect_per_0_2_upc), f"at +0.2 {got[1]}"
    assert got[1] < 1.0 < got[2], f"above/below the reference {got[1]}, {got[2]}"
    assert got[3] < got[1], f"at UPC 1 {got[3]} not below +0.2 {got[1]}"


def test_largest_multiplier_is_the_value_at_upc_zero():
    """With a protective effect the largest multiplier continuity can give is at UPC 0."""
    m = _shipped()
    u, ref = m.urgent, m.general_practice.continuity_reference
    got = continuity.largest_multiplier(u, ref)
    at0 = float(continuity.crisis_multiplier(u, ref, np.array([0.0]))[0])
    assert got == pytest.approx(at0), f"largest {got}, at UPC 0 {at0}"
    want = 1.0 - u.continuity_effect_per_0_2_upc / 0.2 * ref
    assert got == pytest.approx(want), f"largest {got}, by hand {want}"
    assert got <= u.headroom, f"largest {got} above headroom {u.headroom}"
