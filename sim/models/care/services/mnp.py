"""MNP services and the end of life: virtual ward, end-of-life care at home, care-home places,
deaths and place of death."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.models.care.apportion import apportion
from sim.models.care.identification import SurpriseQuestion
from sim.models.care.population import mortality_per_year
from sim.models.care.resources import Pool
from sim.models.care.schema import AGE_BANDS, FRAILTY
from sim.models.care.services.community import StayService
from sim.rng import generator

if TYPE_CHECKING:
    from sim.models.care.model import World


# Who moves into a care home from the community: 75 or older, moderately or severely frail.
OLD_AGE = AGE_BANDS.index("75-84")
FRAIL = FRAILTY.index("moderate")


class Mnp:
    """Virtual ward, end-of-life caseload, care homes and deaths for every area.

    Parameters
    ----------
    world
        Shared state (population, death times, hospital).
    """

    def __init__(self, world: World) -> None:
        self.w = world
        p = world.params
        self.virtual_ward = StayService(world, "virtual_ward", "virtual_ward_beds")
        self.eol = [Pool(c["eol_places"], world.marks) for c in p.area_capacity]
        pop = world.pop
        residents = np.bincount(world.area_of[pop.care_home], minlength=len(world.area_shares))
        override = p.capacity["care_home_beds"]
        self.care_homes = []
        override_split = apportion(max(override, 0.0), world.area_shares)
        for j in range(len(world.area_shares)):
            cap = (
                override_split[j]
                if override >= 0
                else math.ceil(residents[j] * (1 + p.model.care_home_vacancy_share))
            )
            pool = Pool(max(cap, float(residents[j])), world.marks)
            pool.in_use = int(residents[j])
            pool.level.add(0.0, int(residents[j]))
            self.care_homes.append(pool)
        # Community admissions keep each area's care-home population at its starting level
        # (see conf/model/care.yaml, care_home_refill_days). Draws are keyed by person and
        # the candidates ranked by one permutation, so scenarios share them (CRN).
        self.care_home_target = [int(r) for r in residents]
        self.refill_days = p.model.care_home_refill_days
        self.refill_u = world.streams.generator("care_home/refill_delay").standard_exponential(
            pop.size
        )
        order = world.streams.generator("care_home/community_order").permutation(pop.size)
        eligible = (
            (pop.age[order] >= OLD_AGE) & (pop.frailty[order] >= FRAIL) & ~pop.care_home[order]
        )
        ranked = order[eligible]
        self.community_queue = [
            ranked[world.area_of[ranked] == j].tolist() for j in range(len(world.area_shares))
        ]
        self.community_next = [0] * len(world.area_shares)
        self.eol_area: dict[int, int] = {}
        self.question = SurpriseQuestion(world)
        dying = np.flatnonzero(np.isfinite(pop.death_time))
        self.u_place = dict(
            zip(
                dying.tolist(),
                world.streams.generator("death/place").random(dying.size).tolist(),
                strict=True,
            )
        )
        self.places: dict[int, str] = {}
        self.new_care_home: dict[int, float] = {}
        self.phase_started: set[int] = set()
        self.deaths_brought_forward = 0
        # Deaths are simulated up to the horizon plus the end-of-life look-ahead, as drawn.
        self.death_limit = world.horizon + p.model.eol.phase_days

    # ------------------------------------------------------------------ scheduling
    def schedule(self) -> None:
        """Schedule the start of each last phase (a record of the illness) and each death."""
        w = self.w
        dies = np.flatnonzero(np.isfinite(w.pop.death_time))
        for person, start, t in zip(
            dies.tolist(),
            w.phase_start[dies].tolist(),
            w.pop.death_time[dies].tolist(),
            strict=True,
        ):
            w.at(max(start, 0.0), self._phase_start, person)
            w.at(t, self.die, person)

    def _phase_start(self, person: int) -> None:
        """Record that the last phase began; no service reads it (identification is by
        the surprise question at contacts, :meth:`contact`)."""
        if person in self.places or person in self.phase_started:
            return  # the death was brought forward (see _care_home_hazard)
        self.phase_started.add(person)
        self.w.log.add(self.w.env.now, person, "eol_phase_start", "general_practice")

    # ------------------------------------------------------------------ identification
    def contact(self, person: int, now: float) -> None:
        """An urgent contact: the surprise question, and a GP referral if it picks them out."""
        if self.question.at_contact(person, now):
            self.w.env.process(self.gp_referral(person))

    def register_reviews(self) -> Generator[simpy.Event, Any, None]:
        """Each day, the practices review the people whose turn it is (each person once every
        ``register_review_days``, on a day fixed by the stream ``eol/register_day``) and
        refer those the surprise question picks out."""
        w = self.w
        every = w.params.model.eol.register_review_days
        if not np.isfinite(every):
            return
        cohort = np.flatnonzero(self.question.cohort | w.pop.care_home)
        offset = w.streams.generator("eol/register_day").random(w.pop.size)[cohort] * every
        order = np.argsort(offset, kind="stable")
        cohort, offset = cohort[order], offset[order]
        for d in range(w.days):
            lo, hi = d % every, d % every + 1.0
            today = cohort[np.searchsorted(offset, lo) : np.searchsorted(offset, hi)]
            if today.size:
                u = w.streams.generator(f"eol/register/{d}").random(today.size)
                for person in self.question.review(today, float(d), u).tolist():
                    w.env.process(self.gp_referral(person))
            yield w.env.timeout(1.0)

    def gp_referral(self, person: int) -> Generator[simpy.Event, Any, None]:
        """The GP refers an identified person for end-of-life care, across the handoff."""
        w = self.w
        now = w.env.now
        q = self.question
        e, u = -math.log1p(-q.draw(person)), q.draw(person)
        delay, lost = w.handoffs.draw("general_practice", "eol", e, u, int(w.area_of[person]))
        w.log.add(now, person, "referral", "eol")
        yield w.env.timeout(delay)
        if lost:
            w.log.add(w.env.now, person, "referral_lost", "eol")
            return
        if person not in self.places:
            self.eol_request(person, None)

    def caseload_reviews(self, person: int) -> Generator[simpy.Event, Any, None]:
        """While on the caseload, the question is asked again at each review; people it no
        longer picks out (mostly false positives) leave, and their place is freed."""
        w = self.w
        every = w.params.model.eol.caseload_review_days
        while True:
            yield w.env.timeout(every)
            if not w.eol_enrolled[person] or person in self.places:
                return
            if not self.question.ask(person, w.env.now):
                self._leave_eol(person)
                return

    def _leave_eol(self, person: int) -> None:
        w = self.w
        now = w.env.now
        self.eol[self.eol_area.pop(person)].release(now)
        w.eol_enrolled[person] = False
        self.question.identified[person] = False
        w.log.add(now, person, "eol_exit", "eol")

    # ------------------------------------------------------------------ EoL care
    def eol_request(
        self, person: int, on_start: Callable[[float], None] | None
    ) -> tuple[Pool, list[Any]] | None:
        """Queue for a place on the end-of-life caseload (held until death)."""
        w = self.w
        now = w.env.now
        if w.eol_enrolled[person] or now >= w.pop.death_time[person]:
            if on_start is not None:
                on_start(now)
            return None
        area = int(w.area_of[person])
        pool = self.eol[area]

        def start(t: float) -> None:
            if w.eol_enrolled[person]:
                pool.release(t)
            else:
                w.eol_enrolled[person] = True
                self.eol_area[person] = area
                w.log.add(t, person, "eol_enrolment", "eol")
                w.community.proactive.leave(person)
                w.env.process(self.caseload_reviews(person))
            if on_start is not None:
                on_start(t)

        return pool, pool.request(now, start)

    # ------------------------------------------------------------------ care homes
    def care_home_request(
        self, person: int, on_start: Callable[[float], None]
    ) -> tuple[Pool, list[Any]]:
        """Queue for a care-home vacancy (held until death)."""
        w = self.w
        pool = self.care_homes[int(w.area_of[person])]

        def start(t: float) -> None:
            w.pop.care_home[person] = True
            self.new_care_home[person] = t
            self._care_home_hazard(person, t)
            w.log.add(t, person, "care_home_admission", "care_home")
            w.community.proactive.leave(person)
            on_start(t)

        return pool, pool.request(w.env.now, start)

    def _care_home_hazard(self, person: int, now: float) -> None:
        """From entry on, die at a care-home resident's rate, as the starting residents do.

        Death times are exponential, so from ``now`` the person's remaining time at their
        old rate is still exponential at that rate; adding an independent exponential time
        at the extra rate (the care-home hazard ratio minus one) and keeping the earlier of
        the two gives exactly the resident's rate. Without this, people who moved in kept a
        community resident's life expectancy, care homes stopped turning over, and the
        patients waiting in hospital for a place filled the beds (docs/reliability.md).
        The draws come from a stream named by the person, so every scenario shares them.
        """
        w = self.w
        p = w.params
        ratio = p.model.mortality.care_home_hazard_ratio
        if ratio <= 1.0:
            return
        i = np.array([person])
        per_year = mortality_per_year(p, w.pop.age[i], w.pop.frailty[i], np.array([False]))[0]
        extra = per_year * (ratio - 1.0) / 365.0
        if extra <= 0.0:
            return
        rng = generator(w.streams.seed, w.streams.replication, f"care_home/entry/{person}")
        # Five draws as before the surprise question replaced identification by death time,
        # so the death and place draws are unchanged; the other three are not used.
        e_death, _, u_place, _, _ = rng.random(5).tolist()
        t = now - math.log1p(-e_death) / extra  # an exponential time at the extra rate
        if t >= w.pop.death_time[person] or t >= self.death_limit:
            return
        if not math.isfinite(w.pop.death_time[person]):
            self.u_place[person] = u_place
        w.pop.death_time[person] = t
        self.deaths_brought_forward += 1
        # The illness from now on: the last phase begins before the new death (at once if
        # that death is less than a phase away).
        start = max(t - p.model.eol.phase_days, now)
        if start < w.phase_start[person]:
            w.phase_start[person] = start
            w.at(start, self._phase_start, person)
        w.at(t, self.die, person)

    def _refill(self, area: int) -> None:
        """Fill a place freed by a death from the community, unless a discharge took it."""
        w = self.w
        now = w.env.now
        pool = self.care_homes[area]
        if pool.in_use >= self.care_home_target[area] or pool.queue:
            return
        queue, k = self.community_queue[area], self.community_next[area]
        while k < len(queue):
            person = queue[k]
            k += 1
            if not (w.pop.care_home[person] or w.in_hospital[person]) and (
                w.pop.death_time[person] > now
            ):
                self.community_next[area] = k
                self.care_home_request(person, lambda _t: None)
                return
        self.community_next[area] = k

    # ------------------------------------------------------------------ death
    def die(self, person: int) -> None:
        """Death: place of death, and every held place is released."""
        if person in self.places:
            return  # already died: the death was brought forward (see _care_home_hazard)
        w = self.w
        now = w.env.now
        in_hospital = w.hospital.on_death(person, now)
        place = "hospital" if in_hospital else self._place(person)
        self.places[person] = place
        setting = {"hospital": "hospital", "care_home": "care_home"}.get(
            place, "eol" if w.eol_enrolled[person] else "general_practice"
        )
        w.log.add(now, person, "death", setting, place)
        if w.eol_enrolled[person]:
            self.eol[self.eol_area.pop(person)].release(now)
        if w.pop.care_home[person]:
            area = int(w.area_of[person])
            self.care_homes[area].release(now)
            if math.isfinite(self.refill_days):
                w.at(now + self.refill_days * self.refill_u[person], self._refill, area)
        w.community.proactive.leave(person)
        w.community.step_down.end(person)
        self.virtual_ward.end(person)
        w.social_care.end(person)

    def _place(self, person: int) -> str:
        """Place of death for someone not in hospital, from their setting and EoL care."""
        cfg = self.w.params.model.eol
        u = self.u_place[person]
        if self.w.pop.care_home[person]:
            row = dict(cfg.place_in_care_home)
        else:
            row = dict(cfg.place_at_home)
            if self.w.eol_enrolled[person]:
                home = min(1.0, row["home"] * cfg.enrolled_home_rate_ratio)
                rest = row["hospice"] + row["other"]
                scale = (1.0 - home) / rest if rest > 0 else 0.0
                row = {
                    "home": home,
                    "hospice": row["hospice"] * scale,
                    "other": row["other"] * scale,
                }
        acc = 0.0
        for name, p in row.items():
            acc += p
            if u < acc:
                return name
        return name
