"""Costs by setting and by organisation, from unit costs and the budget envelope.

Activity-based settings (general practice, NHS 111, UTC, ED, ambulance, hospital beds,
outpatients, publicly funded care-home resident days) cost activity x unit cost. SNP and MNP
services are bought from the per-head envelope, so they cost their share of it for the time
measured; the governance overhead is charged to the organisation that runs proactive care
(the neighbourhood lead), an assumption stated in docs/model.md, and neighbourhood payments
to general practice to the organisation running general practice. Costs are worked out per area,
because each area's arrangement decides its envelope's spend and its organisation map.
"""

from __future__ import annotations

BUDGET_ITEMS = (
    "proactive_care",
    "ucr",
    "step_down",
    "virtual_ward",
    "eol",
    "analytics",
    "governance",
    "gp_neighbourhood_payments",
)


def settings_cost(
    unit: dict[str, float],
    budget_spend: dict[str, float],
    activity: dict[str, float],
    years: float,
    care_home_self_funded_share: float = 0.0,
) -> dict[str, float]:
    """Cost in GBP of each setting over the measured period, for one area.

    Parameters
    ----------
    unit
        Unit costs (``model.costs.unit``).
    budget_spend
        The area's envelope spend per year (:attr:`AreaBudget.spend`).
    activity
        Post-warm-up counts: ``gp``, ``nurse``, ``additional_roles`` appointments,
        ``nhs111``, ``utc``, ``ed``, ``ambulance``, ``bed_days``, ``outpatients``,
        ``care_home_days`` (every resident's days in the measured period).
    years
        Length of the measured period in years.
    care_home_self_funded_share
        Share of care-home resident days paid privately, which the public cost leaves out.
    """
    cost = {
        "general_practice": activity["gp"] * unit["gp_appointment"]
        + activity["nurse"] * unit["nurse_appointment"]
        + activity["additional_roles"] * unit["additional_roles_appointment"],
        "nhs111": activity["nhs111"] * unit["nhs111_contact"],
        "utc": activity["utc"] * unit["utc_attendance"],
        "ed": activity["ed"] * unit["ed_attendance"],
        "ambulance": activity["ambulance"] * unit["ambulance_conveyance"],
        "hospital": activity["bed_days"] * unit["bed_day"],
        "outpatients": activity["outpatients"] * unit["outpatient_attendance"],
        "care_home": activity["care_home_days"]
        * (1.0 - care_home_self_funded_share)
        * unit["care_home_day"],
    }
    for item in BUDGET_ITEMS:
        cost[item] = budget_spend.get(item, 0.0) * years
    return cost


def organisation_cost(
    organisations: dict[str, str], by_setting: dict[str, float]
) -> dict[str, float]:
    """Sum one area's setting costs by the organisation that runs each setting."""
    payer = {
        "governance": organisations["proactive_care"],
        "gp_neighbourhood_payments": organisations["general_practice"],
    }
    out: dict[str, float] = {}
    for setting, value in by_setting.items():
        org = payer.get(setting) or organisations[setting]
        out[org] = out.get(org, 0.0) + value
    return out
