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

from sim.engine.servers import GRANTED, WAITING, Caseload, Request, Servers
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

    def withdraw(self, handle: Request | Placement) -> bool:
        """Leave the waiting list (the patient died waiting); True if still waiting."""
        if isinstance(handle, Placement):
            return handle.withdraw()
        waiting = handle.state == WAITING
        handle.cancel()
        return waiting

    # ------------------------------------------------------------------ care homes
    def care_home(
        self, person: int, now: float, draws: list[float], on_start: Callable[[float], None]
    ) -> tuple[SocialCare, Placement]:
        """Arrange a care-home placement (pathway 3): a brokerage slot, its work, a vacancy.

        While the patient waits in the bed, the hospital's delay reason follows the stage
        (``Hospital.set_reason``): ``p3`` for a slot, ``handoff`` during the work, ``p3`` for
        the vacancy.
        """
        area = int(self.w.area_of[person])
        placement = Placement(self, person, area, draws, on_start)
        placement.req = self.brokerage[area].request()
        if placement.req.state == GRANTED:
            placement.arrange(now)
        else:
            placement.req.callbacks.append(
                lambda ev: placement.arrange(self.w.env.now) if ev.value else None
            )
        return self, placement

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


class Placement:
    """One care-home placement being arranged for a patient waiting in a bed."""

    __slots__ = ("sc", "person", "area", "draws", "on_start", "req", "home", "stage")

    def __init__(
        self,
        sc: SocialCare,
        person: int,
        area: int,
        draws: list[float],
        on_start: Callable[[float], None],
    ) -> None:
        self.sc = sc
        self.person = person
        self.area = area
        self.draws = draws
        self.on_start = on_start
        self.req: Request | None = None
        self.home: tuple[object, list[object]] | None = None
        self.stage = "slot"  # slot -> work -> vacancy -> done (or withdrawn)

    def arrange(self, now: float) -> None:
        """A brokerage slot is free: the work of arranging the placement starts."""
        if self.stage != "slot":
            return
        self.stage = "work"
        w = self.sc.w
        w.hospital.set_reason(self.person, "handoff", now)
        cfg = self.sc.cfg
        pace = self.sc.brokerage_pace[self.area]
        days = lognormal(cfg.p3_brokerage_days_mean, 0.5, self.draws[D["z_stay"]]) * pace
        w.at(now + days, self.arranged)

    def arranged(self) -> None:
        """The placement is arranged: free the slot and wait for a vacancy."""
        if self.stage != "work":
            return
        w = self.sc.w
        now = w.env.now
        self.sc.brokerage[self.area].release(self.req)
        self.stage = "vacancy"
        w.hospital.set_reason(self.person, "p3", now)

        def start(t: float) -> None:
            self.stage = "done"
            self.on_start(t)

        self.home = w.mnp.care_home_request(self.person, start)

    def withdraw(self) -> bool:
        """The patient died: give back whatever the placement holds or waits for."""
        stage, self.stage = self.stage, "withdrawn"
        if stage == "slot" and self.req is not None:
            self.req.cancel()
            return True
        if stage == "work" and self.req is not None:
            self.sc.brokerage[self.area].release(self.req)
            return True
        if stage == "vacancy" and self.home is not None:
            return bool(self.home[0].withdraw(self.home[1]))  # type: ignore[attr-defined]
        return False
