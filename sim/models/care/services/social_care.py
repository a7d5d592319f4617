"""Discharge to assess: the pathway chosen at medically fit, and the local authority's
pathway 1 packages (reablement or home care).

The pathways follow the national discharge-to-assess model [src:dhsc-discharge-2022]:

- ``p0`` home with no new support;
- ``p1`` home with a new package: the local authority's reablement or home care (finite
  packages per area, each held for a drawn time), or for ``p1_virtual_ward_share`` of them
  the health-funded virtual ward;
- ``p2`` bedded intermediate care: the step-down places the SNP budget buys;
- ``p3`` a care home: the care-home places of :mod:`.mnp`.

A medically fit patient on pathways 1-3 keeps the bed first while the referral crosses to the
next organisation (the handoff) and then while they wait for their pathway's capacity; each
day of the wait is counted under its reason (:class:`~sim.models.care.tallies.DelayReasons`).

The hospital calls :meth:`SocialCare.pathway` when a patient becomes medically fit, and
:meth:`SocialCare.request` (through ``World.onward_request``) once the referral for a
package has been handed off. Packages are :class:`~sim.engine.servers.Caseload` places, so
capacity 0 (no package ever starts) and ``math.inf`` (never a wait) both work.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.servers import GRANTED, WAITING, Caseload, Request
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
        self.packages = [
            Caseload(world.env, c["p1_packages"], warm_up=world.warm_up)
            for c in world.params.area_capacity
        ]
        # person -> (area, the place held, token): one package at a time per person.
        self.holding: dict[int, tuple[int, Request, int]] = {}
        self.started = 0
        self.ended = 0

    # ------------------------------------------------------------------ pathway
    def pathway(self, person: int, u: float) -> str:
        """The service a medically fit patient is referred to (``home``: pathway 0), from a
        uniform ``u`` drawn for the episode; by the person's age band and frailty only."""
        pop = self.w.pop
        cdf = self.cdf[int(pop.age[person]), int(pop.frailty[person])]
        i = int(np.searchsorted(cdf, u, side="right"))
        return self.SERVICES[min(i, len(self.SERVICES) - 1)]

    @staticmethod
    def waits_for(service: str) -> str:
        """The delay reason of a patient handed off to ``service`` and waiting for it."""
        return REASON.get(service, "handoff")

    # ------------------------------------------------------------------ packages
    def request(
        self, person: int, now: float, draws: list[float], on_start: Callable[[float], None]
    ) -> tuple[SocialCare, Request] | None:
        """Ask the person's area for a package; ``on_start(time)`` runs when it starts.

        Returns a handle for :meth:`withdraw` while the request waits (``None`` if it
        started at once). A person who still holds a package (readmitted during it) goes
        home to it at once.
        """
        if person in self.holding:
            on_start(now)
            return None
        area = int(self.w.area_of[person])
        req = self.packages[area].enrol()

        def start(t: float) -> None:
            self._start(person, area, req, t, draws)
            on_start(t)

        if req.state == GRANTED:
            start(now)
            return None
        req.callbacks.append(lambda ev: start(self.w.env.now) if ev.value else None)
        return self, req

    def withdraw(self, req: Request) -> bool:
        """Leave the waiting list (the patient died waiting); True if still waiting."""
        waiting = req.state == WAITING
        req.cancel()
        return waiting

    def _start(self, person: int, area: int, req: Request, now: float, d: list[float]) -> None:
        self.started += 1
        self.holding[person] = (area, req, self.started)
        self.w.log.add(now, person, "social_care_start", "social_care")
        days = lognormal(self.cfg.p1_package_days_mean, self.cfg.p1_package_cv, d[D["z_stay"]])
        self.w.at(now + days, self.end, person, self.started)

    def end(self, person: int, token: int | None = None) -> None:
        """The package ends (after its time, or at death with ``token=None``)."""
        held = self.holding.get(person)
        if held is None or (token is not None and held[2] != token):
            return
        area, req, _ = self.holding.pop(person)
        self.ended += 1
        self.w.log.add(self.w.env.now, person, "social_care_end", "social_care")
        self.packages[area].discharge(req)

    # ------------------------------------------------------------------ summaries
    def packages_in_use_mean(self) -> float:
        """Time-average packages held after the warm-up, summed over areas."""
        return float(sum(c.busy_mean(self.w.horizon) for c in self.packages))

    def capacity(self) -> float:
        """Packages in the place (``math.inf`` if any area is unlimited)."""
        total = sum(c.servers for c in self.packages)
        return math.inf if math.isinf(total) else float(total)
