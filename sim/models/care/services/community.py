"""SNP services: the proactive-care caseload, urgent community response and step-down.

Step-down places (and virtual-ward beds, :mod:`.mnp`) are shared between patients leaving
hospital (step-down) and people referred from the community (step-up); the lead provider's
priority rule orders the queue. Every resource is a :mod:`sim.engine` class: places are
:class:`~sim.engine.PriorityServers`, UCR teams a :class:`~sim.engine.Rota` (working hours),
the proactive caseload a :class:`~sim.engine.Caseload` per neighbourhood.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.engine import Caseload, Level, PriorityServers, Request, Rota
from sim.models.care import schema as s
from sim.models.care.apportion import apportion
from sim.models.care.demand import D
from sim.models.care.services.hospital import lognormal
from sim.models.care.tallies import DelayTally

if TYPE_CHECKING:
    from sim.models.care.model import World


def queue_key(rule: str, from_hospital: bool, need: float) -> tuple[float, ...]:
    """Priority key for shared community capacity (lower is served first).

    ``need`` is larger for greater need (frailty, conditions).
    """
    if rule == "step_down_first":
        return (0.0 if from_hospital else 1.0,)
    if rule == "step_up_first":
        return (1.0 if from_hospital else 0.0,)
    return (-need,)


# Need is frailty (0-3) plus a tenth of the number of conditions; ten times it is a whole
# number, so ``NEED_TOP - 10 * need`` orders the queue as ``-need`` does, as a class >= 0.
NEED_TOP = 10_000


def queue_priority(rule: str, from_hospital: bool, frailty: int, ltc: int) -> int:
    """:func:`queue_key` as the whole-number priority class of an engine queue (0 first)."""
    if rule == "step_down_first":
        return 0 if from_hospital else 1
    if rule == "step_up_first":
        return 1 if from_hospital else 0
    return max(0, NEED_TOP - (10 * frailty + ltc))


class StayService:
    """A finite number of places held for a length of stay (step-down, virtual ward).

    Parameters
    ----------
    world
        Shared state.
    name
        Service name in the organisation map (``step_down`` or ``virtual_ward``).
    capacity_key
        Key of each area's capacity (``step_down_places`` or ``virtual_ward_beds``): every
        area buys its own places from its own envelope.
    """

    def __init__(self, world: World, name: str, capacity_key: str) -> None:
        self.w = world
        self.name = name
        self.cfg = getattr(world.params.model, name)
        self.pools = [
            PriorityServers(
                world.env, c[capacity_key], warm_up=world.warm_up, level=Level(world.marks)
            )
            for c in world.params.area_capacity
        ]
        self.rules = [lead.priority_rule for lead in world.params.area_leads]
        self.holding: dict[int, tuple[int, int]] = {}  # person -> (area, token) in service
        self.started = 0
        self.ended = 0

    def ask(self, person: int, from_hospital: bool) -> Request:
        """Queue for a place; step-up requests give up after ``max_wait_step_up_days``."""
        w = self.w
        area = int(w.area_of[person])
        priority = queue_priority(
            self.rules[area], from_hospital, int(w.pop.frailty[person]), int(w.pop.ltc[person])
        )
        window = None if from_hospital else self.cfg.max_wait_step_up_days
        return self.pools[area].request(priority, window=window)

    def stay(self, person: int, place: Request, draws: list[float]) -> Generator[Any, Any, None]:
        """Hold the granted ``place`` for the length of stay (the caller frees it after)."""
        w = self.w
        if person in self.holding:  # already in this service: keep one place only
            place.resource.release(place)
            return
        self.started += 1
        token = self.started
        area = int(w.area_of[person])
        self.holding[person] = (area, token)
        w.log.add(w.env.now, person, f"{self.name}_start", self.name)
        stay = lognormal(self.cfg.stay_mean_days, self.cfg.stay_cv, draws[D["z_stay"]])
        try:
            yield w.env.timeout(stay)
        finally:  # the end of the stay, or death (an interrupt)
            self.holding.pop(person, None)
            self.ended += 1
            # Log the end before freeing the place: the release may start the next request
            # in the queue, which can be this same person's (a second referral).
            w.log.add(w.env.now, person, f"{self.name}_end", self.name)
            place.resource.release(place)


class Ucr:
    """Urgent community response: finite teams, working hours, the 2-hour measure.

    Each area has its whole teams and, when its budget buys a fraction of a team, one
    part-time team (shared with neighbouring places) that works that fraction of each day's
    hours from opening time: two :class:`~sim.engine.Rota`. A referral goes to whichever
    starts first (:func:`sim.models.care.pathway.ucr_visit`).
    """

    def __init__(self, world: World) -> None:
        self.w = world
        self.cfg = world.params.model.ucr
        c = self.cfg
        self.teams: list[list[Rota]] = []
        window = c.max_wait_hours / 24.0
        for cap in world.params.area_capacity:
            teams = min(cap["ucr_teams"], 10_000.0)
            whole = int(math.floor(teams))
            level = Level(world.marks)  # teams busy in the area, whole and part-time
            rotas = [
                Rota(
                    world.env,
                    whole,
                    window,
                    open_hour=c.open_hour,
                    close_hour=c.close_hour,
                    warm_up=world.warm_up,
                    level=level,
                )
            ]
            part = teams - whole
            if part > 0:
                close = c.open_hour + part * (c.close_hour - c.open_hour)
                rotas.append(
                    Rota(
                        world.env,
                        1,
                        window,
                        open_hour=c.open_hour,
                        close_hour=close,
                        warm_up=world.warm_up,
                        level=level,
                    )
                )
            self.teams.append(rotas)
        self.min_age = s.AGE_BANDS.index(self.cfg.min_age_band)
        self.response_times = DelayTally(world.warm_up, within=2 / 24)  # the 2-hour standard
        self.escalated = 0

    def eligible(self, person: int, now: float) -> bool:
        """In hours, and old or frail or living in a care home."""
        hour = (now % 1.0) * 24.0
        if not self.cfg.open_hour <= hour < self.cfg.close_hour:
            return False
        pop = self.w.pop
        return bool(
            pop.age[person] >= self.min_age or pop.frailty[person] > 0 or pop.care_home[person]
        )

    def escalate(self, person: int, now: float) -> None:
        """No team could arrive within ``max_wait_hours``: the crisis goes to ED."""
        self.escalated += 1
        self.w.log.add(now, person, "ucr_escalated", "ucr")


class Proactive:
    """The proactive-care caseload of each neighbourhood (finite places).

    Case-finding: people who meet the eligibility rule, registered with an engaged practice,
    are found with a probability raised by MNP analytics; found people are enrolled in order of
    risk as places free up. GP referrals (through a handoff) go ahead of case-finding.
    """

    def __init__(self, world: World) -> None:
        self.w = world
        p = world.params
        cfg = p.model.proactive
        pop = world.pop
        n_nb = len(p.neighbourhood_areas)
        nb_pop = np.bincount(pop.neighbourhood, minlength=n_nb)
        nb_area = np.array([p.area_names.index(a) for a in p.neighbourhood_areas])
        self.capacity = [0.0] * n_nb
        for k, cap in enumerate(p.area_capacity):
            nbs = np.flatnonzero(nb_area == k)
            split = apportion(cap["proactive_places"], nb_pop[nbs])
            for j, c in zip(nbs.tolist(), split, strict=True):
                self.capacity[j] = c
        self.level = Level(world.marks)  # shared by every neighbourhood's caseload
        self.places = [
            Caseload(world.env, c, warm_up=world.warm_up, level=self.level) for c in self.capacity
        ]
        self.enrolled: dict[int, int] = {}
        self._held: dict[int, Request] = {}
        # Practices that case-find: those engaged in neighbourhood work, each deciding by
        # the arrangement's terms (sim/models/care/practices/behaviour.py).
        self.engaged = world.practices.engaged
        # Coverage depends on the analytics money per head of the person's own area.
        pairs = zip(p.area_budget, p.area_population, strict=True)
        per_head = np.array([b.spend["analytics"] / max(n, 1) for b, n in pairs])
        coverage = np.minimum(
            1.0, cfg.base_case_finding + cfg.analytics_uplift_per_gbp_head * per_head
        )[world.area_of]
        self.eligible = self.meets_rule(np.arange(pop.size))
        # Whether case-finding would find each person once they meet the rule (people who
        # join or become frailer later are offered through :meth:`consider`).
        self.would_find = (
            world.streams.generator("proactive/case_finding").random(pop.size) < coverage
        )
        self.hit = self.engaged[pop.practice] & self.would_find
        found = self.eligible & self.hit & pop.on_list
        self.listed = found.copy()
        risk = world.crisis_rate
        ids = np.flatnonzero(found)
        ids = ids[np.lexsort((ids, -risk[ids]))]
        self.found = [deque(ids[pop.neighbourhood[ids] == j].tolist()) for j in range(n_nb)]
        self.referred: list[deque[int]] = [deque() for _ in range(n_nb)]
        self.enrolments = 0
        # People enrolled when the run starts are part-way through an episode: in a steady
        # state the time to their first review is uniform over an episode (a renewal
        # process's residual time), not one day for all, which emptied and refilled the
        # caseload together every ``review_days``. The i-th person enrolled at the start
        # takes the i-th draw; the order is by risk, the same in every scenario (CRN).
        self._first_reviews = world.streams.generator("proactive/first_review")
        # Handoff delay (days) of each GP referral that reached the team.
        self.referral_delays = DelayTally(world.warm_up)

    def consider(self, people: np.ndarray) -> None:
        """Case-finding for registered people whose state changed (they joined the list or
        became frailer: :mod:`sim.models.care.life_course`): those who now meet the rule and
        would be found join the end of their neighbourhood's list, highest risk first."""
        w = self.w
        pop = w.pop
        people = np.unique(people)
        meets = self.meets_rule(people)
        self.eligible[people[meets]] = True
        new = people[meets & self.hit[people] & ~self.listed[people] & pop.on_list[people]]
        if not new.size:
            return
        self.listed[new] = True
        risk = w.crisis_rate[new]
        for person in new[np.lexsort((new, -risk))].tolist():
            self.found[int(pop.neighbourhood[person])].append(person)

    def moved(self, people: np.ndarray) -> None:
        """People whose practice closed now belong to another: whether case-finding would
        find them follows their new practice's engagement."""
        self.hit[people] = self.engaged[self.w.pop.practice[people]] & self.would_find[people]
        pop = self.w.pop
        self.consider(people[pop.on_list[people] & (pop.death_time[people] > self.w.env.now)])

    def refer(self, person: int, now: float, e: float, u: float) -> None:
        """A GP referral for proactive care, through the GP-to-SNP handoff."""
        w = self.w
        if not self.eligible[person] or not self.engaged[w.pop.practice[person]]:
            return
        w.log.add(now, person, "referral", "proactive_care")
        area = int(w.area_of[person])
        delay, lost = w.handoffs.draw("general_practice", "proactive_care", e, u, area)
        if lost:
            w.log.add(now + delay, person, "referral_lost", "proactive_care")
            return
        self.referral_delays.add(now, delay)
        w.spawn(person, self._referral(person, delay))

    def _referral(self, person: int, delay: float) -> Generator[simpy.Event, Any, None]:
        """The referral crosses the handoff and joins the neighbourhood's list."""
        yield self.w.env.timeout(delay)
        self.referred[int(self.w.pop.neighbourhood[person])].append(person)

    def fill(self, now: float) -> None:
        """Enrol people into free places (daily, in working hours)."""
        w = self.w
        for j, places in enumerate(self.places):
            while places.busy < places.servers:
                queue = self.referred[j] if self.referred[j] else self.found[j]
                if not queue:
                    break
                person = queue.popleft()
                if (
                    person in self.enrolled
                    or now >= w.pop.death_time[person]
                    or w.eol_enrolled[person]
                    or not w.pop.on_list[person]
                ):
                    continue
                place = places.enrol()  # granted at once: a place is free
                self.enrolled[person] = j
                self._held[person] = place
                self.enrolments += 1
                w.log.add(now, person, "proactive_enrolment", "proactive_care")
                days = self.w.params.model.proactive.review_days
                if now == 0.0:
                    days *= float(self._first_reviews.random())
                w.spawn(person, self._episode(person, place, days))

    def _episode(
        self, person: int, place: Request, days: float
    ) -> Generator[simpy.Event, Any, None]:
        """An episode of proactive care: the place is held until the review, ``days`` on
        (unless the person leaves before, :meth:`leave`). At the review, someone who still
        meets the rule rejoins the end of their neighbourhood's list (:meth:`relist`)."""
        with place:
            yield self.w.env.timeout(days)
            if self._held.get(person) is place:  # not already left (and re-enrolled)
                self.leave(person)
                self.relist(person)

    def relist(self, person: int) -> None:
        """Put someone whose episode ended back at the end of their list if they still meet
        the rule now (frail or multimorbid, at home, registered): proactive care for frail
        people continues while they remain eligible (**assumption**, docs/model.md). With a
        single episode and no return, the list of the prevalent frail ran dry within 18
        months and the caseload fell below its places for good."""
        pop = self.w.pop
        if self.meets_rule(np.array([person]))[0] and pop.on_list[person]:
            self.found[int(pop.neighbourhood[person])].append(person)

    def meets_rule(self, people: np.ndarray) -> np.ndarray:
        """Whether each of ``people`` meets the proactive-care rule now: moderate or severe
        frailty, or enough long-term conditions, and not living in a care home."""
        pop = self.w.pop
        cfg = self.w.params.model.proactive
        return (
            (pop.frailty[people] >= s.FRAILTY.index(cfg.min_frailty))
            | (pop.ltc[people] >= cfg.min_ltc)
        ) & ~pop.care_home[people]

    def leave(self, person: int) -> None:
        """Leave the caseload (review ended, death, or moved to end-of-life care)."""
        j = self.enrolled.pop(person, None)
        if j is None:
            return
        place = self._held.pop(person)
        now = self.w.env.now
        self.places[j].discharge(place)
        self.w.log.add(now, person, "proactive_exit", "proactive_care")
