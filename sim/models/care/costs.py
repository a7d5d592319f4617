"""Costs by setting and by organisation, from unit costs and the budget envelope.

Activity-based settings (general practice, NHS 111, UTC, ED, ambulance, hospital beds,
outpatients, new care-home placements) cost activity x unit cost. SNP and MNP services are
bought from the per-head envelope, so they cost their share of it for the time measured, and
the governance overhead is charged to the organisation that runs proactive care (the
neighbourhood lead), an assumption stated in docs/model.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.models.care.model import World


def settings_cost(world: World, activity: dict[str, float], years: float) -> dict[str, float]:
    """Cost in GBP of each setting over the measured period.

    Parameters
    ----------
    world
        The finished replication.
    activity
        Post-warm-up counts: ``gp``, ``nurse``, ``additional_roles`` appointments,
        ``nhs111``, ``utc``, ``ed``, ``ambulance``, ``bed_days``, ``outpatients``,
        ``care_home_days``.
    years
        Length of the measured period in years.
    """
    unit = world.params.model.costs.unit
    spend = world.params.budget_spend_gbp_per_year
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
        "care_home": activity["care_home_days"] * unit["care_home_day"],
    }
    for svc in ("proactive_care", "ucr", "step_down", "virtual_ward", "eol", "analytics"):
        cost[svc] = spend.get(svc, 0.0) * years
    cost["governance"] = spend.get("governance", 0.0) * years
    return cost


def organisation_cost(world: World, by_setting: dict[str, float]) -> dict[str, float]:
    """Sum setting costs by the organisation that runs each setting."""
    orgs = world.params.lead.organisations
    out: dict[str, float] = {}
    for setting, value in by_setting.items():
        org = orgs["proactive_care"] if setting == "governance" else orgs[setting]
        out[org] = out.get(org, 0.0) + value
    return out
