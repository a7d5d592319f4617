"""SNP services: the proactive-care caseload, urgent community response and step-down.

Step-down places (and virtual-ward beds, :mod:`.mnp`) are shared between patients leaving
hospital (step-down) and people referred from the community (step-up); the lead provider's
priority rule orders the queue.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.engine.monitor import Level
from sim.models.care import schema as s
from sim.models.care.apportion import apportion
from sim.models.care.demand import D
from sim.models.care.resources import FifoServers, Pool
from sim.models.care.services.hospital import HOURS, lognormal
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
        self.pools = [Pool(c[capacity_key], world.marks) for c in world.params.area_capacity]
        self.rules = [lead.priority_rule for lead in world.params.area_leads]
        self.holding: dict[int, tuple[int, int]] = {}  # person -> (area, token) in service
        self.started = 0
        self.ended = 0

    def request(
        self,
        person: int,
        now: float,
        draws: list[float],
        from_hospital: bool,
        on_start: Callable[[float], None] | None,
    ) -> tuple[Pool, list[Any]]:
        """Queue for a place; step-up requests give up after ``max_wait_step_up_days``."""
        w = self.w
        area = w.area_of[person]
        need = float(w.pop.frailty[person]) + 0.1 * float(w.pop.ltc[person])
        key = queue_key(self.rules[area], from_hospital, need)
        pool = self.pools[area]

        def start(t: float) -> None:
            self._start(person, area, t, draws)
            if on_start is not None:
                on_start(t)

        entry = pool.request(now, start, key)
        if entry[0] and not from_hospital:
            w.at(now + self.cfg.max_wait_step_up_days, self._give_up, person, pool, entry, draws)
        return pool, entry

    def _give_up(self, person: int, pool: Pool, entry: list[Any], draws: list[float]) -> None:
        w = self.w
        if pool.withdraw(entry):
            w.hospital.ed_arrival(person, w.env.now, 1, draws, ambulance=True)

    def _start(self, person: int, area: int, now: float, draws: list[float]) -> None:
        w = self.w
        if person in self.holding:  # already in this service: keep one place only
            self.pools[area].release(now)
            return
        self.started += 1
        self.holding[person] = (area, self.started)
        w.log.add(now, person, f"{self.name}_start", self.name)
        stay = lognormal(self.cfg.stay_mean_days, self.cfg.stay_cv, draws[D["z_stay"]])
        w.at(now + stay, self.end, person, self.started)

    def end(self, person: int, token: int | None = None) -> None:
        """Leave the service (at the end of the stay, or on death with ``token=None``)."""
        held = self.holding.get(person)
        if held is None or (token is not None and held[1] != token):
            return
        area = self.holding.pop(person)[0]
        now = self.w.env.now
        self.ended += 1
        # Log the end before freeing the place: the release may at once start the next
        # request in the queue, which can be this same person's (a second referral).
        self.w.log.add(now, person, f"{self.name}_end", self.name)
        self.pools[area].release(now)


class Ucr:
    """Urgent community response: finite teams, working hours, the 2-hour measure.

    Each area has its whole teams and, when its budget buys a fraction of a team, one
    part-time team (shared with neighbouring places) that works that fraction of each day's
    hours from opening time. A referral goes to whichever can start first.
    """

    def __init__(self, world: World) -> None:
        self.w = world
        self.cfg = world.params.model.ucr
        c = self.cfg
        self.teams: list[list[FifoServers]] = []
        for cap in world.params.area_capacity:
            teams = min(cap["ucr_teams"], 10_000.0)
            whole = int(math.floor(teams))
            pools = [FifoServers(whole, c.open_hour, c.close_hour)]
            part = teams - whole
            if part > 0:
                close = c.open_hour + part * (c.close_hour - c.open_hour)
                pools.append(FifoServers(1, c.open_hour, close))
            self.teams.append(pools)
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

    def respond(self, person: int, now: float, draws: list[float], acuity: int) -> bool:
        """Try to respond; False if no team can arrive within ``max_wait_hours``."""
        w = self.w
        pools = self.teams[w.area_of[person]]
        travel = self.cfg.travel_hours_mean * draws[D["e_travel"]] * HOURS
        teams = min(pools, key=lambda pool: pool.earliest_start(now))
        start = teams.earliest_start(now)
        if start + travel - now > self.cfg.max_wait_hours * HOURS:
            self.escalated += 1
            w.log.add(now, person, "ucr_escalated", "ucr")
            return False
        visit = self.cfg.visit_hours_mean * draws[D["e_visit"]] * HOURS
        teams.take(now, travel + visit)
        arrive = start + travel
        self.response_times.add(now, arrive - now)
        w.at(arrive, self._arrive, person, draws, acuity, visit)
        return True

    def _arrive(self, person: int, draws: list[float], acuity: int, visit: float) -> None:
        w = self.w
        now = w.env.now
        if now >= w.pop.death_time[person] or w.in_hospital[person]:
            return
        w.log.add(now, person, "ucr_response", "ucr")
        if draws[D["u_avert"]] < self.cfg.avert_share:
            if draws[D["u_step_up"]] < self.cfg.step_up_share:
                w.log.add(now, person, "referral", "virtual_ward")
                # An urgent step-up is arranged by phone within the visit, so the boundary's
                # delay (set for planned referrals) does not apply; its loss does.
                area = int(w.area_of[person])
                _, lost = w.handoffs.draw("ucr", "virtual_ward", 0.0, draws[D["u_handoff"]], area)
                if lost:
                    w.log.add(now, person, "referral_lost", "virtual_ward")
                    return
                # Requested when the visit ends, not now with a future time: a place granted
                # "in the future" would be counted before it is held, and would outlive a
                # death during the visit.
                w.at(now + visit, self._step_up, person, draws)
            return
        w.at(now + visit, w.hospital.ed_arrival, person, now + visit, acuity, draws, True)

    def _step_up(self, person: int, draws: list[float]) -> None:
        w = self.w
        now = w.env.now
        if now >= w.pop.death_time[person] or w.in_hospital[person]:
            return
        w.mnp.virtual_ward.request(person, now, draws, False, None)


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
        self.in_use = [0] * n_nb
        self.level = Level(world.marks)
        self.enrolled: dict[int, int] = {}
        self.engaged = _engaged_practices(world)
        # Coverage depends on the analytics money per head of the person's own area.
        pairs = zip(p.area_budget, p.area_population, strict=True)
        per_head = np.array([b.spend["analytics"] / max(n, 1) for b, n in pairs])
        coverage = np.minimum(
            1.0, cfg.base_case_finding + cfg.analytics_uplift_per_gbp_head * per_head
        )[world.area_of]
        self.eligible = (
            (pop.frailty >= s.FRAILTY.index(cfg.min_frailty)) | (pop.ltc >= cfg.min_ltc)
        ) & ~pop.care_home
        # Whether case-finding would find each person once they meet the rule (people who
        # join or become frailer later are offered through :meth:`consider`).
        self.hit = self.engaged[pop.practice] & (
            world.streams.generator("proactive/case_finding").random(pop.size) < coverage
        )
        found = self.eligible & self.hit & pop.on_list
        self.listed = found.copy()
        risk = world.crisis_rate
        ids = np.flatnonzero(found)
        ids = ids[np.lexsort((ids, -risk[ids]))]
        self.found = [deque(ids[pop.neighbourhood[ids] == j].tolist()) for j in range(n_nb)]
        self.referred: list[deque[int]] = [deque() for _ in range(n_nb)]
        self.enrolments = 0
        # Handoff delay (days) of each GP referral that reached the team.
        self.referral_delays = DelayTally(world.warm_up)

    def consider(self, people: np.ndarray) -> None:
        """Case-finding for registered people whose state changed (they joined the list or
        became frailer: :mod:`sim.models.care.life_course`): those who now meet the rule and
        would be found join the end of their neighbourhood's list, highest risk first."""
        w = self.w
        pop = w.pop
        cfg = w.params.model.proactive
        people = np.unique(people)
        meets = (
            (pop.frailty[people] >= s.FRAILTY.index(cfg.min_frailty))
            | (pop.ltc[people] >= cfg.min_ltc)
        ) & ~pop.care_home[people]
        self.eligible[people[meets]] = True
        new = people[meets & self.hit[people] & ~self.listed[people] & pop.on_list[people]]
        if not new.size:
            return
        self.listed[new] = True
        risk = w.crisis_rate[new]
        for person in new[np.lexsort((new, -risk))].tolist():
            self.found[int(pop.neighbourhood[person])].append(person)

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
        w.at(now + delay, self.referred[int(w.pop.neighbourhood[person])].append, person)

    def fill(self, now: float) -> None:
        """Enrol people into free places (daily, in working hours)."""
        w = self.w
        for j, cap in enumerate(self.capacity):
            while self.in_use[j] < cap:
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
                self.enrolled[person] = j
                self.in_use[j] += 1
                self.enrolments += 1
                self.level.add(now, 1)
                w.log.add(now, person, "proactive_enrolment", "proactive_care")
                review = w.params.model.proactive.review_days
                w.at(now + review, self.leave, person)

    def leave(self, person: int) -> None:
        """Leave the caseload (review ended, death, or moved to end-of-life care)."""
        j = self.enrolled.pop(person, None)
        if j is None:
            return
        now = self.w.env.now
        self.in_use[j] -= 1
        self.level.add(now, -1)
        self.w.log.add(now, person, "proactive_exit", "proactive_care")


def _engaged_practices(world: World) -> np.ndarray:
    """Which practices case-find and refer: in each area, its arrangement's share of them.

    One permutation of all practices ranks them, and each area engages the first of its own
    practices in that order, so a higher share engages a superset (common random numbers)
    and one area's share never changes another's practices.
    """
    p = world.params
    n_pr = len(p.practices)
    rank = np.empty(n_pr, dtype=np.int64)
    rank[world.streams.generator("proactive/engagement").permutation(n_pr)] = np.arange(n_pr)
    area = np.array([p.area_names.index(pr.area) for pr in p.practices])
    engaged = np.zeros(n_pr, dtype=bool)
    for k, lead in enumerate(p.area_leads):
        mine = np.flatnonzero(area == k)
        n = round(lead.gp_engagement_share * mine.size)
        engaged[mine[np.argsort(rank[mine], kind="stable")[:n]]] = True
    return engaged
