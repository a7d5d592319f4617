"""One registry of what every metric means: a plain-English label, a unit, and which way is better.

Plots, the HTML report and the terminal all read labels from here, so a metric is described in
one place only. Metric names follow the model's conventions (``docs/model.md``): the unit is in
the key (``_per_1000``, ``_days``, ``_share``), quintile variants end ``__q1`` … ``__q5``, costs
are ``cost__<setting>`` or ``cost__<organisation>``, and verification metrics end ``__<node>``.

Shares are stored as fractions (0–1) but shown as percentages, so each entry carries a display
``scale``; differences of shares are shown in percentage points.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

Better = Literal["higher", "lower", "neutral"]

PER_1000 = "per 1,000 people per year"
GBP_YEAR = "£ per year"


@dataclass(frozen=True)
class MetricInfo:
    """How to show one metric.

    Attributes
    ----------
    label
        Plain-English name, sentence case, no variable names.
    unit
        Unit of the displayed value (after ``scale``), e.g. ``"days"`` or ``"%"``.
    better
        ``"higher"``, ``"lower"`` or ``"neutral"`` (no direction is better, or it depends).
    scale
        Factor from the stored value to the displayed value (100 for shares shown as %).
    short
        A short label for tight panels; defaults to ``label``.
    """

    label: str
    unit: str
    better: Better = "neutral"
    scale: float = 1.0
    short: str = ""

    @property
    def short_label(self) -> str:
        """The short label, or the full label when none was given."""
        return self.short or self.label

    @property
    def bounds(self) -> tuple[float, float]:
        """Values the measure can take, in display units (a CI is clipped to them when shown).

        Percentages lie in 0–100 and indices in 0–1; every other registered unit (counts,
        rates, days, money, ratios) is non-negative; ``"value"`` (unknown) is unbounded.
        """
        if self.unit == "%":
            return (0.0, 100.0)
        if self.unit.startswith("index 0"):
            return (0.0, 1.0)
        if self.unit == "value":
            return (-math.inf, math.inf)
        return (0.0, math.inf)

    @property
    def diff_unit(self) -> str:
        """Unit of a difference: percentage points for percentages, else the unit itself."""
        return "percentage points" if self.unit == "%" else self.unit


def _share(label: str, better: Better = "neutral", short: str = "") -> MetricInfo:
    return MetricInfo(label, "%", better, 100.0, short)


# --------------------------------------------------------------------------- named metrics
REGISTRY: dict[str, MetricInfo] = {
    # General practice
    "gp_appointments_per_1000": MetricInfo(
        "GP practice appointments", PER_1000, "neutral", short="GP appointments"
    ),
    "gp_routine_wait_mean_days": MetricInfo(
        "Average wait for a routine GP appointment", "days", "lower", short="Routine wait (mean)"
    ),
    "gp_routine_wait_p90_days": MetricInfo(
        "Routine GP wait that 9 in 10 people beat", "days", "lower", short="Routine wait (90th %)"
    ),
    "gp_same_day_share": _share("Appointments seen the same day", "higher", "Seen same day"),
    "gp_within_14_days_share": _share(
        "Appointments seen within 2 weeks", "higher", "Seen within 2 weeks"
    ),
    "gp_gp_delivered_share": _share("Appointments given by a GP", "neutral", "Given by a GP"),
    "gp_continuity_upc": MetricInfo(
        "Continuity with the usual GP", "index 0–1", "higher", short="GP continuity"
    ),
    "gp_same_day_unmet_per_1000": MetricInfo(
        "Same-day needs practices could not meet", PER_1000, "lower", short="Unmet same-day need"
    ),
    "nhs111_contacts_per_1000": MetricInfo("NHS 111 contacts", PER_1000, "neutral"),
    "outpatient_referrals_per_1000": MetricInfo("Outpatient referrals", PER_1000, "neutral"),
    "gp_contract_income_per_head_gbp": MetricInfo(
        "Neighbourhood contract income to practices", "£ per registered person per year", "neutral"
    ),
    # Urgent and hospital care
    "ed_attendances_per_1000": MetricInfo(
        "A&E attendances (all types)", PER_1000, "lower", short="A&E attendances"
    ),
    "ed_type1_attendances_per_1000": MetricInfo(
        "Major A&E (type 1) attendances", PER_1000, "lower", short="Type 1 A&E attendances"
    ),
    "ed_within_4h_share": _share("A&E patients seen within 4 hours", "higher", "A&E within 4h"),
    "ed_type1_within_4h_share": _share(
        "Major A&E patients seen within 4 hours", "higher", "Type 1 A&E within 4h"
    ),
    "ed_type1_admitted_share": _share("Major A&E attendances admitted", "neutral"),
    "ed_time_in_department_mean_hours": MetricInfo(
        "Average time in major A&E", "hours", "lower", short="Time in A&E"
    ),
    "ambulance_conveyances_per_1000": MetricInfo(
        "Ambulance conveyances to A&E", PER_1000, "lower", short="Ambulance conveyances"
    ),
    "emergency_admissions_per_1000": MetricInfo(
        "Emergency admissions", PER_1000, "lower", short="Emergency admissions"
    ),
    "los_mean_days": MetricInfo(
        "Average length of hospital stay", "days", "lower", short="Length of stay"
    ),
    "los_75plus_mean_days": MetricInfo(
        "Average length of stay, people 75 and over", "days", "lower", short="Stay, 75+"
    ),
    "beds_available": MetricInfo("General and acute beds", "beds", "neutral"),
    "bed_occupancy_mean": _share("Hospital beds occupied (average)", "lower", "Bed occupancy"),
    "bed_occupancy_p95": _share(
        "Hospital beds occupied (busiest 1 day in 20)", "lower", "Bed occupancy, busy days"
    ),
    "delayed_discharge_beds_mean": MetricInfo(
        "Beds held by people ready to leave (average)", "beds", "lower", short="Delayed beds"
    ),
    "delayed_discharge_beds_per_1000": MetricInfo(
        "Beds held by people ready to leave", "beds per 1,000 people", "lower", short="Delayed beds"
    ),
    "delayed_discharge_bed_days_per_1000": MetricInfo(
        "Bed days lost to delayed discharge",
        "bed days per 1,000 people per year",
        "lower",
        short="Delayed-discharge bed days",
    ),
    "delayed_discharge_share_of_occupied": _share(
        "Occupied beds held by people ready to leave", "lower", "Delayed share of beds"
    ),
    "ed_waiting_for_bed_mean": MetricInfo(
        "People in A&E waiting for a bed (average)", "people", "lower", short="Waiting for a bed"
    ),
    # Community services
    "ucr_responses_per_1000": MetricInfo(
        "Urgent community responses", PER_1000, "neutral", short="Urgent community responses"
    ),
    "ucr_within_2h_share": _share(
        "Urgent community responses within 2 hours", "higher", "Community response in 2h"
    ),
    "ucr_escalated_per_1000": MetricInfo(
        "Crises no community team could reach in time", PER_1000, "lower"
    ),
    "crises_per_1000": MetricInfo("Crises in the community", PER_1000, "lower", short="Crises"),
    "proactive_caseload_mean": MetricInfo(
        "People on a proactive-care caseload", "people", "neutral", short="Proactive caseload"
    ),
    "virtual_ward_patients_mean": MetricInfo(
        "People on a virtual ward (average)", "people", "neutral", short="Virtual ward patients"
    ),
    "virtual_ward_occupancy_mean": _share(
        "Virtual-ward beds in use", "neutral", "Virtual-ward occupancy"
    ),
    "step_down_patients_mean": MetricInfo(
        "People in community step-down care (average)", "people", "neutral"
    ),
    "eol_caseload_mean": MetricInfo(
        "People on the end-of-life caseload (average)", "people", "neutral"
    ),
    # End of life
    "deaths_per_1000": MetricInfo("Deaths", PER_1000, "neutral"),
    "death_place_hospital_share": _share("Deaths in hospital", "lower", "Died in hospital"),
    "death_place_home_share": _share("Deaths at home", "higher", "Died at home"),
    "death_place_care_home_share": _share("Deaths in a care home", "neutral", "Died in care home"),
    "death_place_hospice_share": _share("Deaths in a hospice", "neutral", "Died in hospice"),
    "death_place_other_share": _share("Deaths elsewhere", "neutral", "Died elsewhere"),
    "deaths_3plus_admissions_last_90d_share": _share(
        "Deaths after 3+ emergency admissions in the last 90 days", "lower", "3+ admissions at EoL"
    ),
    # Equity
    "emergency_admissions_ratio_q5_q1": MetricInfo(
        "Emergency admissions, most vs least deprived fifth",
        "ratio",
        "lower",
        short="Admissions gap (ratio)",
    ),
    "ed_attendances_ratio_q5_q1": MetricInfo(
        "Major A&E attendances, most vs least deprived fifth",
        "ratio",
        "lower",
        short="A&E gap (ratio)",
    ),
    "multimorbidity_adult_share": _share("Adults with 2+ long-term conditions", "neutral"),
    "ltc4plus_share_of_multimorbid": _share(
        "Multimorbid people with 4+ long-term conditions", "neutral"
    ),
    # Cost
    "cost_per_capita": MetricInfo(
        "Cost of care per person", "£ per person per year", "lower", short="Cost per person"
    ),
}

# Per-quintile variants are stored under their own name in the model (``ed_attendances`` counts
# type 1 only there), so their base label is given here rather than borrowed.
QUINTILE_BASES: dict[str, MetricInfo] = {
    "emergency_admissions_per_1000": REGISTRY["emergency_admissions_per_1000"],
    "ed_attendances_per_1000": MetricInfo("Major A&E (type 1) attendances", PER_1000, "lower"),
}

QUINTILE_NAMES = {
    1: "least deprived fifth",
    2: "second-least deprived fifth",
    3: "middle fifth",
    4: "second-most deprived fifth",
    5: "most deprived fifth",
}

# Settings that costs are reported by (sim/models/care/schema.py::SERVICES plus governance),
# kept here as data so that this module never imports the model.
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

SCENARIOS: dict[str, str] = {
    "status_quo": "Status quo",
    "trust_led": "Trust-led",
    "federation_led": "Federation-led",
    "alliance": "Alliance",
}

# Lead-provider mechanism keys (conf/lead_provider/*.yaml), as swept in sensitivity analyses.
ASSUMPTIONS: dict[str, str] = {
    "continuity": "Continuity with the usual GP",
    "gp_engagement_share": "Practices actively case-finding",
    "governance_overhead_share": "Governance overhead (share of budget)",
    "priority_rule": "Who gets shared community capacity first",
    "gp_income_per_head_gbp": "Neighbourhood payment to practices (£ per head)",
    "budget.envelope_per_head_gbp": "Neighbourhood budget (£ per head)",
    "handoffs.same_organisation.delay_days_mean": "Referral delay within one organisation (days)",
    "handoffs.same_organisation.loss": "Referrals lost within one organisation",
    "handoffs.alliance.delay_days_mean": "Referral delay between alliance partners (days)",
    "handoffs.alliance.loss": "Referrals lost between alliance partners",
    "handoffs.separate.delay_days_mean": "Referral delay between separate organisations (days)",
    "handoffs.separate.loss": "Referrals lost between separate organisations",
}


def assumption_label(key: str) -> str:
    """Plain-English name of a swept config key, e.g. ``lead_provider.continuity``."""
    short = re.sub(r"^(lead_provider|model|place|run)\.", "", str(key))
    if short in ASSUMPTIONS:
        return ASSUMPTIONS[short]
    if short.startswith("organisations."):
        return f"Who runs {setting_label(short.rsplit('.', 1)[-1]).lower()}"
    if short == "alliances" or short.startswith("alliances."):
        name = short.partition(".")[2]
        return "Alliance partners" + (f" ({humanise(name).lower()})" if name else "")
    if short.startswith("budget.allocation."):
        return f"Budget share for {setting_label(short.rsplit('.', 1)[-1]).lower()}"
    return humanise(short.replace(".", " "))


# Verification (queueing-network) metrics: ``<kind>__<node>``; times are in model time units.
NODE_METRICS: dict[str, MetricInfo] = {
    "wait_mean": MetricInfo("Average wait in the queue", "time units", "lower"),
    "sojourn_mean": MetricInfo("Average time in the system", "time units", "lower"),
    "utilisation": _share("Server utilisation", "neutral"),
    "number_in_system_mean": MetricInfo("Average number in the system", "people", "lower"),
    "blocking_probability": _share("Arrivals turned away", "lower"),
    "throughput": MetricInfo("Throughput", "per time unit", "neutral"),
}

# Units implied by a name's suffix, for metrics nobody has registered yet.
_SUFFIX_UNITS: tuple[tuple[str, MetricInfo], ...] = (
    ("_per_1000", MetricInfo("", PER_1000)),
    ("_share", MetricInfo("", "%", scale=100.0)),
    ("_days", MetricInfo("", "days")),
    ("_hours", MetricInfo("", "hours")),
    ("_gbp", MetricInfo("", "£")),
    ("_mean", MetricInfo("", "people")),
)

_ACRONYMS = {"gp": "GP", "ed": "A&E", "ucr": "UCR", "eol": "end-of-life", "nhs111": "NHS 111"}


def humanise(name: str) -> str:
    """Turn a snake_case name into words, sentence case, with NHS acronyms kept.

    Parameters
    ----------
    name
        A name such as ``"federation_led"`` or ``"gp_practices"``.

    Returns
    -------
    str
        E.g. ``"Federation led"``, ``"GP practices"``.
    """
    words = [_ACRONYMS.get(w, w) for w in re.split(r"[_\s]+", name.strip()) if w]
    if not words:
        return name
    first = words[0]
    words[0] = first if first.isupper() or first[:1].isupper() else first[:1].upper() + first[1:]
    return " ".join(words)


def scenario_label(name: str) -> str:
    """Plain-English name of a scenario (lead-provider arrangement or sweep job)."""
    return SCENARIOS.get(name, humanise(name))


def baseline_phrase(name: str | None) -> str:
    """The baseline as it reads after "Difference from": ``trust_led`` -> ``trust-led``.

    Lower case unless the label is an acronym or a number; ``"the baseline"`` when unknown.
    """
    if not name:
        return "the baseline"
    text = scenario_label(str(name))
    first = text.split(" ", 1)[0]
    return text if first.isupper() or not first[:1].isalpha() else text[:1].lower() + text[1:]


def setting_label(name: str) -> str:
    """Plain-English name of a care setting (as used in ``cost__<setting>``)."""
    return SETTINGS.get(name, humanise(name))


def organisation_label(name: str) -> str:
    """Plain-English name of an organisation (as used in ``cost__<organisation>``)."""
    return ORGANISATIONS.get(name, humanise(name))


def is_setting_cost(metric: str) -> bool:
    """True for ``cost__<setting>``; False for organisation costs and everything else."""
    return metric.startswith("cost__") and metric[6:] in SETTINGS


def is_organisation_cost(metric: str) -> bool:
    """True for ``cost__<organisation>`` (any ``cost__`` key that is not a setting)."""
    return metric.startswith("cost__") and metric[6:] not in SETTINGS


def _fallback(metric: str) -> MetricInfo:
    for suffix, info in _SUFFIX_UNITS:
        if metric.endswith(suffix):
            return replace(info, label=humanise(metric[: -len(suffix)] or metric))
    return MetricInfo(humanise(metric), "value")


def metric_info(metric: str) -> MetricInfo:
    """Everything needed to show a metric: label, unit, better direction and display scale.

    Parameters
    ----------
    metric
        A metric name from ``summary.csv``, e.g. ``"gp_same_day_share"``,
        ``"emergency_admissions_per_1000__q5"``, ``"cost__acute_trust"``, ``"wait_mean__a"``
        or ``"bed_occupancy_mean__area_bexley"``.

    Returns
    -------
    MetricInfo
        The registered entry, one derived from a known pattern, or a fallback built from the
        name's unit suffix (never raises).
    """
    if metric in REGISTRY:
        return REGISTRY[metric]
    base, sep, tail = metric.rpartition("__")
    if sep and tail.startswith("area_"):
        # Per-area (borough) variants: ``<metric>__area_<slug>``.
        info = metric_info(base)
        area = humanise(tail[5:]).title() if tail[5:] else "area"
        return replace(info, label=f"{info.label}, {area}", short=f"{info.short_label}, {area}")
    if sep and re.fullmatch(r"q[1-5]", tail):
        q = int(tail[1])
        info = QUINTILE_BASES.get(base) or REGISTRY.get(base) or _fallback(base)
        return replace(
            info,
            label=f"{info.label}, {QUINTILE_NAMES[q]}",
            short=f"{info.short_label}, Q{q}",
        )
    if base == "cost":
        if tail in SETTINGS:
            return MetricInfo(f"Cost of {setting_label(tail).lower()}", GBP_YEAR, "neutral",
                              short=setting_label(tail))  # fmt: skip
        org = organisation_label(tail)
        return MetricInfo(f"Money held by {org.lower()}", GBP_YEAR, "neutral", short=org)
    if sep and base in NODE_METRICS:
        info = NODE_METRICS[base]
        return replace(info, label=f"{info.label} at node {tail}", short=f"{info.label} ({tail})")
    return _fallback(metric)


def label(metric: str) -> str:
    """Plain-English label of a metric."""
    return metric_info(metric).label


def unit(metric: str) -> str:
    """Displayed unit of a metric."""
    return metric_info(metric).unit


def better(metric: str) -> Better:
    """Which direction is better: ``"higher"``, ``"lower"`` or ``"neutral"``."""
    return metric_info(metric).better


def axis_label(metric: str, difference: bool = False) -> str:
    """Axis text: label or "Difference" with its unit in brackets.

    Parameters
    ----------
    metric
        Metric name.
    difference
        Label the axis of a difference from a baseline (shares become percentage points).
    """
    info = metric_info(metric)
    if difference:
        return f"Difference ({info.diff_unit})"
    return f"{info.short_label} ({info.unit})"


def display(metric: str, value: float) -> float:
    """A stored value in display units (e.g. a share 0.45 becomes 45.0)."""
    return value * metric_info(metric).scale


def format_value(metric: str, value: float, with_unit: bool = True, signed: bool = False) -> str:
    """Format a stored value for a table or the terminal, in display units.

    Parameters
    ----------
    metric
        Metric name (sets the scale and unit).
    value
        Stored value; NaN gives an en dash.
    with_unit
        Append the unit (``%``, ``pp`` for signed percentages, otherwise the unit word).
    signed
        Show a sign (for differences).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    info = metric_info(metric)
    x = value * info.scale
    sign = "+" if signed else ""
    mag = abs(x)
    if info.unit.startswith("£") and mag >= 1000:
        text = f"{x:{sign},.0f}"
    elif mag >= 100:
        text = f"{x:{sign},.0f}"
    elif mag >= 10:
        text = f"{x:{sign}.1f}"
    else:
        text = f"{x:{sign}.2f}"
    if not with_unit:
        return text
    if info.unit == "%":
        return text + (" pp" if signed else "%")
    if info.unit == "ratio":
        return text + "×"
    if info.unit.startswith("£"):
        # "£" goes before the number and the rest of the unit after it: "+£12 per person".
        lead = text[0] if text[0] in "+-" else ""
        rest = info.unit[1:].strip()
        return f"{lead}£{text.lstrip('+-')}" + (f" {rest}" if rest else "")
    return f"{text} {info.unit}"


def rounds_to_zero(text: str) -> bool:
    """True when a formatted number shows as zero (``+0.00``, ``-0.0``, ``0``)."""
    digits = re.sub(r"[^0-9.]", "", text)
    try:
        return float(digits) == 0.0
    except ValueError:
        return False


def is_clear(low: float, high: float, shown: str) -> bool:
    """A clear difference: its 95% CI excludes zero and it does not show as zero.

    A difference of +0.001 days whose interval excludes zero is real arithmetic but nothing a
    room should see in bold: the table, the console and the forest plot all use this rule.
    """
    excludes = bool(np.isfinite(low) and np.isfinite(high) and (low > 0 or high < 0))
    return excludes and not rounds_to_zero(shown)


def is_clear_difference(metric: str, mean: float, low: float, high: float) -> bool:
    """:func:`is_clear` for stored values of ``metric``, at its display precision."""
    return is_clear(low, high, format_value(metric, mean, with_unit=False, signed=True))
