"""Discharge to assess: the pathway chosen at medically fit, and the local authority's
pathway 1 packages (reablement or home care).

The pathways follow the national discharge-to-assess model [src:dhsc-discharge-2022]:

- ``p0`` home with no new support;
- ``p1`` home with a new package: the local authority's reablement or home care (finite
  packages per area, each held for a drawn time), or for ``p1_virtual_ward_share`` of them
  the health-funded virtual ward;
- ``p2`` bedded intermediate care: the step-down places the SNP budget buys;
- ``p3`` a care home: the local authority's brokerage arranges the placement (a finite number
  in hand at once per area, each taking a drawn time), then the patient takes a care-home
  vacancy of :mod:`.mnp`. The wait for a brokerage slot and for a vacancy count as waiting for
  pathway 3 capacity; the brokerage's own work counts with the handoff (it is the process of
  moving the patient between organisations, which unlimited capacity would not remove).

A medically fit patient on pathways 1-3 keeps the bed first while the referral crosses to the
next organisation (the handoff) and then while they wait for their pathway's capacity; each
day of the wait is counted under its reason (:class:`~sim.models.care.tallies.DelayReasons`).

The patient's discharge route (:func:`sim.models.care.pathway.discharge_route`) calls
:meth:`SocialCare.pathway` when the patient becomes medically fit, asks for a package with
:meth:`SocialCare.ask` once the referral has been handed off, and holds it with
:meth:`SocialCare.stay`; a care-home placement is arranged by
:func:`sim.models.care.pathway.care_home_placement` on :attr:`SocialCare.brokerage`. Packages
are :class:`~sim.engine.servers.Caseload` places, so capacity 0 (no package ever starts) and
``math.inf`` (never a wait) both work.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.engine.servers import Caseload, Request, Servers
from sim.models.care import schema as s
from sim.models.care.demand import D
from sim.models.care.services.hospital import lognormal

if TYPE_CHECKING:
    from sim.models.care.model import World

# The service each pathway refers to (``home``: no referral), as named in the organisation map.
HOME = "home"
PACKAGE = "social_care"
# What a medically fit patient waits for, by the service they were referred to. End-of-life
# referrals wait for the handoff only (the patient goes home once it is made).
REASON = {"social_care": "p1", "virtual_ward": "p1", "step_down": "p2", "care_home": "p3"}


def pathway_cdfs(cfg: s.SocialCareConfig) -> np.ndarray:
    """Cumulative shares of (home, package, virtual ward, step-down, care home) by age band
    and frailty: array of shape (age bands, frailty levels, 5)."""
    out = np.empty((len(s.AGE_BANDS), len(s.FRAILTY), 5))
    vw = cfg.p1_virtual_ward_share
    for i, band in enumerate(s.AGE_BANDS):
        row = cfg.pathway_shares[band]
        for j, frailty in enumerate(s.FRAILTY):
            x = cfg.frailty_support_multiplier[frailty]
            p1, p2, p3 = row["p1"] * x, row["p2"] * x, row["p3"] * x
            shares = [max(0.0, 1.0 - p1 - p2 - p3), p1 * (1.0 - vw), p1 * vw, p2, p3]
            out[i, j] = np.cumsum(shares)
    return out


class SocialCare:
    """Pathway choice at medically fit and each area's pathway 1 packages.

    Parameters
    ----------
    world
        The replication's shared state; reads ``params.model.social_care`` and each area's
        ``p1_packages`` (``params.area_capacity``).
    """

    SERVICES = ("home", "social_care", "virtual_ward", "step_down", "care_home")

    def __init__(self, world: World) -> None:
        self.w = world
        self.cfg = world.params.model.social_care
        self.cdf = pathway_cdfs(self.cfg)
        self._cdf: list[list[list[float]]] = self.cdf.tolist()
        self.packages = [
            Caseload(world.env, c["p1_packages"], warm_up=world.warm_up)
            for c in world.params.area_capacity
        ]
        # An area's brokerage may be a fraction of slots (1.4 at 50,000): it is run as the
        # next whole number of slots, each working that much slower, so its throughput (slots
        # / days per placement) is exact and a small area is not left with too few slots.
        self.brokerage: list[Servers] = []
        self.brokerage_pace: list[float] = []
        for c in world.params.area_capacity:
            slots = c["p3_brokerage_slots"]
            whole = slots if math.isinf(slots) else float(math.ceil(slots - 1e-9))
            self.brokerage.append(Servers(world.env, whole, warm_up=world.warm_up))
            self.brokerage_pace.append(1.0 if math.isinf(slots) or slots <= 0 else whole / slots)
        # person -> token of the package they hold: one package at a time per person.
        self.holding: dict[int, int] = {}
        self.started = 0
        self.ended = 0

    # ------------------------------------------------------------------ pathway
    def pathway(self, person: int, u: float) -> str:
        """The service a medically fit patient is referred to (``home``: pathway 0), from a
        uniform ``u`` drawn for the episode; by the person's age band and frailty only."""
        pop = self.w.pop
        cdf = self._cdf[pop.age[person]][pop.frailty[person]]
        i = bisect_right(cdf, u)  # as np.searchsorted(side="right"), without an array call
        return self.SERVICES[min(i, len(self.SERVICES) - 1)]

    @staticmethod
    def waits_for(service: str) -> str:
        """The delay reason of a patient handed off to ``service`` and waiting for it."""
        return REASON.get(service, "handoff")

    # ------------------------------------------------------------------ packages
    def ask(self, person: int) -> Request | None:
        """Ask the person's area for a package (``None``: they still hold one, having been
        readmitted during it, and go home to it)."""
        if person in self.holding:
            return None
        return self.packages[int(self.w.area_of[person])].enrol()

    def stay(self, person: int, place: Request, draws: list[float]) -> Generator[Any, Any, None]:
        """Hold the granted package for its drawn time (the caller frees it after)."""
        w = self.w
        self.started += 1
        self.holding[person] = self.started
        w.log.add(w.env.now, person, "social_care_start", "social_care")
        days = lognormal(self.cfg.p1_package_days_mean, self.cfg.p1_package_cv, draws[D["z_stay"]])
        try:
            yield w.env.timeout(days)
        finally:  # the end of the package, or death (an interrupt)
            self.holding.pop(person, None)
            self.ended += 1
            w.log.add(w.env.now, person, "social_care_end", "social_care")

    # ------------------------------------------------------------------ care homes
    def brokerage_days(self, area: int, draws: list[float]) -> float:
        """Days the brokerage works on one placement (slower where the area buys a fraction
        of a slot, so its throughput is exact)."""
        cfg = self.cfg
        return (
            lognormal(cfg.p3_brokerage_days_mean, 0.5, draws[D["z_stay"]])
            * (self.brokerage_pace[area])
        )

    # ------------------------------------------------------------------ summaries
    def packages_in_use_mean(self) -> float:
        """Time-average packages held after the warm-up, summed over areas."""
        return float(sum(c.busy_mean(self.w.horizon) for c in self.packages))

    def capacity(self) -> float:
        """Packages in the place (``math.inf`` if any area is unlimited)."""
        total = sum(c.servers for c in self.packages)
        return math.inf if math.isinf(total) else float(total)
