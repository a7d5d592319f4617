"""KPIs after warm-up, the daily time series and run diagnostics.

Rates are annualised per 1,000 registered population at the start of the run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from sim.engine.monitor import Level
from sim.models.care import costs
from sim.models.care.records import EVENT, PLACES, SETTING, Event
from sim.models.care.schema import DELAY_REASONS

if TYPE_CHECKING:
    from sim.models.care.demand import Candidates
    from sim.models.care.model import World


def _mean(levels: list[Level], start: float, end: float) -> float:
    """Time-weighted mean of the sum of several levels."""
    return sum(level.mean(start, end) for level in levels)


def _daily(levels: list[Level], days: int) -> np.ndarray:
    """Daily time-weighted means of the sum of several levels."""
    return np.sum([level.daily_means(days) for level in levels], axis=0)


def practice_metrics(world: World) -> dict[str, float]:
    """Practices as businesses, over the quarters mostly after the warm-up (their middle day
    after it): margins, distress, hand-backs and dispersal, engagement, and money to and from
    practices."""
    pr = world.practices
    rows = pd.DataFrame(pr.rows)
    out: dict[str, float] = {"practices_engaged_share": float(np.mean(pr.engaged_at_start))}
    measured = rows[rows["measured"]] if len(rows) else rows
    open_rows = measured[measured["open"]] if len(measured) else measured
    n_quarters = int(measured["quarter"].nunique()) if len(measured) else 0
    years = n_quarters / 4.0
    nan = float("nan")
    ppf = open_rows["profit_per_partner_fte_gbp"].to_numpy(float) if len(open_rows) else []
    ppf = np.asarray(ppf)[np.isfinite(ppf)]
    out["practice_profit_per_partner_fte_median_gbp"] = float(np.median(ppf)) if ppf.size else nan
    out["practice_profit_per_partner_fte_p10_gbp"] = (
        float(np.percentile(ppf, 10)) if ppf.size else nan
    )
    out["practices_in_distress_share"] = (
        float(open_rows["distressed"].mean()) if len(open_rows) else nan
    )
    n_practices = pr.n
    out["practice_contracts_handed_back_per_100_practices"] = (
        pr.handed_back_post / n_practices * 100.0 / years if years else nan
    )
    out["patients_displaced_per_1000"] = (
        pr.displaced_post / pr.start_registered * 1000.0 / years if years else nan
    )
    weighted = float(open_rows["weighted_list"].sum()) / 4.0 if len(open_rows) else 0.0
    paid = float(measured["neighbourhood_payment_gbp"].sum()) if len(measured) else 0.0
    lost = float(measured["enhanced_services_lost_gbp"].sum()) if len(measured) else 0.0
    out["practice_neighbourhood_payments_per_weighted_patient_gbp"] = (
        paid / weighted if weighted else nan
    )
    out["practice_income_moved_out_per_weighted_patient_gbp"] = lost / weighted if weighted else nan
    out["practice_neighbourhood_payments_per_head_gbp"] = (
        paid / years / pr.start_registered if years else nan
    )
    drawn = float(open_rows["sessions_drawn"].sum()) if len(open_rows) else 0.0
    out["gp_sessions_drawn_per_10000"] = drawn / (weighted * 4.0) * 10_000.0 if weighted else nan
    return out


def _safe(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _last_year_of_life(world: World) -> dict[str, float]:
    """Hospital use before death, per decedent (issue 16, item 9; docs/model.md).

    Last-year figures count only deaths a whole year into the run (``LAST_YEAR_DAYS``),
    last-90-day figures only deaths 90 days into it, so no decedent's window is cut short by
    the start of the run; NaN when the run is too short to have any.
    """
    from sim.models.care.tallies import LAST_DAYS, LAST_YEAR_DAYS

    events = world.log.tally
    stays = world.hospital.stays
    year = [(p, t) for p, t in events.deaths if t >= LAST_YEAR_DAYS]
    last_90 = [(p, t) for p, t in events.deaths if t >= LAST_DAYS]
    n_year = events.decedents_last_year
    bed_year = sum(stays.bed_days(p, t - LAST_YEAR_DAYS, t) for p, t in year)
    bed_90 = sum(stays.bed_days(p, t - LAST_DAYS, t) for p, t in last_90)
    return {
        "decedent_admissions_last_year_mean": _safe(events.admissions_last_year, n_year),
        "deaths_3plus_admissions_last_year_share": _safe(events.deaths_3plus_last_year, n_year),
        "decedent_bed_days_last_year_mean": _safe(bed_year, len(year)),
        "decedent_days_at_home_last_90d_mean": _safe(
            LAST_DAYS * len(last_90) - bed_90, len(last_90)
        ),
        "deaths_identified_eol_share": _safe(events.deaths_identified, len(events.deaths)),
        "hospital_deaths_admitted_last_month_share": _safe(
            events.hospital_deaths_admitted_last_month, events.hospital_deaths
        ),
        "other_deaths_hospital_use_last_month_share": _safe(
            events.other_deaths_hospital_use_last_month, events.other_deaths
        ),
    }


def compute(world: World) -> dict[str, float]:
    """Every KPI of one replication (see docs/model.md for definitions).

    Read from the running tallies, so call ``world.log.flush()`` first.
    """
    W, H = world.warm_up, world.horizon
    pop = world.pop
    n_pop = pop.n_start  # list size at the start (it stays stable: life_course.py)
    start = slice(0, pop.n_start)
    years = (H - W) / 365.0
    per1000 = 1000.0 / n_pop / years
    events = world.log.tally
    count = events.after_warm_up

    m: dict[str, float] = {}
    # ------------------------------------------------------------ general practice
    gp = world.gp.appointments
    n_appt = gp.held
    m["gp_appointments_per_1000"] = n_appt * per1000
    m["gp_routine_wait_mean_days"] = gp.routine_wait_mean()
    m["gp_routine_wait_p90_days"] = gp.routine_wait_percentile(90)
    m["gp_same_day_share"] = _safe(gp.same_day, n_appt)
    m["gp_within_14_days_share"] = _safe(gp.within_14_days, n_appt)
    m["gp_gp_delivered_share"] = _safe(int(gp.role_by_area[:, 0].sum()), n_appt)
    m["gp_continuity_upc"] = gp.continuity_upc()
    m["gp_same_day_unmet_per_1000"] = count("gp_same_day_unmet") * per1000
    m["nhs111_contacts_per_1000"] = count("nhs111_contact") * per1000
    m["outpatient_referrals_per_1000"] = count("outpatient_referral") * per1000

    # ------------------------------------------------------------ ED and UTC
    h = world.hospital
    v = h.visits
    m["ed_attendances_per_1000"] = (count("ed_arrival") + count("utc_arrival")) * per1000
    m["ed_type1_attendances_per_1000"] = count("ed_arrival") * per1000
    m["ed_within_4h_share"] = _safe(v.within_4h, v.visits)
    m["ed_type1_within_4h_share"] = _safe(v.type1_within_4h, v.type1)
    m["ed_type1_admitted_share"] = _safe(v.type1_admitted, v.type1)
    m["ed_time_in_department_mean_hours"] = v.type1_days / v.type1 * 24 if v.type1 else np.nan
    m["ambulance_conveyances_per_1000"] = count("ambulance_conveyance") * per1000

    # ------------------------------------------------------------ admissions and beds
    m["emergency_admissions_per_1000"] = count("emergency_admission") * per1000
    st = h.stays
    m["los_mean_days"] = _safe(st.los_days, st.ended)
    m["los_75plus_mean_days"] = _safe(st.los_days_old, st.ended_old)
    beds = [_lv(p) for p in h.beds]
    reserved = float(sum(h.reserved))
    total_beds = float(sum(h.beds_total))
    occupied = _mean(beds, W, H) + reserved
    m["beds_available"] = total_beds
    m["bed_occupancy_mean"] = _safe(occupied, total_beds)
    daily = (_daily(beds, world.days) + reserved) / total_beds if total_beds else None
    first = int(np.ceil(W))
    m["bed_occupancy_p95"] = (
        float(np.percentile(daily[first:], 95))
        if daily is not None and daily[first:].size
        else np.nan
    )
    delayed = _mean(h.delayed, W, H)
    m["delayed_discharge_beds_mean"] = delayed
    m["delayed_discharge_beds_per_1000"] = delayed * 1000.0 / n_pop
    m["delayed_discharge_bed_days_per_1000"] = delayed * 365.0 * 1000.0 / n_pop
    m["delayed_discharge_share_of_occupied"] = _safe(delayed, occupied)
    # By reason: the handoff, then each pathway's capacity (they add up to ``delayed``).
    for reason in DELAY_REASONS:
        held = h.reasons.mean(reason, W, H)
        m[f"delayed_discharge_bed_days_{reason}_per_1000"] = held * 365.0 * 1000.0 / n_pop
        m[f"delayed_discharge_{reason}_share"] = _safe(held, delayed)
    m["social_care_packages_mean"] = world.social_care.packages_in_use_mean()
    m["ed_waiting_for_bed_mean"] = _mean(h.boarding, W, H)
    after = world.after
    m["readmission_30d_share"] = after.share()
    cohort_years = max(after.cohort_end - W, 0.0) / 365.0
    m["readmissions_after_lost_referral_per_1000"] = (
        after.after_lost * 1000.0 / n_pop / cohort_years if cohort_years > 0 else np.nan
    )

    # ------------------------------------------------------------ community and MNP
    c = world.community
    ucr = c.ucr.response_times
    m["ucr_responses_per_1000"] = count("ucr_response") * per1000
    m["ucr_within_2h_share"] = _safe(ucr.within_count, ucr.count)
    m["ucr_escalated_per_1000"] = count("ucr_escalated") * per1000
    m["crises_per_1000"] = count("crisis") * per1000
    m["proactive_caseload_mean"] = c.proactive.level.mean(W, H)
    # GP-to-neighbourhood referral time: days until the team receives the referral (the
    # handoff); the wait for a place after that is a matter of capacity, not of boundaries.
    m["snp_referral_days_mean"] = c.proactive.referral_delays.mean()
    to_snp = events.post[:, SETTING["proactive_care"]].sum(axis=(1, 2, 3))
    m["snp_referrals_lost_share"] = _safe(
        int(to_snp[Event.REFERRAL_LOST]), int(to_snp[Event.REFERRAL])
    )
    vw_pools = world.mnp.virtual_ward.pools
    vw = _mean([_lv(p) for p in vw_pools], W, H)
    vw_beds = float(sum(p.servers for p in vw_pools))
    m["virtual_ward_patients_mean"] = vw
    m["virtual_ward_occupancy_mean"] = _safe(vw, vw_beds)
    m["step_down_patients_mean"] = _mean([_lv(p) for p in c.step_down.pools], W, H)
    m["eol_caseload_mean"] = _mean([_lv(p) for p in world.mnp.eol], W, H)
    m["eol_waiting_mean"] = world.mnp.eol_waiting_level.mean(W, H)

    # ------------------------------------------------------------ deaths
    n_deaths = count("death")
    m["deaths_per_1000"] = n_deaths * per1000
    deaths = events.post[Event.DEATH]
    by_place = deaths.sum(axis=(0, 2, 3))
    for code, name in enumerate(PLACES):
        if name:
            m[f"death_place_{name}_share"] = _safe(int(by_place[code]), n_deaths)
    m["deaths_3plus_admissions_last_90d_share"] = _safe(
        events.deaths_after_repeat_admissions, n_deaths
    )
    m.update(_last_year_of_life(world))

    # ------------------------------------------------------------ equity
    q_pop = np.bincount(pop.quintile[start], minlength=5)
    for name, evname in (
        ("emergency_admissions", "emergency_admission"),
        ("ed_attendances", "ed_arrival"),
    ):
        q = events.by_quintile(evname)
        rates = q * 1000.0 / np.maximum(q_pop, 1) / years
        for i in range(5):
            m[f"{name}_per_1000__q{i + 1}"] = float(rates[i])
        m[f"{name}_ratio_q5_q1"] = _safe(rates[4], rates[0])
    for i in (0, 4):
        m[f"readmission_30d_share__q{i + 1}"] = after.share(i)
    m["readmission_30d_ratio_q5_q1"] = _safe(after.share(4), after.share(0))
    adult = (pop.age >= 1) & pop.on_list & (pop.death_time > H)  # registered at the end
    multi = adult & (pop.ltc >= 2)
    m["multimorbidity_adult_share"] = _safe(int(multi.sum()), int(adult.sum()))
    for i in (0, 4):
        sel = multi & (pop.quintile == i)
        m[f"ltc4plus_share_of_multimorbid__q{i + 1}"] = _safe(
            int((sel & (pop.ltc >= 4)).sum()), int(sel.sum())
        )

    # ------------------------------------------------------------ cost
    params = world.params
    n_areas = len(params.area_names)
    area = np.asarray(world.area_of)
    area_pop = np.bincount(area[start], minlength=n_areas)
    act = {
        "gp": gp.role_by_area[:, 0],
        "nurse": gp.role_by_area[:, 1],
        "additional_roles": gp.role_by_area[:, 2],
        "nhs111": events.by_area("nhs111_contact"),
        "utc": events.by_area("utc_arrival"),
        "ed": events.by_area("ed_arrival"),
        "ambulance": events.by_area("ambulance_conveyance"),
        # Bed days of each area's people (a trust's pool may serve several areas).
        "bed_days": np.array([level.mean(W, H) * (H - W) for level in h.in_bed]),
        "outpatients": events.by_area("outpatient_referral"),
        # Every resident's days in the measured period, as the care homes' occupancy: the
        # public cost of care homes is a steady flow, where the days of placements made
        # during the run alone grew with the run's length (GBP 110 a head in year 2, 151 in
        # year 3 of the status quo).
        "care_home_days": np.array([_lv(p_).mean(W, H) * (H - W) for p_ in world.mnp.care_homes]),
    }
    unit = params.model.costs.unit
    by_setting: dict[str, float] = {}
    by_org: dict[str, float] = {}
    area_cost = np.zeros(n_areas)
    for k in range(n_areas):
        setting_k = costs.settings_cost(
            unit,
            params.area_budget[k].spend,
            {name: float(v[k]) for name, v in act.items()},
            years,
            params.model.costs.care_home_self_funded_share,
        )
        area_cost[k] = sum(setting_k.values())
        for name, value in setting_k.items():
            by_setting[name] = by_setting.get(name, 0.0) + value
        org_k = costs.organisation_cost(params.area_leads[k].organisations, setting_k)
        for org, value in org_k.items():
            by_org[org] = by_org.get(org, 0.0) + value
    m["cost_per_capita"] = float(area_cost.sum()) / n_pop / years
    for name, value in by_setting.items():
        m[f"cost__{name}"] = value / years
    for org, value in by_org.items():
        m[f"cost__{_slug(org)}"] = value / years
    m.update(practice_metrics(world))

    # ------------------------------------------------------------ by area (borough)
    if n_areas > 1:
        adm = events.by_area("emergency_admission")
        died = deaths.sum(axis=(0, 1, 3))
        home = deaths[:, PLACES.index("home")].sum(axis=(0, 2))
        for k, name in enumerate(params.area_names):
            tag = f"__area_{_slug(name)}"
            pop_k = max(int(area_pop[k]), 1)
            m[f"emergency_admissions_per_1000{tag}"] = adm[k] * 1000.0 / pop_k / years
            # The occupancy of the trust that serves the area (shared with the other areas
            # it serves, place.trusts).
            t = h.trust_of_area[k]
            occupied_k = _lv(h.beds[t]).mean(W, H) + h.reserved[t]
            m[f"bed_occupancy_mean{tag}"] = _safe(occupied_k, h.beds_total[t])
            m[f"delayed_discharge_bed_days_per_1000{tag}"] = (
                h.delayed[k].mean(W, H) * 365.0 * 1000.0 / pop_k
            )
            routine_k = int(gp.routine_by_area[k])
            m[f"gp_routine_wait_mean_days{tag}"] = (
                float(gp.routine_wait_sum_by_area[k] / routine_k) if routine_k else np.nan
            )
            m[f"death_place_home_share{tag}"] = _safe(int(home[k]), int(died[k]))
            m[f"cost_per_capita{tag}"] = area_cost[k] / pop_k / years
    return m


def timeseries(world: World) -> pd.DataFrame:
    """Daily time-weighted means of occupancies, queues and caseloads, and daily events."""
    days = world.days
    h = world.hospital
    c = world.community
    mnp = world.mnp
    data = {
        "time_days": np.arange(days, dtype=float),
        "beds_occupied": _daily([_lv(p) for p in h.beds], days) + float(sum(h.reserved)),
        "bed_capacity": np.full(days, float(sum(h.beds_total))),
        "delayed_discharge_beds": _daily(h.delayed, days),
        "ed_in_department": h.visits.type1_in_department,
        "ed_waiting_for_bed": _daily(h.boarding, days),
        "proactive_caseload": c.proactive.level.daily_means(days),
        "step_down_patients": _daily([_lv(p) for p in c.step_down.pools], days),
        "virtual_ward_patients": _daily([_lv(p) for p in mnp.virtual_ward.pools], days),
        "eol_caseload": _daily([_lv(p) for p in mnp.eol], days),
        "eol_waiting": mnp.eol_waiting_level.daily_means(days),
        "care_home_residents": _daily([_lv(p) for p in mnp.care_homes], days),
    }
    # The places each finite service has, beside its level, so the validity checks can see
    # a service pinned at capacity (column ``<series>_capacity``). Unlimited services
    # (capacity inf) get no column: they cannot be full.
    finite: dict[str, list[Any]] = {
        "step_down_patients": c.step_down.pools,
        "virtual_ward_patients": mnp.virtual_ward.pools,
        "eol_caseload": mnp.eol,
        "care_home_residents": mnp.care_homes,
    }
    for series, pools in finite.items():
        places = float(sum(p.servers for p in pools))
        if np.isfinite(places):
            data[f"{series}_capacity"] = np.full(days, places)
    # ED clinicians and UCR teams (engine resources with a busy Level): how full they are.
    data["ed_clinicians_busy"] = _daily([_lv(r) for r in h.ed], days)
    data["ed_clinicians_capacity"] = np.full(days, float(sum(r.servers for r in h.ed)))
    rotas = [r for area in c.ucr.teams for r in area]
    data["ucr_teams_busy"] = _daily(list({id(_lv(r)): _lv(r) for r in rotas}.values()), days)
    # Team-days a day: each team works its hours, so a rota full all its open hours has a
    # daily mean of busy teams equal to this.
    team_days = sum(r.servers * (r.close_at - r.open_at) for r in rotas)
    if np.isfinite(team_days):
        data["ucr_teams_capacity"] = np.full(days, float(team_days))
    proactive_places = float(sum(c.proactive.capacity))
    if np.isfinite(proactive_places):
        data["proactive_caseload_capacity"] = np.full(days, proactive_places)
    daily = world.log.tally.daily
    for name in ("gp_appointment", "ed_arrival", "emergency_admission", "ucr_response", "death"):
        data[f"{name}s"] = daily[EVENT[name]].astype(float)
    return pd.DataFrame(data)


def diagnostics(world: World, cands: Candidates) -> dict[str, float]:
    """Counts that describe the run and its conservation checks."""
    h = world.hospital
    pop = world.pop
    total = world.log.tally.total

    def n(name: str) -> int:
        return int(total[EVENT[name]])

    died = int(np.count_nonzero(pop.death_time <= world.horizon))
    in_bed = sum(p.busy for p in h.beds)
    # The surprise question's answers in this run: its realised accuracy against the
    # person's illness phase (compare with model.eol.sensitivity and specificity).
    (no_out, yes_out), (no_in, yes_in) = world.mnp.question.answers.tolist()
    return {
        "eol_identified": float(n("eol_identified")),
        "eol_exits": float(n("eol_exit")),
        # Came off the register while waiting for a place, or with a lost referral.
        "eol_removed": float(n("eol_removed")),
        "eol_question_sensitivity": yes_in / (yes_in + no_in) if yes_in + no_in else np.nan,
        "eol_question_specificity": no_out / (no_out + yes_out) if no_out + yes_out else np.nan,
        "eol_question_ppv": yes_in / (yes_in + yes_out) if yes_in + yes_out else np.nan,
        "population": float(pop.n_start),
        "alive_at_end": float(np.count_nonzero(pop.on_list & (pop.death_time > world.horizon))),
        # The open population (life_course.py): list size, joins and moves away.
        "list_size_start": float(pop.n_start),
        "list_size_end": float(np.count_nonzero(pop.on_list & (pop.death_time > world.horizon))),
        "registrations": float(pop.flows.joined),
        "deregistrations": float(pop.flows.left),
        "deregistrations_deferred_days": float(pop.flows.deferrals),
        "died": float(died),
        "registrations_per_1000_per_year": pop.flows.joined * 365.0e3 / pop.n_start / world.horizon,
        "deregistrations_per_1000_per_year": pop.flows.left * 365.0e3 / pop.n_start / world.horizon,
        "deaths_brought_forward_by_care_home_entry": float(world.mnp.deaths_brought_forward),
        "deaths": float(n("death")),
        "candidate_urgent_events": float(len(cands)),
        "simpy_events_scheduled": float(world.scheduled + len(cands) + world.days),
        "admissions": float(n("emergency_admission")),
        "discharges": float(n("discharge")),
        "deaths_in_bed": float(h.stays.died),
        "in_bed_at_end": float(in_bed),
        "episodes": float(h.stays.admitted),
        "patient_episodes": float(
            n("gp_appointment")
            + n("ed_arrival")
            + n("utc_arrival")
            + n("emergency_admission")
            + n("ucr_response")
        ),
    }


def _lv(resource: Any) -> Level:
    """The busy :class:`Level` an engine resource keeps for the daily series (every care
    resource is built with one)."""
    level = resource.level
    if level is None:
        raise RuntimeError(f"{type(resource).__name__} was built without a level")
    return cast(Level, level)
