"""The acute trust: ED (type 1) and UTC (type 3), G&A beds, length of stay and discharge.

A patient who is medically fit but waits for a handoff or for onward care keeps the bed;
that wait is a delayed discharge.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.engine.monitor import Level
from sim.models.care import schema as s
from sim.models.care.acuity import Acuity
from sim.models.care.after_discharge import HOME, LOST, SLOW
from sim.models.care.apportion import apportion
from sim.models.care.demand import D
from sim.models.care.resources import FifoServers, Pool
from sim.models.care.tallies import DelayReasons, StayTally, VisitTally

if TYPE_CHECKING:
    from sim.models.care.model import World

HOURS = 1.0 / 24.0


def lognormal(mean: float, cv: float, z: float) -> float:
    """A lognormal variate with the given mean and coefficient of variation from a normal z."""
    sigma2 = math.log1p(cv * cv)
    return mean * math.exp(math.sqrt(sigma2) * z - 0.5 * sigma2)


class Episode:
    """One hospital stay (or wait for a bed)."""

    __slots__ = (
        "person",
        "area",
        "start",
        "stage",
        "entry",
        "terminal",
        "draws",
        "ed_arrival",
        "fit",
        "dest",
        "reason",
    )

    def __init__(
        self, person: int, area: int, draws: list[float], terminal: bool, ed_arrival: float
    ) -> None:
        self.person = person
        self.area = area
        self.draws = draws
        self.terminal = terminal
        self.ed_arrival = ed_arrival
        self.start = math.nan
        self.stage = "waiting"  # waiting -> bed -> delayed -> done
        # The bed-queue entry while boarding, then the onward-care handle while delayed.
        self.entry: Any = None
        self.fit = math.nan  # when medically fit (the bed wait after it is a delay)
        self.dest = "home"
        self.reason = "handoff"  # why a delayed patient is still in the bed (DELAY_REASONS)


class Hospital:
    """ED, UTC and beds of every area's trust.

    Parameters
    ----------
    world
        The replication's shared state.
    """

    def __init__(self, world: World) -> None:
        self.w = world
        p = world.params
        m = p.model
        self.ed_cfg = m.ed
        self.h_cfg = m.hospital
        shares = world.area_shares
        # Whole beds per area that add up to the place's total, so no area's occupancy can
        # exceed its own beds.
        self.beds_total = apportion(p.capacity["beds"], shares)
        # Elective and other non-emergency patients hold a fixed share of beds.
        self.reserved = [
            0.0 if math.isinf(b) else round(b * m.hospital.elective_bed_share)
            for b in self.beds_total
        ]
        pairs = zip(self.beds_total, self.reserved, strict=True)
        self.beds = [Pool(b - r, world.marks) for b, r in pairs]
        # Every area's ED is open, so each has at least one clinician.
        clinicians = apportion(p.capacity["ed_clinicians"], shares)
        self.ed = [FifoServers(max(1, int(n))) for n in clinicians]
        self.boarding = [Level(world.marks) for _ in shares]
        self.delayed = [Level(world.marks) for _ in shares]
        self.reasons = DelayReasons(world.marks, len(shares))
        self.admit_crisis = np.array([m.ed.admit_crisis[b] for b in s.AGE_BANDS])
        self.admit_frail = np.array([m.ed.admit_frailty_multiplier[f] for f in s.FRAILTY])
        self.los_mean = np.array([m.hospital.los_mean_days[b] for b in s.AGE_BANDS])
        self.los_frail = np.array([m.hospital.los_frailty_multiplier[f] for f in s.FRAILTY])
        self.episode_of: dict[int, Episode] = {}
        self.stays = StayTally(world.warm_up, world.pop.age >= s.AGE_BANDS.index("75-84"))
        self.visits = VisitTally(world.warm_up, world.horizon, world.days)

    # ------------------------------------------------------------------ ED and UTC
    def utc_visits(self, person: np.ndarray, t: np.ndarray, z: np.ndarray) -> None:
        """Type 3 attendances: time in department only (they share no modelled resource)."""
        e = self.ed_cfg
        sigma2 = math.log1p(e.utc_cv**2)
        stay = e.utc_hours_mean * np.exp(math.sqrt(sigma2) * z - 0.5 * sigma2) * HOURS
        self.visits.add_type3(t, t + stay)
        self.w.log.add_many(t, person, "utc_arrival", "utc")

    def ed_arrival(
        self, person: int, now: float, acuity: int, draws: list[float], ambulance: bool
    ) -> None:
        """A type 1 attendance: clinician queue, assessment, then home or a bed."""
        w = self.w
        if w.in_hospital[person] or now >= w.pop.death_time[person]:
            return
        area = int(w.area_of[person])
        w.log.add(now, person, "ed_arrival", "ed")
        if ambulance:
            w.log.add(now, person, "ambulance_conveyance", "ambulance")
        treat = (
            lognormal(
                self.ed_cfg.treatment_hours_mean, self.ed_cfg.treatment_cv, draws[D["z_treat"]]
            )
            * HOURS
        )
        start = self.ed[area].take(now, treat)
        decided = start + treat
        if acuity == Acuity.TERMINAL:
            p_admit = w.params.model.eol.terminal_admit_share
        elif acuity == Acuity.CRISIS:
            age, fr = w.pop.age[person], w.pop.frailty[person]
            p_admit = min(1.0, self.admit_crisis[age] * self.admit_frail[fr])
        else:
            p_admit = self.ed_cfg.admit_minor
        if draws[D["u_admit"]] < p_admit:
            w.in_hospital[person] = True
            ep = Episode(person, area, draws, acuity == Acuity.TERMINAL, now)
            self.episode_of[person] = ep
            w.at(decided, self._board, ep)
        else:
            self.visits.add_type1(now, decided, False)
            w.log.add(decided, person, "ed_departure", "ed")

    def _board(self, ep: Episode) -> None:
        if ep.stage != "waiting":
            return
        now = self.w.env.now
        self.boarding[ep.area].add(now, 1)
        entry = self.beds[ep.area].request(now, lambda t: self._admit(ep, t, True))
        if entry[0]:  # still waiting (a request granted at once has already moved on)
            ep.entry = entry

    def direct_admission(
        self, person: int, now: float, draws: list[float], terminal: bool = False
    ) -> None:
        """Admission without an ED attendance (GP or ambulance direct to an assessment unit)."""
        w = self.w
        if w.in_hospital[person] or now >= w.pop.death_time[person]:
            return
        w.in_hospital[person] = True
        ep = Episode(person, int(w.area_of[person]), draws, terminal, math.nan)
        self.episode_of[person] = ep
        entry = self.beds[ep.area].request(now, lambda t: self._admit(ep, t, False))
        if entry[0]:
            ep.entry = entry

    # ------------------------------------------------------------------ beds
    def _admit(self, ep: Episode, now: float, from_ed: bool) -> None:
        w = self.w
        ep.stage = "bed"
        ep.start = now
        ep.entry = None
        self.stays.start()
        if from_ed:
            self.boarding[ep.area].add(now, -1)
            self.visits.add_type1(ep.ed_arrival, now, True)
            w.log.add(now, ep.person, "ed_departure", "ed")
        w.log.add(now, ep.person, "emergency_admission", "hospital")
        w.after.admission(ep.person, now)
        if ep.terminal:
            return  # stays until death
        age, fr = w.pop.age[ep.person], w.pop.frailty[ep.person]
        mean = self.los_mean[age] * self.los_frail[fr]
        los = lognormal(mean, self.h_cfg.los_cv, ep.draws[D["z_los"]])
        w.at(now + los, self._fit, ep)

    def _fit(self, ep: Episode) -> None:
        if ep.stage != "bed":
            return
        w = self.w
        now = w.env.now
        person = ep.person
        w.log.add(now, person, "medically_fit", "hospital")
        ep.fit = now
        if w.pop.care_home[person]:
            dest = "home"  # back to their own care home
        elif w.mnp.question.identified[person] and not w.eol_enrolled[person]:
            # Picked out by the surprise question (at the crisis that brought them in, or
            # before): no foresight, so some are false positives.
            dest = "eol"
        else:
            # The discharge-to-assess pathway (services/social_care.py).
            dest = w.social_care.pathway(person, ep.draws[D["u_dest"]])
        ep.dest = dest
        if dest == "home":
            self.discharge(ep, now)
            return
        ep.stage = "delayed"
        self.delayed[ep.area].add(now, 1)
        ep.reason = "handoff"
        self.reasons.enter(ep.area, "handoff", now)
        delay, lost = w.handoffs.draw(
            "hospital", dest, ep.draws[D["e_handoff"]], ep.draws[D["u_handoff"]], ep.area
        )
        w.log.add(now, person, "referral", dest)
        w.at(now + delay, self._handed_off, ep, dest, lost)

    def _handed_off(self, ep: Episode, dest: str, lost: bool) -> None:
        if ep.stage != "delayed":
            return
        now = self.w.env.now
        if lost:
            self.w.log.add(now, ep.person, "referral_lost", dest)
            self.discharge(ep, now, lost=True)
            return
        if dest == "eol":
            # Identification is uncertain, so the bed is held for the handoff only, not for a
            # place: the request joins the community waiting list and the patient goes home
            # (a held bed would wait for places that false positives also fill).
            self.w.mnp.eol_request(ep.person, None)
            self.discharge(ep, now)
            return
        # Handed off: from now on the patient waits for the pathway's capacity.
        reason = self.w.social_care.waits_for(dest)
        self.reasons.move(ep.area, ep.reason, reason, now)
        ep.reason = reason
        handle = self.w.onward_request(
            ep.person,
            dest,
            now,
            ep.draws,
            from_hospital=True,
            on_start=lambda t: self.discharge(ep, t),
        )
        if ep.stage == "delayed":
            ep.entry = handle

    def set_reason(self, person: int, reason: str, now: float) -> None:
        """The reason a delayed patient is still in the bed changes (onward care's stages)."""
        ep = self.episode_of.get(person)
        if ep is not None and ep.stage == "delayed":
            self.reasons.move(ep.area, ep.reason, reason, now)
            ep.reason = reason

    def discharge(self, ep: Episode, now: float, lost: bool = False) -> None:
        """The patient leaves the bed (alive).

        ``lost``: the onward referral was lost, so the patient went home without the care
        they were referred for. What happened to the referral, and how long the patient waited
        for onward care, set their risk after discharge (:mod:`..after_discharge`).
        """
        w = self.w
        if lost:
            outcome = LOST
        elif now - ep.fit > w.params.model.after_discharge.slow_wait_days:  # NaN: False
            outcome = SLOW
        else:
            outcome = HOME
        onward = not lost and ep.dest in ("step_down", "virtual_ward")
        w.after.discharge(ep.person, now, outcome, onward)
        if ep.stage == "delayed":
            self.delayed[ep.area].add(now, -1)
            self.reasons.leave(ep.area, ep.reason, now)
        ep.stage = "done"
        ep.entry = None
        self.beds[ep.area].release(now)
        self.stays.end(ep.person, ep.start, now, died=False)
        w.in_hospital[ep.person] = False
        self.episode_of.pop(ep.person, None)
        w.log.add(now, ep.person, "discharge", "hospital")

    def on_death(self, person: int, now: float) -> bool:
        """Handle a death; True if the person died in hospital (bed or waiting in ED)."""
        ep = self.episode_of.pop(person, None)
        if ep is None:
            return False
        w = self.w
        if ep.stage == "waiting":
            if ep.entry is not None:
                self.beds[ep.area].withdraw(ep.entry)
                if not math.isnan(ep.ed_arrival):
                    self.boarding[ep.area].add(now, -1)
            if not math.isnan(ep.ed_arrival):
                self.visits.add_type1(ep.ed_arrival, now, True)
        else:
            if ep.stage == "delayed":
                self.delayed[ep.area].add(now, -1)
                self.reasons.leave(ep.area, ep.reason, now)
                if ep.entry is not None:
                    w.onward_withdraw(ep.entry)
            self.beds[ep.area].release(now)
            self.stays.end(person, ep.start, now, died=True)
        ep.stage = "done"
        w.in_hospital[person] = False
        return True
