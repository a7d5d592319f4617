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

from sim.models.care import schema as s
from sim.models.care.demand import D
from sim.models.care.resources import FifoServers, Level, Pool
from sim.models.care.services.hospital import HOURS, lognormal

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
    capacity
        Places across the whole place, split across areas by population.
    """

    def __init__(self, world: World, name: str, capacity: float) -> None:
        self.w = world
        self.name = name
        self.cfg = getattr(world.params.model, name)
        self.pools = [Pool(_split(capacity, sh)) for sh in world.area_shares]
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
        key = queue_key(w.params.lead.priority_rule, from_hospital, need)
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
        if pool.withdraw(w.env.now, entry):
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
        self.pools[area].release(now)
        self.w.log.add(now, person, f"{self.name}_end", self.name)


class Ucr:
    """Urgent community response: finite teams, working hours, the 2-hour measure."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.cfg = world.params.model.ucr
        teams = world.params.capacity["ucr_teams"]
        self.teams = [
            FifoServers(
                int(min(_split(teams, sh), 10_000)), self.cfg.open_hour, self.cfg.close_hour
            )
            for sh in world.area_shares
        ]
        self.min_age = s.AGE_BANDS.index(self.cfg.min_age_band)
        self.response_times: list[tuple[float, float]] = []  # (referral time, response delay)
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
        teams = self.teams[w.area_of[person]]
        travel = self.cfg.travel_hours_mean * draws[D["e_travel"]] * HOURS
        start = teams.earliest_start(now)
        if start + travel - now > self.cfg.max_wait_hours * HOURS:
            self.escalated += 1
            w.log.add(now, person, "ucr_escalated", "ucr")
            return False
        visit = self.cfg.visit_hours_mean * draws[D["e_visit"]] * HOURS
        teams.take(now, travel + visit)
        arrive = start + travel
        self.response_times.append((now, arrive - now))
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
                w.mnp.virtual_ward.request(person, now + visit, draws, False, None)
            return
        w.at(now + visit, w.hospital.ed_arrival, person, now + visit, acuity, draws, True)


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
        total = p.capacity["proactive_places"]
        self.capacity = [_split(total, x / pop.size) for x in nb_pop]
        self.in_use = [0] * n_nb
        self.level = Level()
        self.enrolled: dict[int, int] = {}
        rng = world.streams.generator("proactive/engagement")
        n_pr = len(p.practices)
        engaged_n = round(p.lead.gp_engagement_share * n_pr)
        self.engaged = np.zeros(n_pr, dtype=bool)
        self.engaged[rng.permutation(n_pr)[:engaged_n]] = True
        analytics_per_head = p.budget_spend_gbp_per_year["analytics"] / max(p.population, 1)
        coverage = min(
            1.0, cfg.base_case_finding + cfg.analytics_uplift_per_gbp_head * analytics_per_head
        )
        self.eligible = (
            (pop.frailty >= s.FRAILTY.index(cfg.min_frailty)) | (pop.ltc >= cfg.min_ltc)
        ) & ~pop.care_home
        found = (
            self.eligible
            & self.engaged[pop.practice]
            & (world.streams.generator("proactive/case_finding").random(pop.size) < coverage)
        )
        risk = world.crisis_rate
        ids = np.flatnonzero(found)
        ids = ids[np.lexsort((ids, -risk[ids]))]
        self.found = [deque(ids[pop.neighbourhood[ids] == j].tolist()) for j in range(n_nb)]
        self.referred: list[deque[int]] = [deque() for _ in range(n_nb)]
        self.enrolments = 0

    def refer(self, person: int, now: float, e: float, u: float) -> None:
        """A GP referral for proactive care, through the GP-to-SNP handoff."""
        w = self.w
        if not self.eligible[person] or not self.engaged[w.pop.practice[person]]:
            return
        w.log.add(now, person, "referral", "proactive_care")
        delay, lost = w.handoffs.draw("general_practice", "proactive_care", e, u)
        if lost:
            w.log.add(now + delay, person, "referral_lost", "proactive_care")
            return
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


def _split(total: float, share: float) -> float:
    return math.inf if math.isinf(total) else float(round(total * share))
