"""KPIs after warm-up, the daily time series and run diagnostics.

Rates are annualised per 1,000 registered population at the start of the run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.models.care import costs
from sim.models.care.records import EVENT, PLACES, SETTING
from sim.models.care.resources import Level

if TYPE_CHECKING:
    from sim.models.care.demand import Candidates
    from sim.models.care.model import World


def _sum_levels(levels: list[Level]) -> Level:
    """One level that is the sum of several."""
    out = Level(0.0)
    events = sorted(
        (t, v - prev)
        for lv in levels
        for t, v, prev in zip(lv.times, lv.levels, [0.0, *lv.levels[:-1]], strict=True)
    )
    out.times, out.levels = [0.0], [0.0]
    acc = 0.0
    for t, dv in events:
        acc += dv
        out.times.append(t)
        out.levels.append(acc)
    out.value = acc
    return out


def _safe(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def compute(world: World) -> dict[str, float]:
    """Every KPI of one replication (see docs/model.md for definitions)."""
    W, H = world.warm_up, world.horizon
    pop = world.pop
    n_pop = pop.size
    years = (H - W) / 365.0
    per1000 = 1000.0 / n_pop / years
    t, person, ev, setting, place = world.log.columns(ordered=False)
    post = t >= W

    def count(name: str) -> int:
        return int(np.count_nonzero(post & (ev == EVENT[name])))

    m: dict[str, float] = {}
    # ------------------------------------------------------------ general practice
    day, who, wait, role, usual = world.gp.appointment_table()
    a = day >= W
    n_appt = int(a.sum())
    m["gp_appointments_per_1000"] = n_appt * per1000
    m["gp_routine_wait_mean_days"] = float(wait[a & (wait > 0)].mean()) if n_appt else np.nan
    m["gp_routine_wait_p90_days"] = (
        float(np.percentile(wait[a & (wait > 0)], 90)) if (a & (wait > 0)).any() else np.nan
    )
    m["gp_same_day_share"] = _safe(int((a & (wait == 0)).sum()), n_appt)
    m["gp_within_14_days_share"] = _safe(int((a & (wait <= 14)).sum()), n_appt)
    m["gp_gp_delivered_share"] = _safe(int((a & (role == 0)).sum()), n_appt)
    gp_a = a & (role == 0)
    n_gp = np.bincount(who[gp_a], minlength=n_pop)
    n_usual = np.bincount(who[gp_a & usual], minlength=n_pop)
    two = n_gp >= 2
    m["gp_continuity_upc"] = float((n_usual[two] / n_gp[two]).mean()) if two.any() else np.nan
    m["gp_same_day_unmet_per_1000"] = count("gp_same_day_unmet") * per1000
    m["nhs111_contacts_per_1000"] = count("nhs111_contact") * per1000
    m["outpatient_referrals_per_1000"] = count("outpatient_referral") * per1000

    # ------------------------------------------------------------ ED and UTC
    h = world.hospital
    arr = np.asarray(h.visit_arrival)
    dep = np.asarray(h.visit_departure)
    vtype = np.asarray(h.visit_type)
    adm = np.asarray(h.visit_admitted, dtype=bool)
    v = (arr >= W) & (dep <= H)
    within = (dep - arr) <= 4.0 / 24.0
    t1 = v & (vtype == 1)
    m["ed_attendances_per_1000"] = (count("ed_arrival") + count("utc_arrival")) * per1000
    m["ed_type1_attendances_per_1000"] = count("ed_arrival") * per1000
    m["ed_within_4h_share"] = _safe(int((v & within).sum()), int(v.sum()))
    m["ed_type1_within_4h_share"] = _safe(int((t1 & within).sum()), int(t1.sum()))
    m["ed_type1_admitted_share"] = _safe(int((t1 & adm).sum()), int(t1.sum()))
    m["ed_time_in_department_mean_hours"] = (
        float(((dep - arr)[t1]).mean() * 24) if t1.any() else np.nan
    )
    m["ambulance_conveyances_per_1000"] = count("ambulance_conveyance") * per1000

    # ------------------------------------------------------------ admissions and beds
    m["emergency_admissions_per_1000"] = count("emergency_admission") * per1000
    eps = [e for e in h.episodes if e.start >= W and e.end == e.end]
    los = np.array([e.end - e.start for e in eps])
    old = np.array([pop.age[e.person] >= 4 for e in eps], dtype=bool)
    m["los_mean_days"] = float(los.mean()) if los.size else np.nan
    m["los_75plus_mean_days"] = float(los[old].mean()) if old.any() else np.nan
    beds = _sum_levels([p.level for p in h.beds])
    reserved = float(sum(h.reserved))
    total_beds = float(sum(h.beds_total))
    occupied = beds.mean(W, H) + reserved
    m["beds_available"] = total_beds
    m["bed_occupancy_mean"] = _safe(occupied, total_beds)
    daily = (beds.daily_means(world.days) + reserved) / total_beds if total_beds else None
    first = int(np.ceil(W))
    m["bed_occupancy_p95"] = (
        float(np.percentile(daily[first:], 95))
        if daily is not None and daily[first:].size
        else np.nan
    )
    delayed = _sum_levels(h.delayed).mean(W, H)
    m["delayed_discharge_beds_mean"] = delayed
    m["delayed_discharge_beds_per_1000"] = delayed * 1000.0 / n_pop
    m["delayed_discharge_bed_days_per_1000"] = delayed * 365.0 * 1000.0 / n_pop
    m["delayed_discharge_share_of_occupied"] = _safe(delayed, occupied)
    m["ed_waiting_for_bed_mean"] = _sum_levels(h.boarding).mean(W, H)

    # ------------------------------------------------------------ community and MNP
    c = world.community
    rt = np.asarray(c.ucr.response_times).reshape(-1, 2)
    r_post = rt[:, 0] >= W
    m["ucr_responses_per_1000"] = count("ucr_response") * per1000
    m["ucr_within_2h_share"] = _safe(int((r_post & (rt[:, 1] <= 2 / 24)).sum()), int(r_post.sum()))
    m["ucr_escalated_per_1000"] = count("ucr_escalated") * per1000
    m["crises_per_1000"] = count("crisis") * per1000
    m["proactive_caseload_mean"] = c.proactive.level.mean(W, H)
    # GP-to-neighbourhood referral time: days until the team receives the referral (the
    # handoff); the wait for a place after that is a matter of capacity, not of boundaries.
    ref = np.asarray(c.proactive.referral_delays).reshape(-1, 2)
    r_post = ref[:, 0] >= W
    m["snp_referral_days_mean"] = float(ref[r_post, 1].mean()) if r_post.any() else np.nan
    to_snp = post & (setting == SETTING["proactive_care"])
    m["snp_referrals_lost_share"] = _safe(
        int((to_snp & (ev == EVENT["referral_lost"])).sum()),
        int((to_snp & (ev == EVENT["referral"])).sum()),
    )
    vw = _sum_levels([p.level for p in world.mnp.virtual_ward.pools])
    vw_beds = float(sum(p.capacity for p in world.mnp.virtual_ward.pools))
    m["virtual_ward_patients_mean"] = vw.mean(W, H)
    m["virtual_ward_occupancy_mean"] = _safe(vw.mean(W, H), vw_beds)
    m["step_down_patients_mean"] = _sum_levels([p.level for p in c.step_down.pools]).mean(W, H)
    m["eol_caseload_mean"] = _sum_levels([p.level for p in world.mnp.eol]).mean(W, H)

    # ------------------------------------------------------------ deaths
    d_sel = post & (ev == EVENT["death"])
    n_deaths = int(d_sel.sum())
    m["deaths_per_1000"] = n_deaths * per1000
    for code, name in enumerate(PLACES):
        if name:
            m[f"death_place_{name}_share"] = _safe(int((place[d_sel] == code).sum()), n_deaths)
    adm_sel = ev == EVENT["emergency_admission"]
    dead_people = person[d_sel]
    death_t = pop.death_time[dead_people]
    adm_p, adm_t = person[adm_sel], t[adm_sel]
    counts = np.zeros(n_deaths, dtype=int)
    if n_deaths and adm_p.size:
        index = {p: i for i, p in enumerate(dead_people.tolist())}
        for p_, t_ in zip(adm_p.tolist(), adm_t.tolist(), strict=True):
            i = index.get(p_)
            if i is not None and death_t[i] - 90 <= t_ <= death_t[i]:
                counts[i] += 1
    m["deaths_3plus_admissions_last_90d_share"] = _safe(int((counts >= 3).sum()), n_deaths)

    # ------------------------------------------------------------ equity
    q_pop = np.bincount(pop.quintile, minlength=5)
    for name, evname in (
        ("emergency_admissions", "emergency_admission"),
        ("ed_attendances", "ed_arrival"),
    ):
        sel = post & (ev == EVENT[evname])
        q = np.bincount(pop.quintile[person[sel]], minlength=5)
        rates = q * 1000.0 / np.maximum(q_pop, 1) / years
        for i in range(5):
            m[f"{name}_per_1000__q{i + 1}"] = float(rates[i])
        m[f"{name}_ratio_q5_q1"] = _safe(rates[4], rates[0])
    adult = pop.age >= 1
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
    ev_area = area[person]
    area_pop = np.bincount(area, minlength=n_areas)

    def by_area(mask: np.ndarray, where: np.ndarray = ev_area) -> np.ndarray:
        return np.bincount(where[mask], minlength=n_areas)

    appt_area = area[who]
    act = {
        "gp": by_area(a & (role == 0), appt_area),
        "nurse": by_area(a & (role == 1), appt_area),
        "additional_roles": by_area(a & (role == 2), appt_area),
        "nhs111": by_area(post & (ev == EVENT["nhs111_contact"])),
        "utc": by_area(post & (ev == EVENT["utc_arrival"])),
        "ed": by_area(post & (ev == EVENT["ed_arrival"])),
        "ambulance": by_area(post & (ev == EVENT["ambulance_conveyance"])),
        "bed_days": np.array([p_.level.mean(W, H) * (H - W) for p_ in h.beds]),
        "outpatients": by_area(post & (ev == EVENT["outpatient_referral"])),
        "care_home_days": np.zeros(n_areas),
    }
    for p_, s_ in world.mnp.new_care_home.items():
        end, start = min(H, pop.death_time[p_]), max(W, s_)
        if end > start:
            act["care_home_days"][area[p_]] += end - start
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
    m["gp_contract_income_per_head_gbp"] = (
        params.budget_spend_gbp_per_year["gp_neighbourhood_payments"] / params.population
    )

    # ------------------------------------------------------------ by area (borough)
    if n_areas > 1:
        adm = by_area(post & (ev == EVENT["emergency_admission"]))
        deaths = by_area(d_sel)
        home = by_area(d_sel & (place == PLACES.index("home")))
        routine = a & (wait > 0)
        for k, name in enumerate(params.area_names):
            tag = f"__area_{_slug(name)}"
            pop_k = max(int(area_pop[k]), 1)
            m[f"emergency_admissions_per_1000{tag}"] = adm[k] * 1000.0 / pop_k / years
            occupied_k = h.beds[k].level.mean(W, H) + h.reserved[k]
            m[f"bed_occupancy_mean{tag}"] = _safe(occupied_k, h.beds_total[k])
            m[f"delayed_discharge_bed_days_per_1000{tag}"] = (
                h.delayed[k].mean(W, H) * 365.0 * 1000.0 / pop_k
            )
            mine = routine & (appt_area == k)
            m[f"gp_routine_wait_mean_days{tag}"] = (
                float(wait[mine].mean()) if mine.any() else np.nan
            )
            m[f"death_place_home_share{tag}"] = _safe(int(home[k]), int(deaths[k]))
            m[f"cost_per_capita{tag}"] = area_cost[k] / pop_k / years
    return m


def timeseries(world: World) -> pd.DataFrame:
    """Daily time-weighted means of occupancies, queues and caseloads."""
    days = world.days
    h = world.hospital
    c = world.community
    arr = np.asarray(h.visit_arrival)
    dep = np.asarray(h.visit_departure)
    t1 = np.asarray(h.visit_type) == 1
    in_ed = Level(0.0)
    change = np.concatenate([arr[t1], dep[t1]])
    delta = np.concatenate([np.ones(t1.sum()), -np.ones(t1.sum())])
    order = np.argsort(change, kind="stable")
    in_ed.times = [0.0, *change[order].tolist()]
    in_ed.levels = [0.0, *np.cumsum(delta[order]).tolist()]
    reserved = float(sum(h.reserved))
    data = {
        "time_days": np.arange(days, dtype=float),
        "beds_occupied": _sum_levels([p.level for p in h.beds]).daily_means(days) + reserved,
        "bed_capacity": np.full(days, float(sum(h.beds_total))),
        "delayed_discharge_beds": _sum_levels(h.delayed).daily_means(days),
        "ed_in_department": in_ed.daily_means(days),
        "ed_waiting_for_bed": _sum_levels(h.boarding).daily_means(days),
        "proactive_caseload": c.proactive.level.daily_means(days),
        "step_down_patients": _sum_levels([p.level for p in c.step_down.pools]).daily_means(days),
        "virtual_ward_patients": _sum_levels(
            [p.level for p in world.mnp.virtual_ward.pools]
        ).daily_means(days),
        "eol_caseload": _sum_levels([p.level for p in world.mnp.eol]).daily_means(days),
        "care_home_residents": _sum_levels([p.level for p in world.mnp.care_homes]).daily_means(
            days
        ),
    }
    t, _, ev, _, _ = world.log.columns(ordered=False)
    for name in ("gp_appointment", "ed_arrival", "emergency_admission", "ucr_response", "death"):
        sel = ev == EVENT[name]
        data[f"{name}s"] = np.bincount(t[sel].astype(int), minlength=days)[:days].astype(float)
    return pd.DataFrame(data)


def diagnostics(world: World, cands: Candidates) -> dict[str, float]:
    """Counts that describe the run and its conservation checks."""
    h = world.hospital
    pop = world.pop
    t, _, ev, _, _ = world.log.columns(ordered=False)

    def n(name: str) -> int:
        return int(np.count_nonzero(ev == EVENT[name]))

    died = int(np.count_nonzero(pop.death_time <= world.horizon))
    in_bed = sum(p.in_use for p in h.beds)
    deaths_in_hospital = sum(1 for e in h.episodes if e.died)
    return {
        "population": float(pop.size),
        "alive_at_end": float(pop.size - died),
        "deaths_brought_forward_by_care_home_entry": float(world.mnp.deaths_brought_forward),
        "deaths": float(n("death")),
        "candidate_urgent_events": float(len(cands)),
        "simpy_events_scheduled": float(world.scheduled + len(cands) + world.days),
        "admissions": float(n("emergency_admission")),
        "discharges": float(n("discharge")),
        "deaths_in_bed": float(deaths_in_hospital),
        "in_bed_at_end": float(in_bed),
        "episodes": float(len(h.episodes)),
        "patient_episodes": float(
            n("gp_appointment")
            + n("ed_arrival")
            + n("utc_arrival")
            + n("emergency_admission")
            + n("ucr_response")
        ),
    }
