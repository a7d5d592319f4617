"""The acute trust: ED (type 1) and UTC (type 3), G&A beds, length of stay and discharge.

The resources (ED clinicians, beds) are :mod:`sim.engine` classes and the patient's steps
through them are the generators of :mod:`sim.models.care.pathway`; this module holds the
resources, the draws each step reads (admission, length of stay, destination) and the
bookkeeping of a stay. A patient who is medically fit but waits for a handoff, for onward
care or for Monday keeps the bed; that wait is a delayed discharge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sim.engine import Level, Servers
from sim.models.care import calendar as cal
from sim.models.care import schema as s
from sim.models.care.acuity import Acuity
from sim.models.care.after_discharge import HOME, LOST, SLOW
from sim.models.care.apportion import apportion
from sim.models.care.demand import D
from sim.models.care.tallies import DelayReasons, StayTally, VisitTally

if TYPE_CHECKING:
    from sim.models.care.model import World

HOURS = 1.0 / 24.0
Z_LOS, U_DEST = D["z_los"], D["u_dest"]


# Acuity codes as plain ints: an IntEnum member costs an attribute lookup per comparison.
MINOR, CRISIS, TERMINAL = int(Acuity.MINOR), int(Acuity.CRISIS), int(Acuity.TERMINAL)


def lognormal(mean: float, cv: float, z: float) -> float:
    """A lognormal variate with the given mean and coefficient of variation from a normal z."""
    sigma2 = math.log1p(cv * cv)
    return mean * math.exp(math.sqrt(sigma2) * z - 0.5 * sigma2)


class Lognormal:
    """:func:`lognormal` for one coefficient of variation, its terms worked out once.

    The same floating-point operations in the same order, so the same variates.
    """

    def __init__(self, cv: float) -> None:
        sigma2 = math.log1p(cv * cv)
        self.sigma = math.sqrt(sigma2)
        self.half_sigma2 = 0.5 * sigma2

    def __call__(self, mean: float, z: float) -> float:
        """The variate with mean ``mean`` from the standard normal ``z``."""
        return mean * math.exp(self.sigma * z - self.half_sigma2)


class Episode:
    """One hospital stay (or wait for a bed)."""

    __slots__ = (
        "person",
        "area",
        "start",
        "stage",
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
        self.stage = "waiting"  # waiting -> bed -> (delayed | weekend) -> done
        self.fit = math.nan  # when medically fit (the bed wait after it is a delay)
        self.dest = "home"
        self.reason = "handoff"  # why a delayed patient is still in the bed (DELAY_REASONS)


class Hospital:
    """ED, UTC and beds of every acute trust.

    A trust's ED clinicians and beds are one pool for every area it serves
    (``place.trusts``); what is counted by area (boarding, delayed discharges and their
    reasons, beds held by the area's people) stays by area, where the patient lives.

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
        self.trust_of_area = list(p.trust_of_area)
        n_trusts = len(p.trust_names)
        # Whole beds per area that add up to the place's total, summed over each trust's
        # areas: a trust has the beds of the people it serves.
        self.beds_total = _by_trust(
            apportion(p.capacity["beds"], shares), p.trust_of_area, n_trusts
        )
        # Elective and other non-emergency patients hold a fixed share of beds.
        self.reserved = [
            0.0 if math.isinf(b) else round(b * m.hospital.elective_bed_share)
            for b in self.beds_total
        ]
        pairs = zip(self.beds_total, self.reserved, strict=True)
        env = world.env
        self.beds = [
            Servers(env, b - r, warm_up=world.warm_up, level=Level(world.marks)) for b, r in pairs
        ]
        # Every area's ED is open, so each has at least one clinician; a trust has its areas'.
        clinicians = [max(1, int(n)) for n in apportion(p.capacity["ed_clinicians"], shares)]
        self.ed = [
            Servers(env, int(n), warm_up=world.warm_up, level=Level(world.marks))
            for n in _by_trust(clinicians, p.trust_of_area, n_trusts)
        ]
        self.boarding = [Level(world.marks) for _ in shares]
        self.delayed = [Level(world.marks) for _ in shares]
        # Beds held by each area's people (the trust's pool counts them all together).
        self.in_bed = [Level(world.marks) for _ in shares]
        wk = m.hospital.weekend_discharge
        self.weekend_share = wk.share
        self.weekend_resume_day = wk.resume_hour / 24.0
        # Day 0's weekday, so the weekend test is integer arithmetic (the calendar's own
        # vectorised test costs a date parse per call).
        self.weekday0 = cal.from_params(p).start.weekday()
        self.weekend_u = world.streams.generator("discharge/weekend")
        self.reasons = DelayReasons(world.marks, len(shares))
        self.admit_crisis = np.array([m.ed.admit_crisis[b] for b in s.AGE_BANDS])
        self.admit_frail = np.array([m.ed.admit_frailty_multiplier[f] for f in s.FRAILTY])
        self.los_mean = np.array([m.hospital.los_mean_days[b] for b in s.AGE_BANDS])
        self.los_frail = np.array([m.hospital.los_frailty_multiplier[f] for f in s.FRAILTY])
        # The same products as tables of Python floats by [age band][frailty], looked up once
        # per patient instead of two array reads and a product.
        self._p_admit_crisis = [
            [min(1.0, float(a * f)) for f in self.admit_frail] for a in self.admit_crisis
        ]
        self._los_mean = [[float(a * f) for f in self.los_frail] for a in self.los_mean]
        self._los = Lognormal(m.hospital.los_cv)
        self.treatment = Lognormal(m.ed.treatment_cv)
        self.treatment_mean = m.ed.treatment_hours_mean
        self._terminal_admit = m.eol.terminal_admit_share
        self._admit_minor = m.ed.admit_minor
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

    # ------------------------------------------------------------------ the episode's draws
    def p_admit(self, person: int, acuity: int) -> float:
        """Probability that an ED attendance of this acuity ends in admission."""
        if acuity == TERMINAL:
            return self._terminal_admit
        if acuity == CRISIS:
            pop = self.w.pop
            return self._p_admit_crisis[pop.age[person]][pop.frailty[person]]
        return self._admit_minor

    def length_of_stay(self, ep: Episode) -> float:
        """Days from admission to medically fit."""
        pop = self.w.pop
        mean = self._los_mean[pop.age[ep.person]][pop.frailty[ep.person]]
        return self._los(mean, ep.draws[Z_LOS])

    def destination(self, ep: Episode) -> str:
        """Where a medically fit patient goes: home, ``eol``, or their discharge-to-assess
        pathway's service."""
        w = self.w
        person = ep.person
        if w.pop.care_home[person]:
            return "home"  # back to their own care home
        if w.mnp.question.identified[person] and not w.eol_enrolled[person]:
            # Picked out by the surprise question (at the crisis that brought them in, or
            # before): no foresight, so some are false positives.
            return "eol"
        # The discharge-to-assess pathway (services/social_care.py).
        return w.social_care.pathway(person, ep.draws[U_DEST])

    def weekend_resume(self, now: float) -> float | None:
        """When a discharge due ``now`` happens if it slips to Monday morning, or None if it
        goes ahead now (a weekday, or a weekend discharge that the ward makes)."""
        day = math.floor(now)
        weekday = (self.weekday0 + day) % 7  # 0 = Monday ... 6 = Sunday
        if weekday < 5 or self.weekend_u.random() < self.weekend_share:
            return None
        return max(now, day + (7 - weekday) + self.weekend_resume_day)

    # ------------------------------------------------------------------ bookkeeping
    def open_episode(
        self, person: int, draws: list[float], terminal: bool, ed_arrival: float
    ) -> Episode:
        """The patient is to be admitted: in hospital from now (ED or direct)."""
        w = self.w
        w.in_hospital[person] = True
        ep = Episode(person, int(w.area_of[person]), draws, terminal, ed_arrival)
        self.episode_of[person] = ep
        return ep

    def close_episode(self, ep: Episode) -> None:
        """The episode is over (discharge or death): the person is no longer in hospital."""
        ep.stage = "done"
        self.w.in_hospital[ep.person] = False
        self.episode_of.pop(ep.person, None)

    def admitted(self, ep: Episode, now: float, from_ed: bool) -> None:
        """The bed is granted: the emergency admission."""
        w = self.w
        ep.stage = "bed"
        ep.start = now
        self.stays.start()
        self.in_bed[ep.area].add(now, 1)
        if from_ed:
            self.boarding[ep.area].add(now, -1)
            self.visits.add_type1(ep.ed_arrival, now, True)
            w.log.add(now, ep.person, "ed_departure", "ed")
        w.log.add(now, ep.person, "emergency_admission", "hospital")
        w.after.admission(ep.person, now)

    def delay_start(self, ep: Episode, reason: str, now: float) -> None:
        """A medically fit patient starts waiting in the bed, for ``reason``."""
        ep.stage = "delayed"
        ep.reason = reason
        self.delayed[ep.area].add(now, 1)
        self.reasons.enter(ep.area, reason, now)

    def set_reason(self, ep: Episode, reason: str, now: float) -> None:
        """The reason a delayed patient is still in the bed changes."""
        if ep.stage == "delayed" and reason != ep.reason:
            self.reasons.move(ep.area, ep.reason, reason, now)
            ep.reason = reason

    def delay_end(self, ep: Episode, now: float) -> None:
        """The wait in the bed ends (the patient leaves, or dies)."""
        if ep.stage == "delayed":
            self.delayed[ep.area].add(now, -1)
            self.reasons.leave(ep.area, ep.reason, now)
            ep.stage = "bed"

    def discharge(self, ep: Episode, now: float, lost: bool = False) -> None:
        """The patient leaves the bed alive (the caller's ``with`` block frees it).

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
        onward = not lost and ep.dest in ("step_down", "virtual_ward", "social_care")
        w.discharged(ep.person, now, outcome, onward)
        self.delay_end(ep, now)
        self.in_bed[ep.area].add(now, -1)
        self.stays.end(ep.person, ep.start, now, died=False)
        self.close_episode(ep)
        w.log.add(now, ep.person, "discharge", "hospital")

    def died(self, ep: Episode, now: float) -> None:
        """Death in hospital: in a bed, or in ED waiting for one (``ep.stage`` says which)."""
        if ep.stage == "done":
            return
        if ep.stage == "waiting":
            if not math.isnan(ep.ed_arrival):
                self.boarding[ep.area].add(now, -1)
                self.visits.add_type1(ep.ed_arrival, now, True)
        else:
            self.delay_end(ep, now)
            self.in_bed[ep.area].add(now, -1)
            self.stays.end(ep.person, ep.start, now, died=True)
        self.close_episode(ep)


def _by_trust(
    per_area: Sequence[float], trust_of_area: tuple[int, ...], n_trusts: int
) -> list[float]:
    """Sum a per-area quantity over the areas each trust serves."""
    out = [0.0] * n_trusts
    for value, t in zip(per_area, trust_of_area, strict=True):
        out[t] += value
    return out
