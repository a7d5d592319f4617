"""Every KPI the care model writes, described once (see :mod:`sim.models.kpi`).

Definitions follow ``sim/models/care/kpis.py`` and the tallies in ``tallies.py``. Unless a
definition says otherwise, a KPI counts what happens from the end of the warm-up to the
horizon, and a rate is annualised per 1,000 people registered at the start of the run.
The docs' KPI dictionary (docs/model.md) is generated from this file:
``python -m sim.models.kpi_docs``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sim.models.care.schema import BUDGET_SERVICES, DELAY_REASONS, SERVICES
from sim.models.kpi import Better, Kpi, KpiSet, Part, humanise

PER_1000 = "per 1,000 people per year"
GBP_YEAR = "£ per year"
# Partners' profit, shown in thousands so that a table of four arrangements fits a screen.
K_GBP_YEAR = "£ thousand a year"
AFTER = "after warm-up"
RATE = f"{AFTER}, per 1,000 registered people per year"
QUARTERS = "over open practices' quarters mostly after warm-up"

# Settings that costs are reported by (schema.SERVICES plus two items off the envelope's top).
SETTINGS: dict[str, str] = {
    "general_practice": "General practice",
    "nhs111": "NHS 111",
    "utc": "Urgent treatment centres",
    "ed": "A&E",
    "ambulance": "Ambulance",
    "hospital": "Hospital beds",
    "outpatients": "Outpatients",
    "proactive_care": "Proactive neighbourhood care",
    "ucr": "Urgent community response",
    "step_down": "Community step-down",
    "virtual_ward": "Virtual ward",
    "eol": "End-of-life care",
    "care_home": "Care homes",
    "analytics": "Population-health analytics",
    "social_care": "Social care (reablement and home care)",
    "governance": "Governance and coordination",
    "gp_neighbourhood_payments": "Neighbourhood payments to practices",
}

# Readable names for the organisations in the shipped configs; others are humanised.
ORGANISATIONS: dict[str, str] = {
    "gp_practices": "GP practices",
    "gp_federation": "GP federation",
    "pcn": "Primary care network",
    "nhs111_provider": "NHS 111 provider",
    "acute_trust": "Acute trust",
    "ambulance_trust": "Ambulance trust",
    "community_trust": "Community trust",
    "hospice_charity": "Hospice charity",
    "local_authority": "Local authority",
    "icb": "Integrated care board",
    "alliance": "Alliance",
}


def setting_words(name: str) -> str:
    """Plain-English name of a care setting (as used in ``cost__<setting>``)."""
    return SETTINGS.get(name, humanise(name))


def organisation_words(name: str) -> str:
    """Plain-English name of an organisation (as used in ``cost__<organisation>``)."""
    return ORGANISATIONS.get(name, humanise(name))


def _one_of(names: Iterable[str]) -> str:
    """A regular expression matching exactly one of ``names`` (longest first)."""
    return "(?:" + "|".join(sorted(names, key=len, reverse=True)) + ")"


# Social care is the local authority's, outside the NHS costs the model adds up.
_ACTIVITY = [s for s in SERVICES if s not in BUDGET_SERVICES and s != "social_care"]

# Why a medically fit patient is still in a bed (schema.DELAY_REASONS).
REASONS: dict[str, str] = {
    "handoff": "waiting for the referral to reach the next organisation",
    "p1": "waiting for care at home (pathway 1: reablement, home care or virtual ward)",
    "p2": "waiting for bedded intermediate care (pathway 2: step-down)",
    "p3": "waiting for a care-home place (pathway 3)",
    "weekend": "waiting for Monday (a discharge due at the weekend that slipped)",
}


def reason_words(name: str) -> str:
    """Plain-English name of a delay reason."""
    return REASONS.get(name, humanise(name))


PARTS: dict[str, Part] = {
    "setting": Part(_one_of(SETTINGS), setting_words, "a care setting"),
    "activity_setting": Part(
        _one_of(_ACTIVITY), setting_words, "a setting costed by activity: " + ", ".join(_ACTIVITY)
    ),
    "budget_setting": Part(
        _one_of(BUDGET_SERVICES),
        setting_words,
        "a service bought from the envelope: " + ", ".join(BUDGET_SERVICES),
    ),
    "reason": Part(
        _one_of(DELAY_REASONS), reason_words, "a delay reason: " + ", ".join(DELAY_REASONS)
    ),
    "organisation": Part(
        f"(?!{_one_of(SETTINGS)}$)[a-z0-9_]+",
        organisation_words,
        "an organisation named in the arrangement (lower case, non-alphanumerics as _)",
    ),
}

GP = "General practice"
URGENT = "Urgent and hospital care"
COMMUNITY = "Community services"
EOL = "End of life"
EQUITY = "Equity"
POPULATION = "Population (the same drawn people in every scenario)"
COST = "Cost"


def _share(
    name: str,
    label: str,
    definition: str,
    source: str,
    better: Better = "neutral",
    short: str = "",
    headline: int = 0,
    by_area: bool = False,
    group: str = "",
) -> Kpi:
    """A share, stored 0-1 and shown as a percentage."""
    return Kpi(name, label, "%", definition, source, better, 100.0, short, headline,
               by_area=by_area, group=group)  # fmt: skip


ENTRIES: tuple[Kpi, ...] = (
    # ------------------------------------------------------------------ general practice
    Kpi("gp_appointments_per_1000", "GP practice appointments", PER_1000,
        f"Appointments held (all roles) {RATE}.", "AppointmentTally.held",
        short="GP appointments", group=GP),
    Kpi("gp_routine_wait_mean_days", "Average wait for a routine GP appointment", "days",
        f"Mean days from the day wanted to the day held, over routine (booked-ahead) "
        f"appointments held {AFTER}.", "AppointmentTally.routine_wait_days (histogram)",
        "lower", short="Routine wait (mean)", headline=4, by_area=True, group=GP),
    Kpi("gp_routine_wait_p90_days", "Routine GP wait that 9 in 10 people beat", "days",
        f"90th percentile of the routine waits above (whole days, linear interpolation), "
        f"{AFTER}.", "AppointmentTally.routine_wait_percentile(90)", "lower",
        short="Routine wait (90th %)", group=GP),
    _share("gp_same_day_share", "Appointments seen the same day",
           f"Appointments held on the day requested / all appointments held, {AFTER}.",
           "AppointmentTally.same_day / held", better="higher", short="Seen same day", group=GP),
    _share("gp_within_14_days_share", "Appointments seen within 2 weeks",
           f"Appointments held within 14 days of the day wanted / all held, {AFTER}.",
           "AppointmentTally.within_14_days / held", better="higher",
           short="Seen within 2 weeks", group=GP),
    _share("gp_gp_delivered_share", "Appointments given by a GP",
           f"Appointments held by a GP (not a nurse or other role) / all held, {AFTER}.",
           "AppointmentTally.role_by_area[:, 0] / held", short="Given by a GP", group=GP),
    Kpi("gp_continuity_upc", "Continuity with the usual GP", "index 0–1",
        f"Mean usual-provider-of-care index (GP appointments with the usual GP / GP "
        f"appointments) over people with 2+ GP appointments {AFTER}. Each appointment's "
        f"record says whether it was with the usual GP, by how much of the week that GP works "
        f"in the practice (sessions drawn into neighbourhood work lower it) and whether the "
        f"patient is new to the practice (joiners and patients of closed practices).",
        "AppointmentTally.continuity_upc()", "higher", short="GP continuity", group=GP),
    Kpi("gp_same_day_unmet_per_1000", "Same-day needs practices could not meet", PER_1000,
        f"Same-day requests beyond the day's same-day slots (sent to NHS 111, UTC, A&E or "
        f"self-care) {RATE}.", "EventTally.post: gp_same_day_unmet", "lower",
        short="Unmet same-day need", group=GP),
    Kpi("nhs111_contacts_per_1000", "NHS 111 contacts", PER_1000,
        f"NHS 111 contacts from unmet same-day need {RATE}.", "EventTally.post: nhs111_contact",
        group=GP),
    Kpi("outpatient_referrals_per_1000", "Outpatient referrals", PER_1000,
        f"GP appointments ending in an outpatient referral {RATE}.",
        "EventTally.post: outpatient_referral", group=GP),
    _share("practices_engaged_share", "Practices engaged in neighbourhood work",
           "Practices that chose to engage at the start (case-finding, neighbourhood "
           "payments, drawn GP sessions) / all practices; each decides by the logistic "
           "response to its arrangement's money and autonomy (an assumption).",
           "Practices.engaged_at_start", better="neutral", short="Practices engaged",
           group=GP),
    Kpi("practice_profit_per_partner_fte_median_gbp",
        "Partners' profit per full-time partner (median practice)", K_GBP_YEAR,
        f"Median, {QUARTERS}, of the quarter's income less costs x 4 / partner FTE "
        f"(stored in GBP, shown in thousands).",
        "Practices.rows: profit_per_partner_fte_gbp", "higher", scale=0.001,
        short="Partner profit (median)", headline=5, group=GP),
    Kpi("practice_profit_per_partner_fte_p10_gbp",
        "Partners' profit per full-time partner (practice at the 10th percentile)", K_GBP_YEAR,
        f"10th percentile, {QUARTERS}, of the quarter's income less costs x 4 / "
        "partner FTE (stored in GBP, shown in thousands).",
        "Practices.rows: profit_per_partner_fte_gbp", "higher", scale=0.001,
        short="Partner profit (10th %)", group=GP),
    _share("practices_in_distress_share", "Practices in financial distress",
           "Share of open practices' quarters, after warm-up, with partners' profit per "
           "partner FTE below model.practices.viability.distress_profit_per_partner_fte_gbp.",
           "Practices.rows: distressed", better="lower", short="Practices in distress",
           group=GP),
    Kpi("practice_contracts_handed_back_per_100_practices",
        "Practice contracts handed back", "per 100 practices per year",
        "Practices that handed back their contract after quarters_to_hand_back quarters of "
        "distress, in quarters mostly after warm-up, per 100 practices at the start, "
        "per year.", "Practices.handed_back_post", "lower", short="Contracts handed back",
        group=GP),
    Kpi("patients_displaced_per_1000", "Patients moved by a practice closing", PER_1000,
        f"Registered patients whose practice handed back its contract and who were moved to a "
        f"neighbouring practice {RATE}.", "Practices.displaced_post", "lower",
        short="Patients displaced", group=GP),
    Kpi("practice_neighbourhood_payments_per_weighted_patient_gbp",
        "Neighbourhood money paid to practices", "£ per weighted patient per year",
        "Neighbourhood payments plus pay for drawn GP sessions received by engaged practices, "
        f"{QUARTERS}, per weighted patient a year.",
        "Practices.rows: neighbourhood_payment_gbp",
        "neutral", short="Money to practices", group=GP),
    Kpi("practice_neighbourhood_payments_per_head_gbp",
        "Neighbourhood money paid to practices, per person", "£ per registered person per year",
        "As practice_neighbourhood_payments_per_weighted_patient_gbp, per person registered "
        "at the start.", "Practices.rows: neighbourhood_payment_gbp", "neutral",
        short="Money to practices per person", group=GP),
    Kpi("practice_income_moved_out_per_weighted_patient_gbp",
        "Enhanced-services income moved out of practices", "£ per weighted patient per year",
        "Enhanced-services income the arrangement moved to the contract holder, "
        f"{QUARTERS}, per "
        "weighted patient a year.", "Practices.rows: enhanced_services_lost_gbp", "neutral",
        short="Income moved out", group=GP),
    Kpi("gp_sessions_drawn_per_10000", "GP sessions drawn into neighbourhood work",
        "sessions a week per 10,000 weighted patients",
        "GP sessions a week that engaged practices give to neighbourhood leadership, MDTs and "
        f"case-finding, {QUARTERS}, per 10,000 weighted patients.",
        "Practices.rows: sessions_drawn",
        "neutral", short="GP sessions drawn", group=GP),
    # ------------------------------------------------------------------ urgent and hospital
    Kpi("ed_attendances_per_1000", "A&E attendances (all types)", PER_1000,
        f"Type 1 (major A&E) plus type 3 (UTC) arrivals {RATE}.",
        "EventTally.post: ed_arrival + utc_arrival", "lower", short="A&E attendances",
        group=URGENT),
    Kpi("ed_type1_attendances_per_1000", "Major A&E (type 1) attendances", PER_1000,
        f"Type 1 arrivals {RATE}.", "EventTally.post: ed_arrival", "lower",
        short="Type 1 A&E attendances", group=URGENT),
    _share("ed_within_4h_share", "A&E patients seen within 4 hours",
           "Type 1 and type 3 attendances that left within 4 hours of arrival / attendances, "
           "arriving after warm-up and leaving by the horizon.",
           "VisitTally.within_4h / visits", better="higher", short="A&E within 4h",
           group=URGENT),
    _share("ed_type1_within_4h_share", "Major A&E patients seen within 4 hours",
           "Type 1 attendances that left within 4 hours / type 1 attendances, arriving after "
           "warm-up and leaving by the horizon.", "VisitTally.type1_within_4h / type1",
           better="higher", short="Type 1 A&E within 4h", group=URGENT),
    _share("ed_type1_admitted_share", "Major A&E attendances admitted",
           "Type 1 attendances admitted / type 1 attendances (same window as above).",
           "VisitTally.type1_admitted / type1", group=URGENT),
    Kpi("ed_time_in_department_mean_hours", "Average time in major A&E", "hours",
        "Mean hours from arrival to leaving type 1 A&E (boarding included), same window.",
        "VisitTally.type1_days / type1 x 24", "lower", short="Time in A&E", group=URGENT),
    Kpi("ambulance_conveyances_per_1000", "Ambulance conveyances to A&E", PER_1000,
        f"Type 1 A&E arrivals brought by ambulance {RATE}.",
        "EventTally.post: ambulance_conveyance", "lower", short="Ambulance conveyances",
        group=URGENT),
    Kpi("emergency_admissions_per_1000", "Emergency admissions", PER_1000,
        f"Emergency admissions (from A&E or direct) {RATE}.",
        "EventTally.post: emergency_admission", "lower", short="Emergency admissions",
        headline=1, by_area=True, group=URGENT),
    Kpi("los_mean_days", "Average length of hospital stay", "days",
        "Mean days in a bed (delayed days included) of stays that began after warm-up and "
        "ended by the horizon.", "StayTally.los_days / ended", "lower", short="Length of stay",
        group=URGENT),
    Kpi("los_75plus_mean_days", "Average length of stay, people 75 and over", "days",
        "As the average length of stay, for people aged 75 and over.",
        "StayTally.los_days_old / ended_old", "lower", short="Stay, 75+", group=URGENT),
    Kpi("beds_available", "General and acute beds", "beds",
        "G&A beds in the place (elective share included): model.hospital.beds_per_1000 x "
        "population / 1,000, or place.capacity_overrides.beds.",
        "sum(hospital.beds_total)", echo="model.hospital.beds_per_1000", group=URGENT),
    _share("bed_occupancy_mean", "Hospital beds occupied (average)",
           f"Time-weighted mean of occupied G&A beds (elective share counted as full) / all "
           f"G&A beds, {AFTER}. By area: the occupancy of the trust that serves the area "
           f"(place.trusts), shared with any other area it serves.",
           "Level integrals of hospital.beds + reserved",
           better="lower", short="Bed occupancy", headline=2, by_area=True, group=URGENT),
    _share("bed_occupancy_p95", "Hospital beds occupied (busiest 1 day in 20)",
           f"95th percentile over whole days {AFTER} of the daily mean occupancy above.",
           "Level daily means of hospital.beds + reserved", better="lower",
           short="Bed occupancy, busy days", group=URGENT),
    Kpi("delayed_discharge_beds_mean", "Beds held by people ready to leave (average)", "beds",
        f"Time-weighted mean number of beds held by medically fit patients waiting for onward "
        f"care, {AFTER}.", "Level integrals of hospital.delayed", "lower",
        short="Delayed beds", group=URGENT),
    Kpi("delayed_discharge_beds_per_1000", "Beds held by people ready to leave",
        "beds per 1,000 people",
        "The average delayed beds above per 1,000 registered people.",
        "Level integrals of hospital.delayed", "lower", short="Delayed beds", group=URGENT),
    Kpi("delayed_discharge_bed_days_per_1000", "Bed days lost to delayed discharge",
        "bed days per 1,000 people per year",
        "Average delayed beds x 365 per 1,000 registered people: bed days a year held by "
        f"people ready to leave, {AFTER}.", "Level integrals of hospital.delayed", "lower",
        short="Delayed-discharge bed days", headline=3, by_area=True, group=URGENT),
    Kpi("delayed_discharge_bed_days_{reason}_per_1000", "Bed days lost to delayed discharge, "
        "{reason_lower}", "bed days per 1,000 people per year",
        "Average beds held by medically fit patients {reason_lower} x 365 per 1,000 "
        f"registered people, {AFTER}. The four reasons add up to all delayed-discharge bed "
        "days: a delayed patient waits for the handoff, then for the pathway's capacity.",
        "Level integrals of hospital.reasons", "lower", short="Delayed days: {reason_id}",
        group=URGENT),
    _share("delayed_discharge_{reason}_share", "Delayed beds {reason_lower}",
           f"Average delayed beds for this reason / all average delayed beds, {AFTER}.",
           "Level integrals of hospital.reasons and hospital.delayed",
           short="Delay share: {reason_id}", group=URGENT),
    Kpi("social_care_packages_mean", "Social-care packages running (average)", "packages",
        f"Time-weighted mean number of the local authority's pathway 1 packages (reablement "
        f"or home care) held, {AFTER}.", "Caseload busy_mean of social_care.packages",
        group=COMMUNITY),
    _share("delayed_discharge_share_of_occupied", "Occupied beds held by people ready to leave",
           f"Average delayed beds / average occupied beds, {AFTER}.",
           "Level integrals of hospital.delayed and beds", better="lower",
           short="Delayed share of beds", group=URGENT),
    _share("readmission_30d_share", "Emergency readmissions within 30 days",
           "Emergency discharges alive from the end of the warm-up to 30 days before the "
           "horizon that were followed by an emergency admission (the bed granted) within 30 "
           "days / those discharges. Each discharge counts at most once; a death within 30 "
           "days stays in the denominator. The national figure divides by all discharges, "
           "elective included (docs/calibration.md).",
           "AfterDischarge.readmissions / discharges", better="lower",
           short="30-day readmissions", group=URGENT),
    Kpi("readmissions_after_lost_referral_per_1000",
        "Readmissions after a lost discharge referral", PER_1000,
        "30-day emergency readmissions (as in readmission_30d_share) whose index discharge "
        "followed a lost onward referral, per 1,000 registered people per year of the "
        "readmission cohort (warm-up to 30 days before the horizon).",
        "AfterDischarge.after_lost", "lower", short="Readmissions after lost referral",
        group=URGENT),
    Kpi("ed_waiting_for_bed_mean", "People in A&E waiting for a bed (average)", "people",
        f"Time-weighted mean number of admitted patients boarding in A&E, {AFTER}.",
        "Level integrals of hospital.boarding", "lower", short="Waiting for a bed",
        group=URGENT),
    # ------------------------------------------------------------------ community
    Kpi("ucr_responses_per_1000", "Urgent community responses", PER_1000,
        f"Crises a UCR team reached {RATE}.", "EventTally.post: ucr_response",
        short="Urgent community responses", group=COMMUNITY),
    _share("ucr_within_2h_share", "Urgent community responses within 2 hours",
           f"UCR responses arriving within 2 hours / UCR responses, requested {AFTER}.",
           "DelayTally community.ucr.response_times (within / count)", better="higher",
           short="Community response in 2h", group=COMMUNITY),
    Kpi("ucr_escalated_per_1000", "Crises no community team could reach in time", PER_1000,
        f"UCR referrals escalated to A&E because no team could arrive within the maximum "
        f"wait, {RATE}.", "EventTally.post: ucr_escalated", "lower", group=COMMUNITY),
    Kpi("crises_per_1000", "Crises in the community", PER_1000,
        f"Crises and terminal deteriorations kept after thinning (proactive care, end-of-life "
        f"care and continuity lower them) {RATE}.", "EventTally.post: crisis", "lower",
        short="Crises", group=COMMUNITY),
    Kpi("proactive_caseload_mean", "People on a proactive-care caseload", "people",
        f"Time-weighted mean number enrolled in proactive care, {AFTER}.",
        "Level integral of community.proactive.level", short="Proactive caseload",
        group=COMMUNITY),
    Kpi("snp_referral_days_mean", "Days for a GP referral to reach the neighbourhood team",
        "days",
        f"Mean handoff delay of GP referrals to proactive care made {AFTER} (the wait for a "
        f"place after that is not included).", "DelayTally community.proactive.referral_delays",
        "lower", short="GP referral handoff", group=COMMUNITY),
    _share("snp_referrals_lost_share", "GP referrals to the neighbourhood team lost",
           f"Referrals to proactive care lost at the handoff / referrals made, {AFTER}.",
           "EventTally.post: referral_lost / referral, setting proactive_care", better="lower",
           short="Referrals lost", group=COMMUNITY),
    Kpi("virtual_ward_patients_mean", "People on a virtual ward (average)", "people",
        f"Time-weighted mean number on a virtual ward, {AFTER}.",
        "Level integrals of mnp.virtual_ward.pools", short="Virtual ward patients",
        group=COMMUNITY),
    _share("virtual_ward_occupancy_mean", "Virtual-ward beds in use",
           f"Average virtual-ward patients / virtual-ward beds bought, {AFTER}.",
           "Level integrals of mnp.virtual_ward.pools / capacity",
           short="Virtual-ward occupancy", group=COMMUNITY),
    Kpi("step_down_patients_mean", "People in community step-down care (average)", "people",
        f"Time-weighted mean number in step-down places, {AFTER}.",
        "Level integrals of community.step_down.pools", group=COMMUNITY),
    Kpi("eol_caseload_mean", "People on the end-of-life caseload (average)", "people",
        f"Time-weighted mean number on the end-of-life caseload, {AFTER}.",
        "Level integrals of mnp.eol", group=COMMUNITY),
    Kpi("eol_waiting_mean", "People waiting for an end-of-life place (average)", "people",
        f"Time-weighted mean number referred for end-of-life care and waiting for a place on "
        f"the caseload (reviewed like the caseload), {AFTER}.",
        "Level integral of mnp.eol_waiting_level", group=COMMUNITY),
    # ------------------------------------------------------------------ end of life
    Kpi("deaths_per_1000", "Deaths", PER_1000, f"Deaths {RATE}.", "EventTally.post: death",
        group=EOL),
    _share("death_place_hospital_share", "Deaths in hospital",
           f"Deaths in hospital (in a bed or waiting in A&E) / deaths, {AFTER}.",
           "EventTally.post: death by place", better="lower", short="Died in hospital",
           group=EOL),
    _share("death_place_home_share", "Deaths at home", f"Deaths at home / deaths, {AFTER}.",
           "EventTally.post: death by place", better="higher", short="Died at home",
           headline=6, by_area=True, group=EOL),
    _share("death_place_care_home_share", "Deaths in a care home",
           f"Deaths in a care home / deaths, {AFTER}.", "EventTally.post: death by place",
           short="Died in care home", group=EOL),
    _share("death_place_hospice_share", "Deaths in a hospice",
           f"Deaths in a hospice / deaths, {AFTER}.", "EventTally.post: death by place",
           short="Died in hospice", group=EOL),
    _share("death_place_other_share", "Deaths elsewhere",
           f"Deaths in any other place / deaths, {AFTER}.", "EventTally.post: death by place",
           short="Died elsewhere", group=EOL),
    _share("deaths_3plus_admissions_last_90d_share",
           "Deaths after 3+ emergency admissions in the last 90 days",
           f"Deaths {AFTER} with 3 or more emergency admissions in the 90 days before / deaths.",
           "EventTally.deaths_after_repeat_admissions / deaths", better="lower",
           short="3+ admissions at EoL", group=EOL),
    Kpi("decedent_admissions_last_year_mean",
        "Emergency admissions in the last year of life (per decedent)", "admissions",
        "Emergency admissions in the 365 days before death / deaths, for deaths after warm-up "
        "and at least 365 days into the run (a whole last year simulated); NaN in shorter runs.",
        "EventTally.admissions_last_year / decedents_last_year", better="lower",
        short="Admissions, last year of life", group=EOL),
    _share("deaths_3plus_admissions_last_year_share",
           "Deaths after 3+ emergency admissions in the last year",
           "Deaths with 3 or more emergency admissions in the 365 days before / deaths, for "
           "deaths after warm-up and at least 365 days into the run.",
           "EventTally.deaths_3plus_last_year / decedents_last_year", better="lower",
           short="3+ admissions, last year", group=EOL),
    Kpi("decedent_bed_days_last_year_mean", "Hospital bed days in the last year of life "
        "(per decedent)", "days",
        "Days in a hospital bed (any admission) in the 365 days before death / deaths, for "
        "deaths after warm-up and at least 365 days into the run.",
        "StayTally.bed_days over EventTally.deaths", better="lower",
        short="Bed days, last year of life", group=EOL),
    Kpi("decedent_days_at_home_last_90d_mean", "Days out of hospital in the last 90 days of "
        "life (per decedent)", "days",
        "90 less the days in a hospital bed in the 90 days before death, averaged over deaths "
        "after warm-up and at least 90 days into the run (time in A&E counts as out of "
        "hospital; a care home counts as home).",
        "StayTally.bed_days over EventTally.deaths", better="higher",
        short="Days at home, last 90 days", group=EOL),
    _share("deaths_identified_eol_share", "Deaths identified for end-of-life care beforehand",
           f"Deaths {AFTER} of people the surprise question picked out, or who were enrolled "
           "on the end-of-life caseload, at any time before death / deaths.",
           "EventTally.deaths_identified / deaths", better="higher",
           short="Identified before death", group=EOL),
    _share("hospital_deaths_admitted_last_month_share",
           "Deaths in hospital after an emergency admission in the last month",
           f"Deaths in hospital {AFTER} with an emergency admission in the 30 days before / "
           "deaths in hospital (the rest died waiting in A&E or after a stay of over 30 days).",
           "EventTally.hospital_deaths_admitted_last_month / hospital_deaths",
           short="Hospital deaths admitted in last month", group=EOL),
    _share("other_deaths_hospital_use_last_month_share",
           "Deaths elsewhere after A&E or an emergency admission in the last month",
           f"Deaths outside hospital {AFTER} with an A&E attendance (major or UTC) or an "
           "emergency admission in the 30 days before / deaths outside hospital.",
           "EventTally.other_deaths_hospital_use_last_month / other_deaths", better="lower",
           short="Other deaths with A&E in last month", group=EOL),
    # ------------------------------------------------------------------ equity
    Kpi("emergency_admissions_per_1000__q{q}", "Emergency admissions, {q}", PER_1000,
        f"Emergency admissions of people in deprivation quintile {{q_id}} {AFTER}, per 1,000 "
        f"people registered in that quintile per year.",
        "EventTally.by_quintile('emergency_admission')", "lower",
        short="Emergency admissions, Q{q_id}", group=EQUITY),
    Kpi("emergency_admissions_ratio_q5_q1", "Emergency admissions, most vs least deprived fifth",
        "ratio", "Emergency admission rate in quintile 5 / rate in quintile 1.",
        "EventTally.by_quintile('emergency_admission')", "lower",
        short="Admissions gap (ratio)", headline=7, group=EQUITY),
    Kpi("ed_attendances_per_1000__q{q}", "Major A&E (type 1) attendances, {q}", PER_1000,
        f"Type 1 arrivals of people in deprivation quintile {{q_id}} {AFTER}, per 1,000 "
        f"people registered in that quintile per year (UTC visits not included).",
        "EventTally.by_quintile('ed_arrival')", "lower",
        short="Major A&E (type 1) attendances, Q{q_id}", group=EQUITY),
    Kpi("ed_attendances_ratio_q5_q1", "Major A&E attendances, most vs least deprived fifth",
        "ratio", "Type 1 attendance rate in quintile 5 / rate in quintile 1.",
        "EventTally.by_quintile('ed_arrival')", "lower", short="A&E gap (ratio)",
        group=EQUITY),
    _share("readmission_30d_share__q{q}", "Emergency readmissions within 30 days, {q}",
           "readmission_30d_share for people in deprivation quintile {q_id} (discharges and "
           "readmissions of people in that quintile).",
           "AfterDischarge.share(quintile)", better="lower",
           short="30-day readmissions, Q{q_id}", group=EQUITY),
    Kpi("readmission_30d_ratio_q5_q1", "30-day readmissions, most vs least deprived fifth",
        "ratio", "readmission_30d_share in quintile 5 / in quintile 1.",
        "AfterDischarge.share(4) / share(0)", "lower", short="Readmissions gap (ratio)",
        group=EQUITY),
    # ------------------------------------------------------------------ population
    _share("multimorbidity_adult_share", "Adults with 2+ long-term conditions",
           "People aged 18+ with 2 or more long-term conditions at the start / people 18+.",
           "population.ltc, population.age", group=POPULATION),
    _share("ltc4plus_share_of_multimorbid__q{q}",
           "Multimorbid people with 4+ long-term conditions, {q}",
           "People 18+ in deprivation quintile {q_id} with 4+ conditions / those with 2+.",
           "population.ltc, population.quintile",
           short="Multimorbid people with 4+ long-term conditions, Q{q_id}", group=POPULATION),
    # ------------------------------------------------------------------ cost
    Kpi("cost_per_capita", "Cost of care per person", "£ per person per year",
        f"Sum of all setting costs {AFTER}, per registered person per year.",
        "costs.settings_cost summed over areas", "lower", short="Cost per person", headline=8,
        by_area=True, group=COST),
    Kpi("cost__{activity_setting}", "Cost of {activity_setting_lower}", GBP_YEAR,
        f"Activity {AFTER} x unit cost (model.costs.unit), GBP per year.",
        "costs.settings_cost (activity x unit cost)", short="{activity_setting}", group=COST),
    Kpi("cost__{budget_setting}", "Cost of {budget_setting_lower}", GBP_YEAR,
        "The envelope's spend on the service, GBP per year: envelope x (1 - governance "
        "overhead) less GP payments, x lead_provider.budget.allocation (set by the arrangement).",
        "params.area_budget[k].spend", short="{budget_setting}",
        echo="lead_provider.budget.allocation.{budget_setting_id}", group=COST),
    Kpi("cost__governance", "Cost of governance and coordination", GBP_YEAR,
        "Envelope x lead_provider.governance_overhead_share, GBP per year.",
        "params.area_budget[k].spend['governance']", short=SETTINGS["governance"],
        echo="lead_provider.governance_overhead_share", group=COST),
    Kpi("cost__gp_neighbourhood_payments", "Cost of neighbourhood payments to practices",
        GBP_YEAR, "What the envelope sets aside for neighbourhood payments and drawn GP "
        "sessions: the arrangement's rates x the chance a practice engages x population, GBP "
        "per year (params.reserved_for_practices; what practices are paid is "
        "practice_neighbourhood_payments_per_head_gbp).",
        "params.area_budget[k].spend['gp_neighbourhood_payments']",
        short=SETTINGS["gp_neighbourhood_payments"],
        echo="lead_provider.practices.payment_per_weighted_patient_gbp", group=COST),
    Kpi("cost__{organisation}", "Money held by {organisation_lower}", GBP_YEAR,
        "Setting costs summed by the organisation that runs each setting in the area's "
        "arrangement (governance to the proactive-care lead, GP payments to general "
        "practice), GBP per year.", "costs.organisation_cost", short="{organisation}",
        group=COST),
)  # fmt: skip

KPIS = KpiSet(ENTRIES, PARTS)
