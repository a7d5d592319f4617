"""Referrals between services cross an organisational boundary, which costs delay and loss.

The boundary, and so the delay and loss, depend on the arrangement of the patient's area: its
organisation map, its alliances (partners sharing records) and its handoff table.
"""

from __future__ import annotations

from sim.models.care import schema as s
from sim.models.care.params import CareParams


def boundary(lead: s.LeadProviderSchema, from_service: str, to_service: str) -> str:
    """``same_organisation``, ``alliance`` (partners with shared records) or ``separate``."""
    orgs = lead.organisations
    a, b = orgs[from_service], orgs[to_service]
    if a == b:
        return "same_organisation"
    for members in lead.alliances.values():
        if a in members and b in members:
            return "alliance"
    return "separate"


class Handoffs:
    """Delay (exponential, mean by boundary) and loss probability for every service pair.

    Parameters
    ----------
    params
        Validated parameters; reads each area's organisation map, alliances and handoffs.
    """

    def __init__(self, params: CareParams) -> None:
        self._table: dict[tuple[int, str, str], tuple[float, float]] = {}
        self._leads = params.area_leads

    def terms(self, from_service: str, to_service: str, area: int = 0) -> tuple[float, float]:
        """(mean delay in days, loss probability) for a referral between two services."""
        key = (area, from_service, to_service)
        hit = self._table.get(key)
        if hit is None:
            lead = self._leads[area]
            h = lead.handoffs[boundary(lead, from_service, to_service)]
            hit = (h.delay_days_mean, h.loss)
            self._table[key] = hit
        return hit

    def draw(
        self, from_service: str, to_service: str, e: float, u: float, area: int = 0
    ) -> tuple[float, bool]:
        """Delay and whether the referral is lost, from a standard exponential ``e`` and a
        uniform ``u`` drawn by the caller from a stream keyed to the referral's purpose."""
        mean, loss = self.terms(from_service, to_service, area)
        return mean * e, u < loss
