"""Referrals between services cross an organisational boundary, which costs delay and loss."""

from __future__ import annotations

from sim.models.care.params import CareParams


def boundary(params: CareParams, from_service: str, to_service: str) -> str:
    """``same_organisation``, ``alliance`` (partners with shared records) or ``separate``."""
    orgs = params.lead.organisations
    a, b = orgs[from_service], orgs[to_service]
    if a == b:
        return "same_organisation"
    for members in params.lead.alliances.values():
        if a in members and b in members:
            return "alliance"
    return "separate"


class Handoffs:
    """Delay (exponential, mean by boundary) and loss probability for every service pair.

    Parameters
    ----------
    params
        Validated parameters; reads the organisation map, alliances and handoff table.
    """

    def __init__(self, params: CareParams) -> None:
        self._table: dict[tuple[str, str], tuple[float, float]] = {}
        self._params = params

    def terms(self, from_service: str, to_service: str) -> tuple[float, float]:
        """(mean delay in days, loss probability) for a referral between two services."""
        key = (from_service, to_service)
        hit = self._table.get(key)
        if hit is None:
            h = self._params.lead.handoffs[boundary(self._params, from_service, to_service)]
            hit = (h.delay_days_mean, h.loss)
            self._table[key] = hit
        return hit

    def draw(self, from_service: str, to_service: str, e: float, u: float) -> tuple[float, bool]:
        """Delay and whether the referral is lost, from a standard exponential ``e`` and a
        uniform ``u`` drawn by the caller from a stream keyed to the referral's purpose."""
        mean, loss = self.terms(from_service, to_service)
        return mean * e, u < loss
