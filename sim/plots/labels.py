"""How a metric is shown: a plain-English label, a unit, and which way is better.

Plots, the HTML report and the terminal all read labels through here; the labels themselves
live in each model's KPI registry (``ModelSpec.kpis``, :mod:`sim.models.kpi`), so a metric is
described in one place only and this module names no KPI. A metric no registry covers gets a
label and unit from its name (the unit is in the key: ``_per_1000``, ``_days``, ``_share``).

Shares are stored as fractions (0–1) but shown as percentages, so each entry carries a display
``scale``; differences of shares are shown in percentage points. A KPI that repeats a config
value (an input echo) is labelled as an input, never as an outcome.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from sim.models import MODELS
from sim.models.kpi import AREA_SEPARATOR, Kpi, Part, humanise

Better = Literal["higher", "lower", "neutral"]

PER_1000 = "per 1,000 people per year"
GBP_YEAR = "£ per year"
# What an input echo's label says, in full and in a tight panel.
ECHO_NOTE = "input, not an outcome"
ECHO_SHORT = "input"

__all__ = ["humanise"]  # re-exported: callers humanise names through this module


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
    echo
        The config key the value repeats, for an input echo (see :class:`sim.models.kpi.Kpi`).
    definition
        One line on what is counted, from the KPI registry (empty for an unknown metric).
    """

    label: str
    unit: str
    better: Better = "neutral"
    scale: float = 1.0
    short: str = ""
    echo: str | None = None
    definition: str = ""

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


SCENARIOS: dict[str, str] = {
    "status_quo": "Status quo",
    "trust_led": "Trust-led",
    "federation_led": "Federation-led",
    "alliance": "Alliance",
}

# Lead-provider mechanism keys (conf/lead_provider/*.yaml), as swept in sensitivity analyses.
ASSUMPTIONS: dict[str, str] = {
    "practices.enhanced_services_moved_out_share": "Practice income moved to the holder",
    "practices.gp_sessions_drawn_per_10000": "GP sessions drawn into neighbourhood work",
    "practices.autonomy": "Practices' control over neighbourhood work",
    "governance_overhead_share": "Governance overhead (share of budget)",
    "priority_rule": "Who gets shared community capacity first",
    "practices.payment_per_weighted_patient_gbp": "Neighbourhood payment to practices (£)",
    "budget.envelope_per_head_gbp": "Neighbourhood budget (£ per head)",
    "handoffs.same_organisation.delay_days_mean": "Referral delay within one organisation (days)",
    "handoffs.same_organisation.loss": "Referrals lost within one organisation",
    "handoffs.alliance.delay_days_mean": "Referral delay between alliance partners (days)",
    "handoffs.alliance.loss": "Referrals lost between alliance partners",
    "handoffs.separate.delay_days_mean": "Referral delay between separate organisations (days)",
    "handoffs.separate.loss": "Referrals lost between separate organisations",
}


def assumption_label(key: str) -> str:
    """Plain-English name of a swept config key, e.g. ``lead_provider.practices.autonomy``."""
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


# Units implied by a name's suffix, for metrics nobody has registered yet.
_SUFFIX_UNITS: tuple[tuple[str, MetricInfo], ...] = (
    ("_per_1000", MetricInfo("", PER_1000)),
    ("_share", MetricInfo("", "%", scale=100.0)),
    ("_days", MetricInfo("", "days")),
    ("_hours", MetricInfo("", "hours")),
    ("_gbp", MetricInfo("", "£")),
    ("_mean", MetricInfo("", "people")),
)


# A sweep job named by one config-group choice (``borough_arrangements=sel_mix``,
# ``+sensitivity=base``) reads as the choice; a dotted key (``run.replications=3``) or several
# choices keep their whole name, which the choice alone would not identify.
_GROUP_CHOICE = re.compile(r"\+?[a-z][a-z0-9_]*=([A-Za-z0-9_]+)")


def scenario_label(name: str) -> str:
    """Plain-English name of a scenario (lead-provider arrangement or sweep job)."""
    if name in SCENARIOS:
        return SCENARIOS[name]
    choice = _GROUP_CHOICE.fullmatch(name)
    if choice:
        return SCENARIOS.get(choice.group(1), humanise(choice.group(1)))
    return humanise(name)


def baseline_phrase(name: str | None) -> str:
    """The baseline as it reads after "Difference from": ``trust_led`` -> ``trust-led``.

    Lower case unless the label is an acronym or a number; ``"the baseline"`` when unknown.
    """
    if not name:
        return "the baseline"
    text = scenario_label(str(name))
    first = text.split(" ", 1)[0]
    return text if first.isupper() or not first[:1].isalpha() else text[:1].lower() + text[1:]


def _parts(name: str) -> list[Part]:
    """The registries' name parts called ``name`` (``"setting"``, ``"organisation"``)."""
    return [spec.kpis.parts[name] for spec in MODELS.values() if name in spec.kpis.parts]


def _is_part(part: str, text: str) -> bool:
    return any(re.fullmatch(p.pattern, text) for p in _parts(part))


def setting_label(name: str) -> str:
    """Plain-English name of a care setting (as used in ``cost__<setting>``)."""
    found = [p for p in _parts("setting") if re.fullmatch(p.pattern, name)]
    return found[0].words(name) if found else humanise(name)


def organisation_label(name: str) -> str:
    """Plain-English name of an organisation (as used in ``cost__<organisation>``)."""
    found = _parts("organisation")
    return found[0].words(name) if found else humanise(name)


def is_setting_cost(metric: str) -> bool:
    """True for ``cost__<setting>``; False for organisation costs and everything else."""
    return metric.startswith("cost__") and _is_part("setting", metric[6:])


def is_organisation_cost(metric: str) -> bool:
    """True for ``cost__<organisation>`` (any ``cost__`` key that is not a setting)."""
    return metric.startswith("cost__") and not _is_part("setting", metric[6:])


def kpi(metric: str) -> Kpi | None:
    """The registry record of ``metric`` (label, definition, source, echo), or ``None``.

    The first model whose registry covers the name answers; no two models share a name.
    """
    for spec in MODELS.values():
        found = spec.kpis.find(metric)
        if found is not None:
            return found
    return None


def is_echo(metric: str) -> bool:
    """True for a KPI that repeats a config value: an input, not an outcome."""
    found = kpi(metric)
    return found is not None and found.echo is not None


def _info(k: Kpi) -> MetricInfo:
    label_, short, better_ = k.label, k.short_label, k.better
    if k.echo:
        # An input is not judged: no "better" mark invites reading it as an outcome.
        label_, short = f"{label_} ({ECHO_NOTE})", f"{short} ({ECHO_SHORT})"
        better_ = "neutral"
    return MetricInfo(label_, k.unit, better_, k.scale, short, k.echo, k.definition)


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
        From the model's KPI registry, or a fallback built from the name's unit suffix
        (never raises). An input echo's label says it is an input.
    """
    found = kpi(metric)
    if found is not None:
        return _info(found)
    base, sep, slug = metric.rpartition(AREA_SEPARATOR)
    if sep:
        # A per-area variant of a metric no registry covers: label it from its base.
        info = metric_info(base)
        area = humanise(slug).title() if slug else "area"
        return replace(info, label=f"{info.label}, {area}", short=f"{info.short_label}, {area}")
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
    elif info.unit.startswith("index") and 0 < mag < 0.1:
        # An index of 0-1 (continuity) moves by thousandths between arrangements: a third
        # decimal keeps a change of 0.005 from reading as zero.
        text = f"{x:{sign}.3f}"
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
