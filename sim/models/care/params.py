"""Validate the ``model``, ``place`` and ``lead_provider`` groups into frozen parameters.

Every rejected value raises :class:`sim.errors.ConfigError` with its full dotted key. Derived
quantities (practices, capacities bought by the budget envelope) are worked out here once, so
a replication only reads numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import yaml
from omegaconf import OmegaConf

from sim.config import checks
from sim.config.annotations import as_declared_floats, item_annotation, without_none
from sim.errors import ConfigError
from sim.models.care import schema as s
from sim.models.care.apportion import apportion
from sim.models.care.calendar import parse_date
from sim.models.care.practices import behaviour, continuity, workforce
from sim.paths import conf_dir

# An area's arrangement names a file of conf/lead_provider/; nothing else may be reached.
ARRANGEMENT_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# A part-time UCR team below this share of one team buys nothing (too little to staff a rota).
MIN_TEAM_SHARE = 0.01
# The largest coefficient of variation allowed for a spread between practices.
MAX_SPREAD_CV = 5.0


@dataclass(frozen=True)
class Practice:
    """One GP practice."""

    index: int
    area: str
    neighbourhood: int
    list_size: int


@dataclass(frozen=True)
class AreaBudget:
    """One area's share of the per-head envelope for SNP and MNP services (GBP per year).

    Attributes
    ----------
    envelope
        Envelope per head x the area's population.
    spend
        Where the envelope goes: the money allocated to each budgeted service, governance
        overhead and neighbourhood payments to general practice. Sums to ``envelope``.
    purchased
        What the capacity bought actually costs (whole places, or teams and a part-time
        team, x annual cost per place), plus analytics, governance and GP payments; never
        more than ``envelope``. The difference is the part of a place no share could buy.
    """

    envelope: float
    spend: dict[str, float]
    purchased: dict[str, float]


@dataclass(frozen=True)
class CareParams:
    """Everything one replication of the care model needs.

    Attributes
    ----------
    model, place, lead
        The validated groups (schema dataclass instances; treat as read-only).
    practices
        Practices in order; their list sizes sum to the place's population.
    neighbourhood_areas
        Area name of each neighbourhood, by neighbourhood index.
    capacity
        Resolved capacities: beds, ED clinicians, UCR teams, and places for proactive care,
        step-down, virtual ward, end-of-life care and care homes (``math.inf`` = unlimited);
        ``gp_appointments_per_1000`` is per working day.
    budget_spend_gbp_per_year
        The envelope's spend per year, summed over areas (see :class:`AreaBudget`).
    area_names, area_population
        The place's areas (boroughs) in config order, and their registered populations.
    area_leads
        The arrangement that runs each area: the file ``place.area_arrangements`` names for
        it, else ``lead``.
    area_capacity
        Each area's budget-bought capacity (``proactive_places``, ``ucr_teams``,
        ``step_down_places``, ``virtual_ward_beds``, ``eol_places``), after any override.
    area_budget
        Each area's envelope and how it is spent.
    trust_names, trust_of_area
        The acute trusts (``place.trusts``, else one per area, named as it) and the index
        of the trust that serves each area.
    """

    model: s.CareModelConfig
    place: s.PlaceSchema
    lead: s.LeadProviderSchema
    practices: tuple[Practice, ...]
    neighbourhood_areas: tuple[str, ...]
    capacity: dict[str, float]
    budget_spend_gbp_per_year: dict[str, float]
    area_names: tuple[str, ...]
    area_population: tuple[int, ...]
    area_leads: tuple[s.LeadProviderSchema, ...]
    area_capacity: tuple[dict[str, float], ...]
    area_budget: tuple[AreaBudget, ...]
    trust_names: tuple[str, ...] = ()
    trust_of_area: tuple[int, ...] = ()

    @property
    def population(self) -> int:
        """Total registered population."""
        return sum(p.list_size for p in self.practices)


def output_cycle(params: CareParams) -> float | None:
    """The length of the output's steady-state cycle: one year when crisis demand is
    seasonal, none when it is not (the weekly pattern is smoothed away before any analysis).

    Days of the year are whole days of the daily series, so the year is 365 of them.
    """
    return 365.0 if params.model.calendar.crisis_seasonal_amplitude > 0 else None


def build(data: dict[str, Any]) -> CareParams:
    """Validate a resolved config (plain dict) into :class:`CareParams`.

    Parameters
    ----------
    data
        The whole resolved config; reads ``model``, ``place`` and ``lead_provider``.
    """
    model = _structured(s.CareModelConfig, data.get("model") or {}, "model")
    place = _structured(s.PlaceSchema, data.get("place") or {}, "place")
    lead = _structured(s.LeadProviderSchema, data.get("lead_provider") or {}, "lead_provider")
    _all_finite_nonneg(model, "model")
    _all_finite_nonneg(place, "place", allow_inf=True)
    _all_finite_nonneg(lead, "lead_provider")
    _check_model(model)
    _check_lead(lead)
    practices, areas = _practices(place)
    population = sum(p.list_size for p in practices)
    names = tuple(place.areas)
    area_pop = tuple(sum(p.list_size for p in practices if p.area == a) for a in names)
    leads = _area_leads(place, lead)
    trust_names, trust_of_area = _trusts(place)
    _check_headroom(model)
    capacity = _capacities(model, place, population)
    area_cap: list[dict[str, float]] = []
    budgets: list[AreaBudget] = []
    for name, pop, area_lead in zip(names, area_pop, leads, strict=True):
        file = place.area_arrangements.get(name)
        key = f"lead_provider[{file}]" if file else "lead_provider"
        # The envelope is the commissioner's, so it is the same per head in every area and
        # for every arrangement; the arrangement only decides how it is spent.
        cap, budget = purchase(model, area_lead, lead.budget.envelope_per_head_gbp, pop, key)
        # The local authority's packages are not bought from the NHS envelope.
        sc = model.social_care
        cap["p1_packages"] = whole(sc.p1_packages_per_1000 / 1e3, pop)
        # Brokerage may be a fraction (a part-time slot; services/social_care.py).
        cap["p3_brokerage_slots"] = sc.p3_brokerage_slots_per_100k * pop / 1e5
        area_cap.append(cap)
        budgets.append(budget)
    _apply_overrides(place, capacity, area_cap, [x / population for x in area_pop])
    spend: dict[str, float] = {}
    for b in budgets:
        for item, value in b.spend.items():
            spend[item] = spend.get(item, 0.0) + value
    return CareParams(
        model=model,
        place=place,
        lead=lead,
        practices=practices,
        neighbourhood_areas=areas,
        capacity=capacity,
        budget_spend_gbp_per_year=spend,
        area_names=names,
        area_population=area_pop,
        area_leads=leads,
        area_capacity=tuple(area_cap),
        area_budget=tuple(budgets),
        trust_names=trust_names,
        trust_of_area=trust_of_area,
    )


# ------------------------------------------------------------------------------ helpers
def _structured(schema: type, data: dict[str, Any], prefix: str) -> Any:
    try:
        data = as_declared_floats(data, schema)
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), data))
    except Exception as exc:  # noqa: BLE001  (omegaconf raises many types)
        key = getattr(exc, "full_key", "") or ""
        raise ConfigError(f"{prefix}.{key}".rstrip("."), None, str(exc).split("\n")[0]) from None


# Delays for which .inf means "never".
MAY_BE_INFINITE = frozenset(
    {
        "model.care_home_refill_days",
        "model.social_care.p1_packages_per_1000",
        "model.social_care.p3_brokerage_slots_per_100k",
    }
)


def _all_finite_nonneg(obj: Any, key: str, allow_inf: bool = False, expected: Any = None) -> None:
    """Every number anywhere in a group must be finite and at least 0 (rates, days, shares).

    ``expected`` is the declared type of ``obj`` (from the schema's annotations). OmegaConf
    does not type-check the items of an open row such as ``Dict[str, float]``, so a list or
    mapping where the schema wants a number is refused here rather than searched for numbers.
    """
    if is_dataclass(obj):
        for f in fields(obj):
            value = getattr(obj, f.name)
            _all_finite_nonneg(
                value, f"{key}.{f.name}", allow_inf, item_annotation(type(obj), f.name)
            )
        return
    expected = without_none(expected)
    if isinstance(obj, dict | list | tuple) and expected in (int, float):
        kind = "a mapping" if isinstance(obj, dict) else "a list"
        raise ConfigError(key, obj, f"must be a number, not {kind}")
    if isinstance(obj, dict | list | tuple):
        for k, v in obj.items() if isinstance(obj, dict) else enumerate(obj):
            _all_finite_nonneg(v, f"{key}.{k}", allow_inf, item_annotation(expected, k))
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        if (allow_inf or key in MAY_BE_INFINITE) and obj == math.inf:
            return
        if key.endswith("_effect_per_0_2_upc"):  # a signed effect size
            if not math.isfinite(obj):
                raise ConfigError(key, obj, "must be a finite number")
            return
        checks.nonneg(key, obj)


def _bands(key: str, row: Mapping[str, object], bands: tuple[str, ...] = s.AGE_BANDS) -> None:
    if set(row) != set(bands):
        raise ConfigError(key, dict(row), "needs exactly the keys " + ", ".join(bands))


def _quintiles(key: str, row: list[float]) -> None:
    if len(row) != s.QUINTILES:
        raise ConfigError(key, list(row), "needs 5 values, quintile 1 (least deprived) first")


def _check_calendar(c: s.CalendarConfig, k: str = "model.calendar") -> None:
    try:
        parse_date(c.start_date)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{k}.start_date", c.start_date, "must be an ISO date YYYY-MM-DD, e.g. 2024-04-01"
        ) from None
    if not 0.0 <= c.crisis_seasonal_amplitude < 1.0:
        raise ConfigError(
            f"{k}.crisis_seasonal_amplitude",
            c.crisis_seasonal_amplitude,
            "must be at least 0 and below 1 (0 switches seasonality off)",
        )
    if not 1 <= c.crisis_peak_day_of_year <= 366:
        raise ConfigError(
            f"{k}.crisis_peak_day_of_year",
            c.crisis_peak_day_of_year,
            "must be a day of the year from 1 (1 January) to 366",
        )


def _check_trajectories(tr: s.TrajectoriesConfig, k: str = "model.trajectories") -> None:
    _bands(f"{k}.shares", tr.shares)
    for band, row in tr.shares.items():
        _bands(f"{k}.shares.{band}", row, s.TRAJECTORIES)
        checks.distribution(f"{k}.shares.{band}", row)
    _bands(f"{k}.shapes", tr.shapes, s.TRAJECTORIES)
    for name, shape in tr.shapes.items():
        checks.positive(f"{k}.shapes.{name}.span_days", shape.span_days)
        checks.positive(f"{k}.shapes.{name}.scale_days", shape.scale_days)


def _check_life_course(c: s.LifeCourseConfig, k: str = "model.life_course") -> None:
    checks.nonneg(f"{k}.births_per_1000_per_year", c.births_per_1000_per_year)
    _bands(f"{k}.moves_out_per_1000_per_year", c.moves_out_per_1000_per_year)
    for band, rate in c.moves_out_per_1000_per_year.items():
        if checks.nonneg(f"{k}.moves_out_per_1000_per_year.{band}", rate) > 1000.0:
            raise ConfigError(f"{k}.moves_out_per_1000_per_year.{band}", rate, "must be 0 to 1000")
    if checks.positive(f"{k}.oldest_age_years", c.oldest_age_years) <= 85.0:
        raise ConfigError(
            f"{k}.oldest_age_years", c.oldest_age_years, "must be above 85 (the 85+ band)"
        )


def _check_model(m: s.CareModelConfig) -> None:
    _check_calendar(m.calendar)
    pop = m.population
    checks.probability("model.population.male_share", pop.male_share)
    _bands("model.population.frailty_shares", pop.frailty_shares, s.OLD_BANDS)
    for band, row in pop.frailty_shares.items():
        _bands(f"model.population.frailty_shares.{band}", row, s.FRAILTY)
        checks.distribution(f"model.population.frailty_shares.{band}", row)
    _bands("model.population.care_home_share", pop.care_home_share, s.OLD_BANDS)
    for band, p in pop.care_home_share.items():
        checks.probability(f"model.population.care_home_share.{band}", p)
    _bands("model.population.care_home_frailty_shares", pop.care_home_frailty_shares, s.FRAILTY)
    checks.distribution("model.population.care_home_frailty_shares", pop.care_home_frailty_shares)
    _bands("model.population.ltc_mean", pop.ltc_mean)
    _quintiles("model.population.ltc_deprivation_multiplier", pop.ltc_deprivation_multiplier)
    _bands("model.population.ltc_frailty_extra", pop.ltc_frailty_extra, s.FRAILTY)
    _check_life_course(m.life_course)

    gp = m.general_practice
    k = "model.general_practice"
    _bands(f"{k}.demand_per_person_year", gp.demand_per_person_year)
    _bands(f"{k}.demand_frailty_multiplier", gp.demand_frailty_multiplier, s.FRAILTY)
    for name in ("same_day_request_share", "routine_asap_share", "same_day_capacity_share"):
        checks.probability(f"{k}.{name}", getattr(gp, name))
    checks.probability(f"{k}.continuity_reference", gp.continuity_reference)
    checks.positive(f"{k}.routine_planned_lead_mean_days", gp.routine_planned_lead_mean_days)
    checks.positive_int(f"{k}.booking_window_days", gp.booking_window_days)
    if len(gp.request_day_weights) != 7 or sum(gp.request_day_weights) <= 0:
        raise ConfigError(
            f"{k}.request_day_weights",
            gp.request_day_weights,
            "needs 7 weights, Monday first, not all 0",
        )
    _bands(f"{k}.outcome_shares", gp.outcome_shares, ("resolved", "snp", "outpatients", "ed"))
    checks.distribution(f"{k}.outcome_shares", gp.outcome_shares)
    _bands(f"{k}.overflow_shares", gp.overflow_shares, ("nhs111", "utc", "ed", "self_care"))
    checks.distribution(f"{k}.overflow_shares", gp.overflow_shares)

    _check_practices(m.practices)

    u = m.urgent
    k = "model.urgent"
    _bands(f"{k}.crisis_per_person_year", u.crisis_per_person_year)
    _bands(f"{k}.crisis_frailty_multiplier", u.crisis_frailty_multiplier, s.FRAILTY)
    _quintiles(f"{k}.crisis_deprivation_multiplier", u.crisis_deprivation_multiplier)
    _bands(f"{k}.minor_per_person_year", u.minor_per_person_year)
    _quintiles(f"{k}.minor_deprivation_multiplier", u.minor_deprivation_multiplier)
    _bands(f"{k}.minor_shares", u.minor_shares, ("utc", "ed"))
    checks.distribution(f"{k}.minor_shares", u.minor_shares)
    if len(u.hour_weights) != 24 or sum(u.hour_weights) <= 0:
        raise ConfigError(f"{k}.hour_weights", u.hour_weights, "needs 24 weights, not all 0")
    checks.probability(f"{k}.ambulance_share", u.ambulance_share)
    checks.probability(f"{k}.direct_admission_share", u.direct_admission_share)
    if u.headroom < 1:
        raise ConfigError(f"{k}.headroom", u.headroom, "must be at least 1")

    c = m.ucr
    checks.one_of("model.ucr.min_age_band", c.min_age_band, s.AGE_BANDS)
    if not 0 <= c.open_hour < c.close_hour <= 24:
        raise ConfigError(
            "model.ucr.close_hour",
            c.close_hour,
            f"must be after open_hour ({c.open_hour:g}) and at most 24",
        )
    for name in ("referral_share", "avert_share", "step_up_share"):
        checks.probability(f"model.ucr.{name}", getattr(c, name))
    checks.positive("model.ucr.visit_hours_mean", c.visit_hours_mean)

    pr = m.proactive
    checks.one_of("model.proactive.min_frailty", pr.min_frailty, s.FRAILTY)
    checks.probability("model.proactive.crisis_rate_ratio", pr.crisis_rate_ratio)
    checks.probability("model.proactive.base_case_finding", pr.base_case_finding)

    e = m.ed
    _bands("model.ed.admit_crisis", e.admit_crisis)
    for band, p in e.admit_crisis.items():
        checks.probability(f"model.ed.admit_crisis.{band}", p)
    _bands("model.ed.admit_frailty_multiplier", e.admit_frailty_multiplier, s.FRAILTY)
    checks.probability("model.ed.admit_minor", e.admit_minor)
    for name in ("treatment_hours_mean", "treatment_cv", "utc_hours_mean", "utc_cv"):
        checks.positive(f"model.ed.{name}", getattr(e, name))

    h = m.hospital
    checks.probability("model.hospital.elective_bed_share", h.elective_bed_share)
    _bands("model.hospital.los_mean_days", h.los_mean_days)
    _bands("model.hospital.los_frailty_multiplier", h.los_frailty_multiplier, s.FRAILTY)
    checks.positive("model.hospital.los_cv", h.los_cv)
    checks.probability("model.hospital.weekend_discharge.share", h.weekend_discharge.share)
    wk = h.weekend_discharge
    hour = checks.nonneg("model.hospital.weekend_discharge.resume_hour", wk.resume_hour)
    if not hour < 24.0:
        raise ConfigError(
            "model.hospital.weekend_discharge.resume_hour", hour, "must be an hour in [0, 24)"
        )
    _check_social_care(m.social_care)
    for svc in ("step_down", "virtual_ward"):
        checks.positive(f"model.{svc}.stay_mean_days", getattr(m, svc).stay_mean_days)
        checks.positive(f"model.{svc}.stay_cv", getattr(m, svc).stay_cv)

    a = m.after_discharge
    k = "model.after_discharge"
    for name in ("crisis_rate_ratio", "half_life_days", "window_days", "slow_wait_days"):
        checks.positive(f"{k}.{name}", getattr(a, name))
    for name in ("lost_referral_ratio", "slow_wait_ratio", "onward_care_ratio"):
        checks.positive(f"{k}.{name}", getattr(a, name))

    eol = m.eol
    checks.positive("model.eol.phase_days", eol.phase_days)
    checks.probability("model.eol.sensitivity", eol.sensitivity)
    checks.probability("model.eol.specificity", eol.specificity)
    checks.one_of("model.eol.asked_min_age_band", eol.asked_min_age_band, s.AGE_BANDS)
    checks.one_of("model.eol.asked_min_frailty", eol.asked_min_frailty, s.FRAILTY)
    checks.positive("model.eol.caseload_review_days", eol.caseload_review_days)
    checks.positive("model.eol.register_review_days", eol.register_review_days)
    checks.probability("model.eol.terminal_admit_share", eol.terminal_admit_share)
    _bands("model.eol.terminal_event_share", eol.terminal_event_share, ("community", "care_home"))
    for where, p in eol.terminal_event_share.items():
        checks.probability(f"model.eol.terminal_event_share.{where}", p)
    checks.positive("model.eol.terminal_lead_days_mean", eol.terminal_lead_days_mean)
    _bands("model.eol.place_at_home", eol.place_at_home, ("home", "hospice", "other"))
    checks.distribution("model.eol.place_at_home", eol.place_at_home)
    _bands(
        "model.eol.place_in_care_home", eol.place_in_care_home, ("care_home", "hospice", "other")
    )
    checks.distribution("model.eol.place_in_care_home", eol.place_in_care_home)
    _check_trajectories(m.trajectories)

    mo = m.mortality
    _bands("model.mortality.per_1000_by_age", mo.per_1000_by_age)
    _bands("model.mortality.frailty_hazard_ratio", mo.frailty_hazard_ratio, s.FRAILTY)
    checks.probability("model.care_home_vacancy_share", m.care_home_vacancy_share)
    checks.nonneg_or_inf("model.care_home_refill_days", m.care_home_refill_days)

    _bands(
        "model.costs.annual_cost_per_place",
        m.costs.annual_cost_per_place,
        tuple(x for x in s.BUDGET_SERVICES if x != "analytics"),
    )
    for name, value in m.costs.annual_cost_per_place.items():
        checks.positive(f"model.costs.annual_cost_per_place.{name}", value)
    needed = (
        "gp_appointment",
        "nurse_appointment",
        "additional_roles_appointment",
        "nhs111_contact",
        "ed_attendance",
        "utc_attendance",
        "ambulance_conveyance",
        "bed_day",
        "outpatient_attendance",
        "care_home_day",
    )
    missing = [x for x in needed if x not in m.costs.unit]
    if missing:
        raise ConfigError(
            "model.costs.unit", sorted(m.costs.unit), "is missing " + ", ".join(missing)
        )
    share = m.costs.care_home_self_funded_share
    checks.probability("model.costs.care_home_self_funded_share", share)


def _check_social_care(c: s.SocialCareConfig, k: str = "model.social_care") -> None:
    """Pathway shares by age band, frailty multipliers that keep every row a distribution,
    and the local authority's pathway 1 packages."""
    _bands(f"{k}.pathway_shares", c.pathway_shares)
    for band, row in c.pathway_shares.items():
        _bands(f"{k}.pathway_shares.{band}", row, s.PATHWAYS)
        checks.distribution(f"{k}.pathway_shares.{band}", row)
    _bands(f"{k}.frailty_support_multiplier", c.frailty_support_multiplier, s.FRAILTY)
    # The band with the largest share on pathways 1-3 bounds every multiplier.
    band, supported = max(
        ((b, 1.0 - row["p0"]) for b, row in c.pathway_shares.items()), key=lambda x: x[1]
    )
    for frailty, x in c.frailty_support_multiplier.items():
        if supported * x > 1.0 + 1e-9:
            raise ConfigError(
                f"{k}.frailty_support_multiplier.{frailty}",
                x,
                f"times the share on pathways 1-3 of age band {band} ({supported:.3g}) must be "
                f"at most 1, so at most {1.0 / supported:.3g}",
            )
    checks.probability(f"{k}.p1_virtual_ward_share", c.p1_virtual_ward_share)
    checks.nonneg_or_inf(f"{k}.p1_packages_per_1000", c.p1_packages_per_1000)
    checks.positive(f"{k}.p1_package_days_mean", c.p1_package_days_mean)
    checks.positive(f"{k}.p1_package_cv", c.p1_package_cv)
    checks.nonneg_or_inf(f"{k}.p3_brokerage_slots_per_100k", c.p3_brokerage_slots_per_100k)
    checks.nonneg(f"{k}.p3_brokerage_days_mean", c.p3_brokerage_days_mean)


def whole(per_person: float, population: int) -> float:
    """Places an area of ``population`` has at ``per_person``, to the nearest whole number
    (``math.inf`` stays). The local authority's capacity is not bought from the NHS
    envelope, so it is rounded to the nearest place, not down: a neighbourhood of 50,000 at
    1.5 places keeps 2, not 1."""
    if math.isinf(per_person):
        return math.inf
    return float(math.floor(per_person * population + 0.5))


def _check_practices(pc: s.PracticesConfig) -> None:
    """Workforce, money, behaviour, viability and continuity of practices. Negative values
    are refused by the general check; a practice with no GP sessions is allowed (it has no
    GP appointments)."""
    k = "model.practices"
    wf = pc.workforce
    checks.probability(f"{k}.workforce.partner_share_of_gp_fte", wf.partner_share_of_gp_fte)
    checks.positive(f"{k}.workforce.sessions_per_fte", wf.sessions_per_fte)
    checks.positive(f"{k}.workforce.sessions_per_gp", wf.sessions_per_gp)
    _bands(f"{k}.workforce.appointments_per_session", wf.appointments_per_session, workforce.ROLES)
    _bands(f"{k}.weighting.age_weights", pc.weighting.age_weights)
    mo = pc.money
    checks.probability(f"{k}.money.out_of_hours_deduction_share", mo.out_of_hours_deduction_share)
    if not 0.0 <= mo.shock_persistence < 1.0:
        raise ConfigError(
            f"{k}.money.shock_persistence", mo.shock_persistence, "must be at least 0 and below 1"
        )
    checks.positive_int(f"{k}.viability.quarters_to_hand_back", pc.viability.quarters_to_hand_back)
    checks.probability(
        f"{k}.behaviour.payment_spent_on_gp_sessions_share",
        pc.behaviour.payment_spent_on_gp_sessions_share,
    )
    # A coefficient of variation above a few is no longer a spread between practices (and
    # overflows the lognormal's arithmetic).
    for key, cv in (
        ("workforce.spread_cv", wf.spread_cv),
        ("workforce.capacity_spread_cv", wf.capacity_spread_cv),
        ("money.income_spread_cv", mo.income_spread_cv),
        ("money.cost_spread_cv", mo.cost_spread_cv),
        ("money.quarterly_shock_cv", mo.quarterly_shock_cv),
    ):
        if cv > MAX_SPREAD_CV:
            raise ConfigError(f"{k}.{key}", cv, f"must be between 0 and {MAX_SPREAD_CV:g}")
    c = pc.continuity
    checks.probability(f"{k}.continuity.new_registration_factor", c.new_registration_factor)


def _check_headroom(m: s.CareModelConfig) -> None:
    """Refuse a thinning bound that a crisis's acceptance factor could exceed.

    Thinning keeps a candidate crisis with probability factor / headroom, so the largest
    factor continuity can give (at measured continuity 0 or 1, whichever raises crises; the
    post-discharge excess is a stream of its own, sim/models/care/after_discharge.py) must
    not exceed ``model.urgent.headroom``.
    """
    u = m.urgent
    bound = continuity.largest_multiplier(u, m.general_practice.continuity_reference)
    if bound > u.headroom:
        raise ConfigError(
            "model.urgent.headroom",
            u.headroom,
            f"must be at least {bound:.3g}, the largest crisis multiplier continuity can give",
        )


def _check_lead(lead: s.LeadProviderSchema, k: str = "lead_provider") -> None:
    _bands(f"{k}.organisations", lead.organisations, s.SERVICES)
    orgs = set(lead.organisations.values())
    seen: set[str] = set()
    for name, members in lead.alliances.items():
        for org in members:
            if org not in orgs:
                raise ConfigError(
                    f"{k}.alliances.{name}",
                    members,
                    f"names an organisation that runs no service ({org})",
                )
            if org in seen:
                raise ConfigError(
                    f"{k}.alliances.{name}", members, f"puts {org} in more than one alliance"
                )
            seen.add(org)
    _bands(f"{k}.handoffs", lead.handoffs, s.BOUNDARIES)
    for boundary, h in lead.handoffs.items():
        checks.probability(f"{k}.handoffs.{boundary}.loss", h.loss)
    _bands(f"{k}.budget.allocation", lead.budget.allocation, s.BUDGET_SERVICES)
    checks.distribution(f"{k}.budget.allocation", lead.budget.allocation)
    checks.probability(f"{k}.governance_overhead_share", lead.governance_overhead_share)
    checks.one_of(f"{k}.priority_rule", lead.priority_rule, s.PRIORITY_RULES)
    pm = lead.practices
    checks.probability(
        f"{k}.practices.enhanced_services_moved_out_share", pm.enhanced_services_moved_out_share
    )
    checks.probability(f"{k}.practices.autonomy", pm.autonomy)


def _practices(place: s.PlaceSchema) -> tuple[tuple[Practice, ...], tuple[str, ...]]:
    """Split each neighbourhood's population into practices with lists in the allowed range.

    Deterministic: list sizes are spread evenly across the configured range and then scaled to
    sum to the neighbourhood's population, so practices never depend on a random stream.
    """
    lo, hi = place.list_size_min, place.list_size_max
    checks.positive_int("place.list_size_min", lo)
    if hi < lo:
        raise ConfigError("place.list_size_max", hi, f"must be at least list_size_min ({lo})")
    _bands("place.age_shares", place.age_shares)
    checks.distribution("place.age_shares", place.age_shares)
    if not place.areas:
        raise ConfigError("place.areas", {}, "must define at least one area")
    practices: list[Practice] = []
    areas: list[str] = []
    for name, area in place.areas.items():
        key = f"place.areas.{name}"
        checks.positive_int(f"{key}.population", area.population)
        checks.positive_int(f"{key}.neighbourhoods", area.neighbourhoods)
        _quintiles(f"{key}.deprivation_shares", area.deprivation_shares)
        checks.distribution(
            f"{key}.deprivation_shares",
            {str(i): v for i, v in enumerate(area.deprivation_shares)},
        )
        if area.age_shares is not None:
            _bands(f"{key}.age_shares", area.age_shares)
            checks.distribution(f"{key}.age_shares", area.age_shares)
        base, extra = divmod(area.population, area.neighbourhoods)
        for j in range(area.neighbourhoods):
            pop = base + (1 if j < extra else 0)
            n = max(1, round(pop / ((lo + hi) / 2)))
            raw = [lo + (hi - lo) * (i + 0.5) / n for i in range(n)]
            total = sum(raw)  # once: summing inside the loop made this quadratic in n
            sizes = [int(x * pop / total) for x in raw]
            sizes[-1] += pop - sum(sizes)
            first, index = len(practices), len(areas)
            practices.extend(Practice(first + k, name, index, size) for k, size in enumerate(sizes))
            areas.append(name)
    return tuple(practices), tuple(areas)


def _capacities(m: s.CareModelConfig, place: s.PlaceSchema, population: int) -> dict[str, float]:
    """Place-wide capacities: acute and GP from population; budgeted ones filled in later."""
    per_1000 = population / 1000.0
    cap: dict[str, float] = {
        "gp_appointments_per_1000": workforce.nominal_per_1000_per_weekday(m.practices.workforce),
        "beds": round(m.hospital.beds_per_1000 * per_1000),
        "ed_clinicians": max(1, round(m.ed.clinicians_per_100k * population / 1e5)),
    }
    cap["care_home_beds"] = -1.0  # set from the drawn population (residents plus vacancies)
    return cap


def reserved_for_practices(
    m: s.CareModelConfig, lead: s.LeadProviderSchema, population: int
) -> float:
    """What the envelope sets aside a year for payments to practices: the neighbourhood
    payment and the pay for drawn GP sessions, at the chance a practice engages (weighted
    lists are normalised to about the registered population). What engaged practices are
    actually paid is an outcome of the run (``practice_neighbourhood_payments_*``)."""
    mech = lead.practices
    share = behaviour.engagement_probability(m.practices.behaviour, mech)
    per_head = (
        mech.payment_per_weighted_patient_gbp
        + mech.gp_sessions_drawn_per_10000 / 10_000.0 * mech.drawn_session_payment_gbp
    )
    return share * per_head * population


def purchase(
    m: s.CareModelConfig,
    lead: s.LeadProviderSchema,
    envelope_per_head: float,
    population: int,
    key: str = "lead_provider",
) -> tuple[dict[str, float], AreaBudget]:
    """Turn an area's envelope into capacity with the arrangement's shares and unit costs.

    Governance overhead and neighbourhood payments to general practice come off the top;
    the rest is split by ``budget.allocation``. Places are bought whole (rounded down, so a
    share never buys more than it pays for); UCR is bought in whole teams plus a part-time
    team working the remaining share of each day's hours, because a neighbourhood of 50,000
    needs well under one team and rounding down to none would remove the service.

    Raises
    ------
    ConfigError
        If overhead and GP payments exceed the envelope, or (the model-level check) the
        capacity bought would cost more than the envelope.
    """
    envelope = envelope_per_head * population
    governance = envelope * lead.governance_overhead_share
    gp_pay = reserved_for_practices(m, lead, population)
    usable = envelope - governance - gp_pay
    if usable < 0:
        # Name the payment that is set (the neighbourhood payment unless only drawn
        # sessions are paid).
        mech = lead.practices
        name = (
            "payment_per_weighted_patient_gbp"
            if mech.payment_per_weighted_patient_gbp > 0 or mech.drawn_session_payment_gbp == 0
            else "drawn_session_payment_gbp"
        )
        raise ConfigError(
            f"{key}.practices.{name}",
            getattr(mech, name),
            f"with the pay for drawn GP sessions and the governance overhead must fit in the "
            f"envelope (GBP {envelope_per_head:g} per head)",
        )
    spend = {"governance": governance, "gp_neighbourhood_payments": gp_pay}
    purchased = dict(spend)
    cap: dict[str, float] = {}
    for svc, cap_key in s.BOUGHT.items():
        money = usable * lead.budget.allocation[svc]
        exact = money / m.costs.annual_cost_per_place[svc]
        units = _teams(exact) if svc == "ucr" else float(math.floor(exact + 1e-9))
        cap[cap_key] = units
        spend[svc] = money
        purchased[svc] = units * m.costs.annual_cost_per_place[svc]
    spend["analytics"] = purchased["analytics"] = usable * lead.budget.allocation["analytics"]
    total = sum(purchased.values())
    if total > envelope * (1 + 1e-9) + 1e-6:
        raise ConfigError(
            f"{key}.budget",
            round(total),
            f"buys capacity costing more than the envelope (GBP {envelope:,.0f} a year)",
        )
    return cap, AreaBudget(envelope=envelope, spend=spend, purchased=purchased)


def _teams(exact: float) -> float:
    """Whole teams plus a part-time team (to 0.001 of a team), never more than ``exact``."""
    whole = math.floor(exact + 1e-9)
    part = math.floor(max(0.0, exact - whole) * 1000) / 1000
    return float(whole + (part if part >= MIN_TEAM_SHARE else 0.0))


def _apply_overrides(
    place: s.PlaceSchema,
    cap: dict[str, float],
    area_cap: list[dict[str, float]],
    shares: list[float],
) -> None:
    """Place totals of budget capacity, then ``capacity_overrides`` (outside the envelope).

    An override is a place total, split across areas by population.
    """
    for cap_key in (*s.BOUGHT.values(), "p1_packages", "p3_brokerage_slots"):
        cap[cap_key] = sum(a[cap_key] for a in area_cap)
    for key, value in place.capacity_overrides.items():
        if key not in s.CAPACITY_KEYS:
            raise ConfigError(
                f"place.capacity_overrides.{key}",
                value,
                "is not a capacity; allowed: " + ", ".join(s.CAPACITY_KEYS),
            )
        if value is None:
            continue
        if value != math.inf and key != "gp_appointments_per_1000":
            whole = int(value) if isinstance(value, float) and value.is_integer() else value
            value = float(checks.nonneg_int(f"place.capacity_overrides.{key}", whole))
        cap[key] = float(value)
        if key in area_cap[0]:
            for a, part in zip(area_cap, apportion(value, shares), strict=True):
                a[key] = part
    if cap["ed_clinicians"] < 1:
        raise ConfigError(
            "place.capacity_overrides.ed_clinicians", cap["ed_clinicians"], "must be at least 1"
        )


# ------------------------------------------------------------------ acute trusts
def _trusts(place: s.PlaceSchema) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The place's acute trusts and the trust of each area (``place.trusts``).

    Without ``place.trusts`` every area has a trust of its own, named as the area. With it,
    every area must be served by exactly one named trust, and every trust serve an area.
    """
    areas = list(place.areas)
    if not place.trusts:
        return tuple(areas), tuple(range(len(areas)))
    names = tuple(place.trusts)
    of_area: dict[str, int] = {}
    for t, (trust, served) in enumerate(place.trusts.items()):
        key = f"place.trusts.{trust}"
        if not served:
            raise ConfigError(key, served, "must name at least one area of the place")
        for area in served:
            if area not in place.areas:
                raise ConfigError(
                    key, served, f"names no area of the place ({area}); areas: " + ", ".join(areas)
                )
            if area in of_area:
                raise ConfigError(
                    key, served, f"names {area}, which trust {names[of_area[area]]} already serves"
                )
            of_area[area] = t
    missing = [a for a in areas if a not in of_area]
    if missing:
        raise ConfigError(
            "place.trusts",
            sorted(place.trusts),
            "must serve every area; no trust serves " + ", ".join(missing),
        )
    return names, tuple(of_area[a] for a in areas)


# ------------------------------------------------------------------ per-area arrangements
def _area_leads(
    place: s.PlaceSchema, lead: s.LeadProviderSchema
) -> tuple[s.LeadProviderSchema, ...]:
    """The arrangement of each area: a named ``lead_provider`` file, else the composed one."""
    for area, name in place.area_arrangements.items():
        if area not in place.areas:
            raise ConfigError(
                f"place.area_arrangements.{area}",
                name,
                "names no area of the place; areas: " + ", ".join(place.areas),
            )
    loaded: dict[str, s.LeadProviderSchema] = {}
    out = []
    for area in place.areas:
        chosen = place.area_arrangements.get(area)
        if not chosen:
            out.append(lead)
            continue
        if chosen not in loaded:
            loaded[chosen] = load_arrangement(chosen, f"place.area_arrangements.{area}")
        out.append(loaded[chosen])
    return tuple(out)


def load_arrangement(name: str, key: str = "lead_provider") -> s.LeadProviderSchema:
    """Read and validate ``conf/lead_provider/<name>.yaml`` as plain data.

    The file is read with ``yaml.safe_load`` and never composed by Hydra, so it cannot name
    code to run; ``_target_`` keys and ``${...}`` interpolations are refused outright.
    Command-line overrides of ``lead_provider.*`` do not reach it. The file's ``basis`` block
    (provenance, :mod:`sim.analysis.provenance`) is carried like the composed group's, and
    never read by the model.
    """
    folder = conf_dir() / "lead_provider"
    available = sorted(p.stem for p in folder.glob("*.yaml"))
    if not isinstance(name, str) or not ARRANGEMENT_NAME.match(name) or name not in available:
        raise ConfigError(key, name, "must be one of " + ", ".join(available))
    data = yaml.safe_load((folder / f"{name}.yaml").read_text(encoding="utf-8")) or {}
    prefix = f"lead_provider[{name}]"
    if not isinstance(data, dict):
        raise ConfigError(prefix, type(data).__name__, "must be a mapping of mechanism values")
    data.pop("defaults", None)
    _refuse_code(data, prefix)
    lead = _structured(s.LeadProviderSchema, data, prefix)
    _all_finite_nonneg(lead, prefix)
    _check_lead(lead, prefix)
    return lead


def _refuse_code(node: Any, key: str) -> None:
    """No ``_target_`` and no interpolation anywhere in a file read as plain data."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "_target_":
                raise ConfigError(f"{key}._target_", v, "is not allowed in an arrangement file")
            _refuse_code(v, f"{key}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _refuse_code(v, f"{key}.{i}")
    elif isinstance(node, str) and "${" in node:
        raise ConfigError(key, node, "must be a plain value (no interpolation)")
