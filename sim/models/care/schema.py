"""Structured-config schemas for ``model=care`` and its ``place`` and ``lead_provider`` groups.

The schemas are mutable (Hydra overrides need that) and only check types; values are checked
and frozen by :mod:`sim.models.care.params`. Every field's default is a neutral placeholder:
the real values live in the YAML files under ``conf/``, each with its basis in the file's
``basis`` block (:mod:`sim.analysis.provenance`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

AGE_BANDS = ("0-17", "18-44", "45-64", "65-74", "75-84", "85+")
OLD_BANDS = ("65-74", "75-84", "85+")
FRAILTY = ("fit", "mild", "moderate", "severe")
QUINTILES = 5
# Illness trajectories to death (sim/models/care/trajectories.py), in code order.
TRAJECTORIES = ("sudden", "short_decline", "organ_failure", "dwindling")
SERVICES = (
    "general_practice",
    "nhs111",
    "utc",
    "ed",
    "ambulance",
    "hospital",
    "outpatients",
    "proactive_care",
    "ucr",
    "step_down",
    "virtual_ward",
    "eol",
    "care_home",
    "analytics",
    "social_care",  # the local authority's reablement and home care (discharge pathway 1)
)
BUDGET_SERVICES = ("proactive_care", "ucr", "step_down", "virtual_ward", "eol", "analytics")
# Capacity key bought by each budgeted service (analytics buys coverage, not places).
BOUGHT = {
    "proactive_care": "proactive_places",
    "ucr": "ucr_teams",
    "step_down": "step_down_places",
    "virtual_ward": "virtual_ward_beds",
    "eol": "eol_places",
}
BOUNDARIES = ("same_organisation", "alliance", "separate")
PRIORITY_RULES = ("step_down_first", "step_up_first", "by_need")
CAPACITY_KEYS = (
    "gp_appointments_per_1000",
    "beds",
    "ed_clinicians",
    "ucr_teams",
    "proactive_places",
    "step_down_places",
    "virtual_ward_beds",
    "eol_places",
    "care_home_beds",
    "p1_packages",  # the local authority's discharge (pathway 1) packages, place total
    "p3_brokerage_slots",  # care-home placements the local authority can arrange at once
)
# Discharge-to-assess pathways at medically fit (docs/model.md, "Discharge to assess").
PATHWAYS = ("p0", "p1", "p2", "p3")
# Why a medically fit patient is still in a bed: waiting for the referral to cross to the
# next organisation, or for a pathway's capacity.
DELAY_REASONS = ("handoff", "p1", "p2", "p3", "weekend")


def _ages() -> dict[str, float]:
    """Default of a row by age band: empty, so every band must be configured.

    A default listing every band (at 0.0) would silently fill a band left out of a config,
    and the "needs exactly the keys" check could never fire.
    """
    return {}


# --------------------------------------------------------------------------- model group
@dataclass
class PopulationConfig:
    """How people's attributes are drawn (shares are per age band unless stated)."""

    male_share: float = 0.49
    frailty_shares: dict[str, dict[str, float]] = field(default_factory=dict)
    care_home_share: dict[str, float] = field(default_factory=dict)
    care_home_frailty_shares: dict[str, float] = field(default_factory=dict)
    ltc_mean: dict[str, float] = field(default_factory=_ages)
    ltc_deprivation_multiplier: list[float] = field(default_factory=lambda: [1.0] * 5)
    ltc_frailty_extra: dict[str, float] = field(default_factory=dict)


@dataclass
class GeneralPracticeConfig:
    """Demand for and supply of practice appointments."""

    demand_per_person_year: dict[str, float] = field(default_factory=_ages)
    demand_frailty_multiplier: dict[str, float] = field(default_factory=dict)
    demand_per_ltc: float = 0.0
    demand_scale: float = 1.0
    same_day_request_share: float = 0.5
    routine_asap_share: float = 0.5
    routine_planned_lead_mean_days: float = 14.0
    booking_window_days: int = 56
    same_day_capacity_share: float = 0.5
    # Relative weight of each day of the week (Monday first) for the day a request arises.
    request_day_weights: list[float] = field(default_factory=lambda: [1.0] * 5 + [0.0] * 2)
    continuity_reference: float = 0.61
    outcome_shares: dict[str, float] = field(default_factory=dict)
    overflow_shares: dict[str, float] = field(default_factory=dict)


@dataclass
class PracticeWorkforceConfig:
    """Each practice's clinical workforce, in sessions a week (:mod:`.practices.workforce`)."""

    gp_fte_per_10000_weighted: float = 0.0
    partner_share_of_gp_fte: float = 0.6
    nurse_fte_per_10000_weighted: float = 0.0
    arrs_fte_per_10000_weighted: float = 0.0
    sessions_per_fte: float = 9.0
    sessions_per_gp: float = 7.0
    spread_cv: float = 0.0
    capacity_spread_cv: float = 0.0
    appointments_per_session: dict[str, float] = field(default_factory=dict)


@dataclass
class PracticeWeightingConfig:
    """A documented simplification of the Carr-Hill weighted list (:mod:`.practices.weighting`)."""

    age_weights: dict[str, float] = field(default_factory=_ages)
    care_home_weight: float = 1.0


@dataclass
class PracticeMoneyConfig:
    """Practice income and costs, GBP a year (:mod:`.practices.money`)."""

    global_sum_per_weighted_patient_gbp: float = 0.0
    out_of_hours_deduction_share: float = 0.0
    qof_per_patient_gbp: float = 0.0
    pcn_des_per_patient_gbp: float = 0.0
    enhanced_services_per_patient_gbp: float = 0.0
    salaried_gp_cost_per_fte_gbp: float = 0.0
    nurse_cost_per_fte_gbp: float = 0.0
    other_costs_per_weighted_patient_gbp: float = 0.0
    income_spread_cv: float = 0.0
    cost_spread_cv: float = 0.0
    quarterly_shock_cv: float = 0.0
    shock_persistence: float = 0.0


@dataclass
class PracticeBehaviourConfig:
    """How practices respond to an arrangement (:mod:`.practices.behaviour`): assumptions."""

    engagement_intercept: float = 0.0
    engagement_per_gbp: float = 0.0
    engagement_per_autonomy: float = 0.0
    hire_floor_profit_per_partner_fte_gbp: float = 0.0
    max_hire_sessions_per_quarter: float = 0.0
    payment_spent_on_gp_sessions_share: float = 0.0


@dataclass
class PracticeViabilityConfig:
    """When a practice hands back its contract (:mod:`.practices.viability`)."""

    distress_profit_per_partner_fte_gbp: float = 0.0
    quarters_to_hand_back: int = 4


@dataclass
class PracticeContinuityConfig:
    """Whether a GP appointment is with the patient's usual GP (:mod:`.practices.continuity`)."""

    usual_gp_scale: float = 1.0
    new_registration_factor: float = 1.0
    new_registration_days: float = 365.0


@dataclass
class PracticesConfig:
    """General practice as a business: workforce, money, behaviour, viability, continuity."""

    workforce: PracticeWorkforceConfig = field(default_factory=PracticeWorkforceConfig)
    weighting: PracticeWeightingConfig = field(default_factory=PracticeWeightingConfig)
    money: PracticeMoneyConfig = field(default_factory=PracticeMoneyConfig)
    behaviour: PracticeBehaviourConfig = field(default_factory=PracticeBehaviourConfig)
    viability: PracticeViabilityConfig = field(default_factory=PracticeViabilityConfig)
    continuity: PracticeContinuityConfig = field(default_factory=PracticeContinuityConfig)


@dataclass
class UrgentConfig:
    """Crisis (serious deterioration) and minor urgent need, and how they reach services."""

    crisis_per_person_year: dict[str, float] = field(default_factory=_ages)
    crisis_frailty_multiplier: dict[str, float] = field(default_factory=dict)
    crisis_per_ltc: float = 0.0
    crisis_deprivation_multiplier: list[float] = field(default_factory=lambda: [1.0] * 5)
    crisis_care_home_multiplier: float = 1.0
    crisis_scale: float = 1.0
    continuity_effect_per_0_2_upc: float = 0.0
    headroom: float = 1.5
    minor_per_person_year: dict[str, float] = field(default_factory=_ages)
    minor_deprivation_multiplier: list[float] = field(default_factory=lambda: [1.0] * 5)
    minor_scale: float = 1.0
    minor_shares: dict[str, float] = field(default_factory=dict)
    hour_weights: list[float] = field(default_factory=lambda: [1.0] * 24)
    ambulance_share: float = 0.5
    direct_admission_share: float = 0.0


@dataclass
class CalendarConfig:
    """Dates of the run and the seasonal cycle of crisis demand (:mod:`.calendar`)."""

    start_date: str = "2024-04-01"
    crisis_seasonal_amplitude: float = 0.0
    crisis_peak_day_of_year: int = 15


@dataclass
class UcrConfig:
    """Urgent community response (2-hour)."""

    open_hour: float = 8.0
    close_hour: float = 20.0
    min_age_band: str = "65-74"
    referral_share: float = 0.2
    travel_hours_mean: float = 1.0
    visit_hours_mean: float = 1.5
    max_wait_hours: float = 4.0
    avert_share: float = 0.5
    step_up_share: float = 0.2


@dataclass
class ProactiveConfig:
    """Proactive-care (integrated neighbourhood team) caseload."""

    min_ltc: int = 4
    min_frailty: str = "moderate"
    crisis_rate_ratio: float = 1.0
    base_case_finding: float = 0.5
    analytics_uplift_per_gbp_head: float = 0.0
    review_days: float = 365.0


@dataclass
class EdConfig:
    """Type 1 emergency department and type 3 urgent treatment centre."""

    clinicians_per_100k: float = 2.0
    treatment_hours_mean: float = 2.5
    treatment_cv: float = 0.7
    admit_crisis: dict[str, float] = field(default_factory=_ages)
    admit_frailty_multiplier: dict[str, float] = field(default_factory=dict)
    admit_minor: float = 0.02
    utc_hours_mean: float = 1.5
    utc_cv: float = 0.6


@dataclass
class WeekendDischargeConfig:
    """Fewer discharges at weekends: a discharge due on a Saturday or Sunday goes ahead with
    probability ``share``; otherwise the patient waits in the bed until Monday at
    ``resume_hour`` (a delayed discharge with the reason ``weekend``)."""

    share: float = 0.67
    resume_hour: float = 10.0


@dataclass
class HospitalConfig:
    """General and acute beds, length of stay and discharge."""

    beds_per_1000: float = 1.75
    elective_bed_share: float = 0.15
    los_mean_days: dict[str, float] = field(default_factory=_ages)
    los_frailty_multiplier: dict[str, float] = field(default_factory=dict)
    los_cv: float = 1.0
    weekend_discharge: WeekendDischargeConfig = field(default_factory=WeekendDischargeConfig)


@dataclass
class SocialCareConfig:
    """Discharge to assess and local-authority social care (:mod:`.services.social_care`).

    ``pathway_shares`` gives, by age band, the discharge pathway of a medically fit patient
    of ``fit`` frailty: ``p0`` home without new support, ``p1`` home with reablement or home
    care (or a virtual ward, health-funded, for ``p1_virtual_ward_share`` of them), ``p2``
    bedded intermediate care (step-down places), ``p3`` a care home. The shares of pathways
    1-3 are multiplied by ``frailty_support_multiplier`` of the patient's frailty, and
    pathway 0 takes the rest. Pathway 1 packages are the local authority's, a finite number
    per area (``p1_packages_per_1000`` of the area's people, ``.inf`` unlimited), each held
    for a lognormal time (``p1_package_days_mean``, ``p1_package_cv``).
    """

    pathway_shares: dict[str, dict[str, float]] = field(default_factory=dict)
    frailty_support_multiplier: dict[str, float] = field(default_factory=dict)
    p1_virtual_ward_share: float = 0.0
    p1_packages_per_1000: float = 1.0
    p1_package_days_mean: float = 42.0
    p1_package_cv: float = 0.5
    p3_brokerage_slots_per_100k: float = 1.0
    p3_brokerage_days_mean: float = 3.0


@dataclass
class StayConfig:
    """A community service that holds a place for a time (step-down, virtual ward)."""

    stay_mean_days: float = 14.0
    stay_cv: float = 0.5
    max_wait_step_up_days: float = 0.25


@dataclass
class EndOfLifeConfig:
    """The last months of life, end-of-life care and place of death."""

    phase_days: float = 90.0
    # End-of-life identification: the surprise question at clinical contacts (no foresight).
    sensitivity: float = 0.67
    specificity: float = 0.80
    asked_min_age_band: str = "85+"
    asked_min_frailty: str = "severe"
    caseload_review_days: float = 30.0
    register_review_days: float = 365.0
    enrolled_crisis_rate_ratio: float = 1.0
    terminal_event_share: dict[str, float] = field(default_factory=dict)
    terminal_lead_days_mean: float = 5.0
    terminal_admit_share: float = 0.9
    place_at_home: dict[str, float] = field(default_factory=dict)
    place_in_care_home: dict[str, float] = field(default_factory=dict)
    enrolled_home_rate_ratio: float = 1.0


@dataclass
class TrajectoryShape:
    """Excess crisis hazard before death: a linear rise plus a steep one (trajectories.py)."""

    plateau: float = 0.0
    span_days: float = 365.0
    peak: float = 0.0
    scale_days: float = 30.0


@dataclass
class TrajectoriesConfig:
    """Illness trajectories to death: shares by age band and the shape of each."""

    shares: dict[str, dict[str, float]] = field(default_factory=dict)
    shapes: dict[str, TrajectoryShape] = field(default_factory=dict)


@dataclass
class MortalityConfig:
    """Death rates."""

    per_1000_by_age: dict[str, float] = field(default_factory=_ages)
    frailty_hazard_ratio: dict[str, float] = field(default_factory=dict)
    care_home_hazard_ratio: float = 1.0
    scale: float = 1.0


@dataclass
class CostsConfig:
    """Unit costs (GBP) and what a year of one place of each budgeted service costs."""

    unit: dict[str, float] = field(default_factory=dict)
    annual_cost_per_place: dict[str, float] = field(default_factory=dict)
    care_home_self_funded_share: float = 0.0


@dataclass
class AfterDischargeConfig:
    """Raised crisis risk after an emergency discharge (:mod:`.after_discharge`).

    The crisis rate is multiplied by ``1 + (peak - 1) * 2 ** (-days / half_life_days)`` for
    ``window_days`` after the discharge. ``peak`` is ``crisis_rate_ratio``, times
    ``lost_referral_ratio`` if the onward referral was lost, or ``slow_wait_ratio`` if the
    patient waited more than ``slow_wait_days`` in the bed for onward care, times
    ``onward_care_ratio`` after a step-down or virtual-ward place.
    """

    crisis_rate_ratio: float = 1.0
    half_life_days: float = 13.0
    window_days: float = 90.0
    lost_referral_ratio: float = 1.0
    slow_wait_days: float = 7.0
    slow_wait_ratio: float = 1.0
    onward_care_ratio: float = 1.0


@dataclass
class LifeCourseConfig:
    """An open, ageing population (:mod:`.life_course`): births, moves and frailty.

    Moves in and frailty transition rates are not configured: they are derived from these
    values and the starting population so that list size and age and frailty mix stay
    stationary (docs/model.md, "An open, ageing population").
    """

    births_per_1000_per_year: float = 0.0
    moves_out_per_1000_per_year: dict[str, float] = field(default_factory=_ages)
    oldest_age_years: float = 100.0


@dataclass
class CareModelConfig:
    """``model=care``: the integrated neighbourhood care model."""

    kind: str = "care"
    population: PopulationConfig = field(default_factory=PopulationConfig)
    life_course: LifeCourseConfig = field(default_factory=LifeCourseConfig)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    general_practice: GeneralPracticeConfig = field(default_factory=GeneralPracticeConfig)
    practices: PracticesConfig = field(default_factory=PracticesConfig)
    urgent: UrgentConfig = field(default_factory=UrgentConfig)
    ucr: UcrConfig = field(default_factory=UcrConfig)
    proactive: ProactiveConfig = field(default_factory=ProactiveConfig)
    ed: EdConfig = field(default_factory=EdConfig)
    hospital: HospitalConfig = field(default_factory=HospitalConfig)
    social_care: SocialCareConfig = field(default_factory=SocialCareConfig)
    step_down: StayConfig = field(default_factory=StayConfig)
    virtual_ward: StayConfig = field(default_factory=StayConfig)
    eol: EndOfLifeConfig = field(default_factory=EndOfLifeConfig)
    trajectories: TrajectoriesConfig = field(default_factory=TrajectoriesConfig)
    mortality: MortalityConfig = field(default_factory=MortalityConfig)
    after_discharge: AfterDischargeConfig = field(default_factory=AfterDischargeConfig)
    care_home_vacancy_share: float = 0.05
    care_home_refill_days: float = 28.0
    costs: CostsConfig = field(default_factory=CostsConfig)
    # Provenance of each value (dotted key -> basis; sim.analysis.provenance). Carried into
    # every run's saved config for the report; the model never reads it.
    basis: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- place group
@dataclass
class AreaConfig:
    """One borough (or the whole place): its population split into neighbourhoods."""

    population: int = 50000
    neighbourhoods: int = 1
    deprivation_shares: list[float] = field(default_factory=lambda: [0.2] * 5)
    age_shares: dict[str, float] | None = None


@dataclass
class PlaceSchema:
    """``place``: the footprint, its practices and population mix.

    ``area_arrangements`` maps an area name to a file of the ``lead_provider`` group (e.g.
    ``{bexley: alliance}``); areas it does not name use the composed ``lead_provider``.
    ``trusts`` maps an acute trust's name to the areas it serves (``{lgt: [lewisham,
    greenwich, bexley]}``): their ED clinicians and beds are one pool, whatever arrangement
    each area's contract follows. Every area is in exactly one trust; with no ``trusts``,
    each area has a trust of its own.
    """

    name: str = "place"
    list_size_min: int = 6000
    list_size_max: int = 9000
    age_shares: dict[str, float] = field(default_factory=_ages)
    areas: dict[str, AreaConfig] = field(default_factory=dict)
    capacity_overrides: dict[str, float | None] = field(default_factory=dict)
    area_arrangements: dict[str, str] = field(default_factory=dict)
    trusts: dict[str, list[str]] = field(default_factory=dict)
    basis: dict[str, str] = field(default_factory=dict)  # provenance only, never read by the model


# ------------------------------------------------------------------- lead_provider group
@dataclass
class HandoffConfig:
    """Delay and loss of a referral crossing one kind of organisational boundary."""

    delay_days_mean: float = 0.0
    loss: float = 0.0


@dataclass
class BudgetConfig:
    """Per-head envelope for SNP + MNP services and its allocation."""

    envelope_per_head_gbp: float = 0.0
    allocation: dict[str, float] = field(default_factory=dict)


@dataclass
class PracticeMechanismsConfig:
    """How an arrangement reaches practices (``lead_provider.practices``): mechanisms only."""

    payment_per_weighted_patient_gbp: float = 0.0
    enhanced_services_moved_out_share: float = 0.0
    gp_sessions_drawn_per_10000: float = 0.0
    drawn_session_payment_gbp: float = 0.0
    autonomy: float = 0.5
    collective_disengagement: bool = False


@dataclass
class LeadProviderSchema:
    """``lead_provider``: the arrangement's mechanism parameters (never its name)."""

    name: str = "arrangement"
    organisations: dict[str, str] = field(default_factory=dict)
    alliances: dict[str, list[str]] = field(default_factory=dict)
    handoffs: dict[str, HandoffConfig] = field(default_factory=dict)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    governance_overhead_share: float = 0.0
    priority_rule: str = "step_down_first"
    practices: PracticeMechanismsConfig = field(default_factory=PracticeMechanismsConfig)
    basis: dict[str, str] = field(default_factory=dict)  # provenance only, never read by the model
