"""General practice as a business inside the care model (issue 17): drawn GP sessions, money
that buys capacity, hand-backs with list dispersal, continuity measured from appointments and
read by the crisis rate, and collective disengagement.

Every comparison uses common random numbers: the same seed and replication, only the named
keys change. Runs are short (neighbourhood_50k, half a year or three quarters; one
replication, two for the capacity comparisons) and are driven through
:class:`sim.models.care.model.World`, so the tests can read the practices' state between
quarters as well as the KPIs.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from sim.config.compose import compose_config, compose_params
from sim.config.params import Params, to_container, validate
from sim.models import MODELS
from sim.models.care import kpis
from sim.models.care import model as care_model
from sim.models.care.practices import continuity
from sim.models.care.services.practices import quarter_ends

PLACE = ("model=care", "place=neighbourhood_50k")
HALF_YEAR = 184  # two quarter ends: days 91 and 183
FIRST_END = quarter_ends(HALF_YEAR)[0]
# Every practice engages (logit 10: probability 0.99995), so drawn sessions reach all of them.
ALL_ENGAGE = "model.practices.behaviour.engagement_intercept=10"
DRAW_6 = "lead_provider.practices.gp_sessions_drawn_per_10000=6"
HAND_BACK_FAST = "model.practices.viability.quarters_to_hand_back=1"
ALL_DISTRESSED = "model.practices.viability.distress_profit_per_partner_fte_gbp=10000000"


def _start(
    overrides: tuple[str, ...], horizon: int, warm_up: int, replication: int = 0
) -> care_model.World:
    """A world with its demand drawn and its processes started, at time 0 (as
    ``care_model.simulate`` builds it)."""
    params = compose_params(
        [*PLACE, f"run.horizon={horizon}", f"run.warm_up={warm_up}", *overrides]
    )
    return _started(params, replication)


def _started(params: Params, replication: int = 0) -> care_model.World:
    """A world of validated ``params`` with its demand drawn and its processes started."""
    world = care_model.World(params.model, params.run, replication)
    care_model.start(world, care_model.draw_demand(world, params.model, params.run))
    return world


def _finish(world: care_model.World) -> dict[str, float]:
    """Run ``world`` to its horizon and return its KPIs."""
    world.env.run(until=world.horizon)
    world.log.flush()
    return kpis.compute(world)


@functools.lru_cache(maxsize=8)
def _run(
    overrides: tuple[str, ...], horizon: int = HALF_YEAR, warm_up: int = 0, replication: int = 0
) -> tuple[care_model.World, dict[str, float]]:
    """One whole run (cached: several tests compare against the same baseline)."""
    world = _start(overrides, horizon, warm_up, replication)
    return world, _finish(world)


def _upc(rows: pd.DataFrame) -> np.ndarray:
    """Each row's measured continuity: usual-GP appointments over GP appointments."""
    return rows["usual_gp_appointments"].to_numpy(float) / rows["gp_appointments"].to_numpy(float)


def _quarter(world: care_model.World, q: int) -> pd.DataFrame:
    """The practices-table rows of quarter ``q``, indexed by practice."""
    tab = world.practices.table()
    return tab[tab["quarter"] == q].set_index("practice").sort_index()


def test_world_driver_matches_simulate():
    """The World-driven runs of this file give exactly the KPIs of ``MODELS["care"].simulate``
    for the same overrides, so what the tests below show holds for real runs."""
    overrides = (DRAW_6,)
    _, metrics = _run(overrides, 120, 30)
    params = compose_params([*PLACE, "run.horizon=120", "run.warm_up=30", *overrides])
    ref = MODELS["care"].simulate(params.model, params.run, params.output, 0).metrics
    differ = {
        k: (metrics[k], ref[k])
        for k in ref
        if not (metrics[k] == ref[k] or (np.isnan(metrics[k]) and np.isnan(ref[k])))
    }
    assert not differ, f"World-driven KPIs differ from simulate: {differ}"


# ---------------------------------------------------------------------- 1. drawn sessions
@pytest.mark.parametrize("replication", [0, 1])
def test_drawing_gp_sessions_lengthens_waits_and_lowers_continuity(replication):
    """With every practice engaged and hiring impossible, drawing 6 GP sessions a week per
    10,000 weighted patients into neighbourhood work (against the status quo's 0.5) takes
    appointments and usual-GP time out of practices: routine waits rise, measured continuity
    falls, and the table shows the drawn sessions."""
    fixed = (ALL_ENGAGE, "model.practices.behaviour.max_hire_sessions_per_quarter=0")
    base_w, base = _run(fixed, HALF_YEAR, 30, replication)
    drawn_w, drawn = _run((*fixed, DRAW_6), HALF_YEAR, 30, replication)
    wait = (base["gp_routine_wait_mean_days"], drawn["gp_routine_wait_mean_days"])
    upc = (base["gp_continuity_upc"], drawn["gp_continuity_upc"])
    assert wait[1] > wait[0] + 0.2, f"routine wait (days) status quo vs drawn: {wait}"
    assert upc[1] < upc[0] - 0.02, f"continuity (UPC) status quo vs drawn: {upc}"
    per_10000 = (base["gp_sessions_drawn_per_10000"], drawn["gp_sessions_drawn_per_10000"])
    assert per_10000[0] == pytest.approx(0.5, rel=0.01), per_10000
    assert per_10000[1] == pytest.approx(6.0, rel=0.01), per_10000
    working = (
        _quarter(base_w, 1)["gp_sessions"].to_numpy(),
        _quarter(drawn_w, 1)["gp_sessions"].to_numpy(),
    )
    assert (working[1] < working[0]).all(), f"GP sessions in practice work: {working}"


# ---------------------------------------------------------------------- 2. money buys capacity
HIRING = (
    DRAW_6,
    ALL_ENGAGE,
    "model.practices.behaviour.max_hire_sessions_per_quarter=10",
    # Above every practice's profit a partner FTE without the money (at most about GBP
    # 300,000 on neighbourhood_50k), so no practice can hire to replace its drawn sessions.
    "model.practices.behaviour.hire_floor_profit_per_partner_fte_gbp=350000",
    # The pay below comes out of the arrangement's envelope; both runs get the same envelope.
    "lead_provider.budget.envelope_per_head_gbp=400",
)
# About 6 x 0.7 = 4.2 drawn sessions a week at a practice of 7,000 weighted patients with
# 1.9 partner FTE: GBP 200,000 a session a year adds about GBP 440,000 a partner FTE, enough
# to clear the floor and pay the replacement sessions (GBP 14,949 a session a year).
PAID = "lead_provider.practices.drawn_session_payment_gbp=200000"


@pytest.mark.parametrize("replication", [0, 1])
def test_money_that_buys_capacity_shortens_waits(replication):
    """When the hire floor binds, practices cannot replace the GP sessions drawn from them;
    paying them for those sessions lets them hire salaried GPs, so from the next quarter they
    have more GP sessions in practice work and routine waits after the first quarter are
    shorter. The hires are checked, not assumed: salaried sessions rise only in the paid run."""
    runs = {}
    for name, extra in (("unpaid", ()), ("paid", (PAID,))):
        world = _start((*HIRING, *extra), 275, 92, replication)
        salaried_start = world.practices.wf.salaried.copy()
        metrics = _finish(world)
        runs[name] = (world, metrics, world.practices.wf.salaried - salaried_start)
    unpaid_w, unpaid, hired_unpaid = runs["unpaid"]
    paid_w, paid, hired_paid = runs["paid"]
    assert np.allclose(hired_unpaid, 0.0), f"hires without the money: {hired_unpaid}"
    assert (hired_paid > 1.0).all(), f"salaried sessions hired with the money: {hired_paid}"
    sessions = (
        _quarter(unpaid_w, 1)["gp_sessions"].to_numpy(),
        _quarter(paid_w, 1)["gp_sessions"].to_numpy(),
    )
    assert (sessions[1] > sessions[0]).all(), (
        f"GP sessions after hiring, unpaid vs paid: {sessions}"
    )
    wait = (unpaid["gp_routine_wait_mean_days"], paid["gp_routine_wait_mean_days"])
    assert wait[1] < wait[0] - 0.3, f"routine wait after the first quarter, unpaid vs paid: {wait}"
    pay = paid["practice_neighbourhood_payments_per_weighted_patient_gbp"]
    assert pay == pytest.approx(6 / 10_000 * 200_000, rel=0.05), f"paid GBP/weighted: {pay}"


# A neighbourhood payment large enough to buy sessions everywhere: GBP 30 per weighted patient
# a year is 0.5 x 30 x 7,000 / 14,949 = about 7 sessions at a practice of 7,000 (at most 2
# hired a quarter), out of an envelope big enough to pay it.
PAYMENT = (
    ALL_ENGAGE,
    "lead_provider.practices.payment_per_weighted_patient_gbp=30",
    "lead_provider.budget.envelope_per_head_gbp=400",
)
SPENT = "model.practices.behaviour.payment_spent_on_gp_sessions_share"


@pytest.mark.parametrize("replication", [0, 1])
def test_a_neighbourhood_payment_practices_spend_on_gps_shortens_waits(replication):
    """The same payment, spent half on salaried GP sessions or kept by the partners (common
    random numbers): spending it adds GP sessions in practice work from the first quarter
    end, more GP appointments, less same-day need unmet and shorter routine waits; keeping it
    leaves the partners' profit higher. Which of the two practices do is the assumption the
    share names."""
    runs = {}
    for share in (0.0, 0.5):
        world = _start((*PAYMENT, f"{SPENT}={share}"), 275, 92, replication)
        salaried_start = world.practices.wf.salaried.copy()
        metrics = _finish(world)
        runs[share] = (world, metrics, world.practices.wf.salaried - salaried_start)
    kept_w, kept, hired_kept = runs[0.0]
    spent_w, spent, hired_spent = runs[0.5]
    assert (hired_spent > hired_kept + 1.0).all(), f"sessions hired: {hired_kept} vs {hired_spent}"
    sessions = (
        _quarter(kept_w, 1)["gp_sessions"].to_numpy(),
        _quarter(spent_w, 1)["gp_sessions"].to_numpy(),
    )
    assert (sessions[1] > sessions[0]).all(), f"GP sessions, kept vs spent: {sessions}"
    appts = (kept["gp_appointments_per_1000"], spent["gp_appointments_per_1000"])
    assert appts[1] > appts[0] + 30, f"GP appointments per 1,000, kept vs spent: {appts}"
    # The new GP time goes to same-day need first (it is booked first), so the same-day need
    # left unmet falls most; routine waits shorten a little, and never lengthen.
    unmet = (kept["gp_same_day_unmet_per_1000"], spent["gp_same_day_unmet_per_1000"])
    assert unmet[1] < unmet[0] - 20, f"same-day need unmet per 1,000, kept vs spent: {unmet}"
    wait = (kept["gp_routine_wait_mean_days"], spent["gp_routine_wait_mean_days"])
    assert wait[1] < wait[0], f"routine wait (days), kept vs spent: {wait}"
    profit = (
        kept["practice_profit_per_partner_fte_median_gbp"],
        spent["practice_profit_per_partner_fte_median_gbp"],
    )
    assert profit[1] < profit[0] - 10_000, f"partner profit, kept vs spent: {profit}"


# ---------------------------------------------------------------------- 3. hand-backs
def test_practices_in_distress_hand_back_and_their_lists_disperse():
    """With every practice below the distress threshold and one quarter of distress enough,
    every practice but the area's last hands back at the first quarter end: the table marks
    them handed back, they have no registered patients afterwards, the remaining practice's
    list grows by theirs, every registered person belongs to an open practice, the displaced
    KPI is positive, and the receiver's routine wait rises against the run without
    hand-backs."""
    calm_w, _ = _run((HAND_BACK_FAST,))
    world, metrics = _run((HAND_BACK_FAST, ALL_DISTRESSED))
    q0, q1 = _quarter(world, 0), _quarter(world, 1)
    backs = q0.index[q0["handed_back"]].to_numpy()
    n = world.practices.n
    assert backs.size == n - 1, f"practices handing back at the first quarter end: {backs}"
    assert not _quarter(calm_w, 0)["handed_back"].any(), "hand-backs without distress"
    kept = np.setdiff1d(np.arange(n), backs)
    assert kept.tolist() == [0], f"the area's last open practice should be the first: {kept}"
    assert (q1.loc[backs, "registered"] == 0).all(), q1.loc[backs, "registered"].to_dict()
    assert not q1.loc[backs, "open"].any(), "closed practices still marked open"
    grew = (q0.loc[0, "registered"], q1.loc[0, "registered"])
    assert grew[1] > grew[0] + 0.95 * q0.loc[backs, "registered"].sum(), f"receiver list {grew}"

    pop = world.pop
    now = world.env.now
    registered = pop.on_list & (pop.death_time > now)
    open_ids = np.flatnonzero(world.practices.is_open)
    stray = registered & ~np.isin(pop.practice, open_ids)
    assert not stray.any(), f"{int(stray.sum())} registered people at closed practices"

    displaced = metrics["patients_displaced_per_1000"]
    assert displaced > 0, f"patients_displaced_per_1000 = {displaced}"
    wait = (
        _quarter(calm_w, 1).loc[0, "routine_wait_mean_days"],
        q1.loc[0, "routine_wait_mean_days"],
    )
    assert wait[1] > wait[0] + 5, f"receiver's routine wait, no hand-backs vs hand-backs: {wait}"


def test_hand_backs_in_the_warm_up_are_not_counted():
    """The hand-back KPIs count quarters mostly after the warm-up: when the practices hand
    back at the end of a quarter that began in the warm-up, the lists still disperse but
    neither contracts handed back nor patients displaced are counted."""
    world, metrics = _run((HAND_BACK_FAST, ALL_DISTRESSED), HALF_YEAR, FIRST_END)
    q0 = _quarter(world, 0)
    assert q0["handed_back"].sum() == world.practices.n - 1, q0["handed_back"].to_dict()
    assert not q0["measured"].any() and _quarter(world, 1)["measured"].all()
    counted = (
        metrics["patients_displaced_per_1000"],
        metrics["practice_contracts_handed_back_per_100_practices"],
    )
    assert counted == (0.0, 0.0), f"displaced per 1,000 and hand-backs per 100: {counted}"


def test_each_displaced_patient_is_counted_once():
    """patients_displaced_per_1000 counts each patient whose practice closed once: here the
    patients registered at the practices that hand back at the first quarter end, per 1,000
    registered at the start, per year of the measured quarters."""
    world, metrics = _run((HAND_BACK_FAST, ALL_DISTRESSED))
    q0 = _quarter(world, 0)
    at_closing = int(q0.loc[q0["handed_back"], "registered"].sum())
    years = world.practices.table()["quarter"].nunique() / 4.0
    expected = at_closing / world.practices.start_registered * 1000.0 / years
    got = metrics["patients_displaced_per_1000"]
    assert got == pytest.approx(expected, rel=0.01), (
        f"patients_displaced_per_1000 {got:.1f}, expected {expected:.1f} "
        f"({at_closing} registered at closing practices; {world.practices.displaced_post} moves)"
    )


def test_dispersal_stays_in_the_neighbourhood_in_proportion_to_lists():
    """When only the practices below the median profit a partner FTE hand back (the threshold
    read from the same run without hand-backs: common random numbers give the same first
    quarter), exactly those close at the first quarter end, and their patients go to the
    practices that stay open, each receiver gaining in proportion to its list."""
    calm_w, _ = _run((HAND_BACK_FAST,))
    ppf = _quarter(calm_w, 0)["profit_per_partner_fte_gbp"].to_numpy()
    threshold = float(np.median(ppf)) + 1.0
    distress = f"model.practices.viability.distress_profit_per_partner_fte_gbp={threshold}"
    world = _start((HAND_BACK_FAST, distress), HALF_YEAR, 0)
    world.env.run(until=FIRST_END + 1)  # just after the first quarter end
    q0 = _quarter(world, 0)
    backs = q0.index[q0["handed_back"]].to_numpy()
    assert backs.tolist() == np.flatnonzero(ppf < threshold).tolist(), (
        f"handed back {backs}; profit a partner FTE {np.round(ppf, -3)}, threshold {threshold}"
    )
    stayed = np.flatnonzero(world.practices.is_open)
    assert np.intersect1d(stayed, backs).size == 0, f"open {stayed}, handed back {backs}"
    pop = world.pop
    # The closing practices' registered patients, by their practice in the run without
    # hand-backs (the same people: common random numbers).
    moved = np.isin(calm_w.pop.practice, backs) & pop.on_list & (pop.death_time > FIRST_END)
    now_at = pop.practice[moved]
    assert np.isin(now_at, stayed).all(), f"patients left at {np.unique(now_at)}"
    gained = np.bincount(now_at, minlength=world.practices.n)[stayed]
    share = gained / gained.sum()
    want = q0.loc[stayed, "registered"].to_numpy(float)
    want /= want.sum()
    assert share == pytest.approx(want, abs=0.02), (
        f"receivers {stayed.tolist()}: shares of the dispersed list {np.round(share, 3)}, "
        f"shares of their lists {np.round(want, 3)}"
    )


def test_each_area_keeps_its_last_practice_and_lists_stay_in_their_area():
    """In a place of two areas (west: two neighbourhoods, east: one) where every practice is
    in distress, each area keeps exactly one practice (the commissioner keeps a contract in
    place); a neighbourhood whose practices all close disperses to its area's open practice,
    and no registered patient ends up at a practice in another area."""
    data = to_container(
        compose_config(
            [*PLACE, f"run.horizon={HALF_YEAR}", "run.warm_up=0", HAND_BACK_FAST, ALL_DISTRESSED]
        )
    )
    row = {"deprivation_shares": [0.2] * 5, "population": 25000}
    data["place"]["areas"] = {
        "west": {**row, "neighbourhoods": 2},
        "east": {**row, "neighbourhoods": 1},
    }
    world = _started(validate(data))
    _finish(world)
    pr = world.practices
    open_by_area = np.bincount(pr.area[pr.is_open], minlength=2)
    assert open_by_area.tolist() == [1, 1], f"open practices by area: {open_by_area}"
    west_nbs = np.unique(pr.neighbourhood[pr.area == 0])
    assert west_nbs.size == 2, f"west's neighbourhoods: {west_nbs}"
    emptied = [nb for nb in west_nbs if not pr.is_open[pr.neighbourhood == nb].any()]
    assert emptied, "no neighbourhood lost all its practices: the area fallback is not tested"
    pop = world.pop
    registered = pop.on_list & (pop.death_time > world.env.now)
    crossed = registered & (pr.area[pop.practice] != world.area_of)
    assert not crossed.any(), f"{int(crossed.sum())} registered people at another area's practice"
    assert pr.is_open[pop.practice[registered]].all(), "registered people at closed practices"


# ---------------------------------------------------------------------- 4. continuity emerges
def test_continuity_falls_with_less_weight_on_new_registrants():
    """gp_continuity_upc is measured, not configured: lowering the chance that a patient new
    to their practice sees their usual GP lowers it and raising it raises it, a little when
    only joiners are new and clearly when hand-backs make most of the list new."""
    factors = (0.0, 0.5, 1.0)

    def upc(*overrides: str) -> list[float]:
        return [
            _run((*overrides, f"model.practices.continuity.new_registration_factor={f}"))[1][
                "gp_continuity_upc"
            ]
            for f in factors
        ]

    calm = upc()
    assert calm[0] < calm[1] < calm[2], f"continuity at new_registration_factor {factors}: {calm}"
    dispersed = upc(HAND_BACK_FAST, ALL_DISTRESSED)
    assert dispersed[0] < dispersed[1] - 0.02 < dispersed[2] - 0.04, (
        f"continuity after hand-backs at new_registration_factor {factors}: {dispersed}"
    )


def test_practice_continuity_matches_its_usual_gp_probability():
    """Each practice's measured UPC in the table (usual-GP over GP appointments) matches the
    chance of seeing the usual GP the model held for that quarter, within 4 binomial standard
    errors, when new registrants are treated like established patients; with the default
    factor for new registrants it is at most that chance and not far below it."""
    for factor, below in ((1.0, 0.0), (0.5, 0.05)):
        world = _start((f"model.practices.continuity.new_registration_factor={factor}",), 184, 0)
        held = [world.practices.usual.copy()]
        world.env.run(until=FIRST_END + 1)
        held.append(world.practices.usual.copy())
        _finish(world)
        for q in (0, 1):
            rows = _quarter(world, q)
            upc = _upc(rows)
            n = rows["gp_appointments"].to_numpy(float)
            p = held[q]
            se = np.sqrt(p * (1 - p) / n)
            assert (upc < p + 4 * se).all() and (upc > p - 4 * se - below).all(), (
                f"factor {factor}, quarter {q}: measured {np.round(upc, 3)}, usual-GP chance "
                f"{np.round(p, 3)}, 4 s.e. {np.round(4 * se, 3)}"
            )


# ---------------------------------------------------------------------- 5. crisis reads UPC
def test_crisis_scale_follows_measured_continuity():
    """After the first quarter end each practice's crisis-rate scale is the continuity
    multiplier of its UPC measured in that quarter over the thinning headroom, and it has
    moved from the value set at the start from the usual-GP probability."""
    world = _start((DRAW_6, ALL_ENGAGE), 184, 0)
    at_start = list(world.crisis_scale)
    world.env.run(until=FIRST_END + 1)
    upc = _upc(_quarter(world, 0))
    p = world.params
    want = (
        continuity.crisis_multiplier(
            p.model.urgent, p.model.general_practice.continuity_reference, upc
        )
        / world.headroom
    )
    got = np.array(world.crisis_scale)
    assert got == pytest.approx(want, rel=1e-12), f"crisis scale {got}, from measured {want}"
    assert not np.allclose(got, at_start), f"crisis scale unchanged from the start: {at_start}"


def test_crises_ignore_continuity_when_its_effect_is_zero():
    """Continuity changes crises only through the sourced effect: with
    continuity_effect_per_0_2_upc = 0, taking new registrants' usual GP away (factor 1 -> 0)
    leaves the crisis count exactly as it was; with the default effect it changes it."""
    counts = {}
    for effect in ("0", None):
        eff = () if effect is None else (f"model.urgent.continuity_effect_per_0_2_upc={effect}",)
        counts[effect] = [
            _run((*eff, f"model.practices.continuity.new_registration_factor={f}"))[0].crises
            for f in (1.0, 0.0)
        ]
    assert counts["0"][0] == counts["0"][1], f"crises with no continuity effect: {counts}"
    assert counts[None][0] != counts[None][1], f"crises with the default effect: {counts}"


# ---------------------------------------------------------------------- 7. disengagement
def test_collective_disengagement_stops_engagement_money_sessions_and_case_finding():
    """Under federation-led terms (a neighbourhood payment and paid drawn sessions), the LMC's
    collective disengagement leaves no practice engaged: no neighbourhood payments, no GP
    sessions drawn, and fewer proactive-care enrolments (engaged practices case-find) than the
    same run without it."""
    lead = "lead_provider=federation_led"
    on_w, on = _run((lead,))
    off_w, off = _run((lead, "lead_provider.practices.collective_disengagement=true"))
    assert on["practices_engaged_share"] > 0.5, on["practices_engaged_share"]
    assert off["practices_engaged_share"] == 0.0, off["practices_engaged_share"]
    pay = (
        on["practice_neighbourhood_payments_per_weighted_patient_gbp"],
        off["practice_neighbourhood_payments_per_weighted_patient_gbp"],
    )
    assert pay[0] > 0 and pay[1] == 0.0, f"payments GBP/weighted, engaged vs disengaged: {pay}"
    drawn = (on["gp_sessions_drawn_per_10000"], off["gp_sessions_drawn_per_10000"])
    assert drawn[0] > 0 and drawn[1] == 0.0, f"sessions drawn per 10,000: {drawn}"
    assert (off_w.practices.table()["sessions_drawn"] == 0).all()
    assert not off_w.practices.table()["engaged"].any()
    enrol = (on_w.community.proactive.enrolments, off_w.community.proactive.enrolments)
    assert enrol[1] < enrol[0], f"proactive enrolments, engaged vs disengaged: {enrol}"
