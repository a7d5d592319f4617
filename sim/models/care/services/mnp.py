"""MNP services and the end of life: virtual ward, end-of-life care at home, care-home places,
deaths and place of death.

End-of-life care is a process per person (:meth:`Mnp.eol_care`: the wait for a place, then
reviews until death or exit); care-home places are :class:`~sim.engine.Caseload` places held
from moving in until death; a death interrupts every process of the person
(``World.interrupt``), whose ``with`` blocks free what they hold."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.engine import Caseload, Level, Request
from sim.models.care.apportion import apportion
from sim.models.care.identification import SurpriseQuestion
from sim.models.care.population import mortality_per_year
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
        env = world.env
        self.eol = [
            Caseload(env, c["eol_places"], warm_up=world.warm_up, level=Level(world.marks))
            for c in p.area_capacity
        ]
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
            pool = Caseload(
                env, max(cap, float(residents[j])), warm_up=world.warm_up, level=Level(world.marks)
            )
            self.care_homes.append(pool)
        # The starting residents hold their places from time 0 until they die.
        self.resident: dict[int, Request] = {
            person: self.care_homes[int(world.area_of[person])].enrol()
            for person in np.flatnonzero(pop.care_home).tolist()
        }
        # Community admissions keep each area's care-home population at its starting level
        # (see conf/model/care.yaml, care_home_refill_days). Draws are keyed by person and
        # the candidates ranked by one permutation, so scenarios share them (CRN).
        self.care_home_target = [int(r) for r in residents]
        self.refill_days = p.model.care_home_refill_days
        self.refill_u = world.streams.generator("care_home/refill_delay").standard_exponential(
            pop.size
        )
        # Everyone has a place in one random order (per area); a vacancy goes to the first
        # person in it who is eligible when it arises (old and frail *then*, at home, alive
        # and registered). Eligibility is read at the time: a list fixed at the start ran
        # out as its people died, and the care homes emptied over five years.
        order = world.streams.generator("care_home/community_order").permutation(pop.size)
        self.community_order = [
            order[world.area_of[order] == j] for j in range(len(world.area_shares))
        ]
        self.moving_in = np.zeros(pop.size, dtype=bool)  # chosen, waiting for the place
        self.eol_area: dict[int, int] = {}
        # Who waits for an end-of-life place, and how many do, for the daily series: the
        # list is reviewed like the caseload (eol_care).
        self.eol_waiting: set[int] = set()
        self.eol_referring: set[int] = set()  # a GP referral on its way across the handoff
        self.eol_waiting_level = Level(world.marks)
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
            self.w.spawn(person, self.gp_referral(person))

    def register_reviews(self) -> Generator[simpy.Event, Any, None]:
        """Each day, the practices review the people whose turn it is (each person once every
        ``register_review_days``, on a day fixed by the stream ``eol/register_day``) and
        refer those the surprise question picks out."""
        w = self.w
        every = w.params.model.eol.register_review_days
        if not np.isfinite(every):
            return
        # Everyone has a review day; whether they are reviewed is decided on it, from who
        # is on the list and in the asked cohort then (people age and become frail).
        offset = w.streams.generator("eol/register_day").random(w.pop.size) * every
        order = np.argsort(offset, kind="stable")
        people, offset = order, offset[order]
        for d in range(w.days):
            lo, hi = d % every, d % every + 1.0
            today = people[np.searchsorted(offset, lo) : np.searchsorted(offset, hi)]
            today = today[w.pop.on_list[today]]
            if today.size:
                u = w.streams.generator(f"eol/register/{d}").random(today.size)
                for person in self.question.review(today, float(d), u).tolist():
                    w.spawn(person, self.gp_referral(person))
                # People on the register whom no team has taken on, because their referral
                # was lost, are asked again: still picked out, they are referred again.
                stale = self._unreferred(today, float(d))
                again = self.question.review_register(today[stale], float(d), u[stale])
                for person in again.tolist():
                    w.spawn(person, self.gp_referral(person))
            yield w.env.timeout(1.0)

    def _unreferred(self, people: np.ndarray, now: float) -> np.ndarray:
        """Mask of ``people`` on the register, alive, with no referral on its way, not
        waiting for a place and not on the caseload."""
        w = self.w
        mask = (
            self.question.identified[people]
            & ~w.eol_enrolled[people]
            & (w.pop.death_time[people] > now)
        )
        busy = self.eol_waiting | self.eol_referring
        if busy and mask.any():
            mask &= ~np.isin(people, np.fromiter(busy, np.int64, len(busy)))
        return mask

    def gp_referral(self, person: int) -> Generator[simpy.Event, Any, None]:
        """The GP refers an identified person for end-of-life care, across the handoff."""
        w = self.w
        now = w.env.now
        q = self.question
        e, u = -math.log1p(-q.draw(person)), q.draw(person)
        delay, lost = w.handoffs.draw("general_practice", "eol", e, u, int(w.area_of[person]))
        w.log.add(now, person, "referral", "eol")
        self.eol_referring.add(person)
        try:
            yield w.env.timeout(delay)
        finally:
            self.eol_referring.discard(person)
        if lost:
            w.log.add(w.env.now, person, "referral_lost", "eol")
            return
        if person not in self.places:
            yield from self.eol_care(person)

    # ------------------------------------------------------------------ EoL care
    def refer_eol(self, person: int) -> None:
        """A referral for end-of-life care reached the team: start the person's care."""
        self.w.spawn(person, self.eol_care(person))

    def eol_care(self, person: int) -> Generator[simpy.Event, Any, None]:
        """End-of-life care: wait for a place on the caseload, then hold it until death.

        The surprise question is asked again at each caseload review
        (``caseload_review_days``), of the people waiting for a place as well as of those
        holding one: people it no longer picks out (mostly false positives) come off the register,
        and leave the waiting list or the caseload. A person waits once, however many
        referrals reach the team. Without the review of the waiting list, people picked out
        wrongly waited for a place until they died, years later: with the caseload full,
        the people on the register but not the caseload grew by about 200 a year at 250,000
        people and took ever more patients out of the discharge pathways (docs/model.md)."""
        w = self.w
        if (
            w.eol_enrolled[person]
            or person in self.eol_waiting
            or w.env.now >= w.pop.death_time[person]
        ):
            return
        area = int(w.area_of[person])
        every = w.params.model.eol.caseload_review_days
        waiting = self.eol_waiting_level
        with self.eol[area].enrol() as place:
            self.eol_waiting.add(person)
            waiting.add(w.env.now, 1.0)
            try:
                while not place.triggered:
                    yield place | w.env.timeout(every)
                    if not place.triggered and not self.question.ask(person, w.env.now):
                        self._off_register(person, "eol_removed")
                        return  # leaving the block withdraws the request
            finally:
                self.eol_waiting.discard(person)
                waiting.add(w.env.now, -1.0)
            if w.eol_enrolled[person]:
                return  # enrolled by a route that bypasses the list: one place only
            w.eol_enrolled[person] = True
            self.eol_area[person] = area
            w.log.add(w.env.now, person, "eol_enrolment", "eol")
            w.community.proactive.leave(person)
            try:
                while True:
                    yield w.env.timeout(every)
                    if not self.question.ask(person, w.env.now):
                        break
            except simpy.Interrupt:
                self.eol_area.pop(person, None)  # died on the caseload
                raise
            self.eol_area.pop(person, None)
            w.eol_enrolled[person] = False
            self._off_register(person, "eol_exit")

    def _off_register(self, person: int, event: str) -> None:
        """The surprise question no longer picks the person out: off the register."""
        self.question.identified[person] = False
        self.w.log.add(self.w.env.now, person, event, "eol")

    # ------------------------------------------------------------------ care homes
    def care_home_ask(self, person: int) -> Request:
        """Queue for a care-home vacancy in the person's area."""
        return self.care_homes[int(self.w.area_of[person])].enrol()

    def move_in(self, person: int, place: Request, now: float) -> None:
        """The vacancy is granted: the person is a resident, holding it until death."""
        w = self.w
        if person in self.resident:  # two requests granted: keep one place only
            self.care_homes[int(w.area_of[person])].discharge(place)
            return
        self.resident[person] = place
        w.pop.care_home[person] = True
        self._care_home_hazard(person, now)
        w.log.add(now, person, "care_home_admission", "care_home")
        w.community.proactive.leave(person)

    def _move_from_community(self, person: int) -> Generator[simpy.Event, Any, None]:
        """A move into a care home from the community, when a vacancy is granted."""
        place = self.care_home_ask(person)
        try:
            yield place
        except simpy.Interrupt:
            place.cancel()
            raise
        self.move_in(person, place, self.w.env.now)

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
        if pool.busy >= self.care_home_target[area] or pool.waiting:
            return
        person = self._first_eligible(area, now)
        if person >= 0:
            self.moving_in[person] = True
            w.spawn(person, self._move_from_community(person))

    def _first_eligible(self, area: int, now: float, chunk: int = 4096) -> int:
        """The first person in the area's order who could move into a care home now, or -1.

        Scanned a chunk at a time: about one person in thirty is old and frail, so the
        first chunk nearly always holds one."""
        w, pop = self.w, self.w.pop
        ranked = self.community_order[area]
        for lo in range(0, ranked.size, chunk):
            who = ranked[lo : lo + chunk]
            ok = (
                (pop.age[who] >= OLD_AGE)
                & (pop.frailty[who] >= FRAIL)
                & ~pop.care_home[who]
                & ~self.moving_in[who]
                & ~w.in_hospital[who]
                & pop.on_list[who]
                & (pop.death_time[who] > now)
            )
            hit = np.flatnonzero(ok)
            if hit.size:
                return int(who[hit[0]])
        return -1

    # ------------------------------------------------------------------ death
    def die(self, person: int) -> None:
        """Death: place of death, and every held place is released."""
        if person in self.places:
            return  # already died: the death was brought forward (see _care_home_hazard)
        w = self.w
        now = w.env.now
        # In a bed, or in ED waiting for one: the hospital episode closes when its process
        # receives the interrupt below (at this same time).
        in_hospital = bool(w.in_hospital[person])
        place = "hospital" if in_hospital else self._place(person)
        self.places[person] = place
        setting = {"hospital": "hospital", "care_home": "care_home"}.get(
            place, "eol" if w.eol_enrolled[person] else "general_practice"
        )
        w.log.add(now, person, "death", setting, place)
        held = self.resident.pop(person, None)
        if held is not None:
            area = int(w.area_of[person])
            self.care_homes[area].discharge(held)
            if math.isfinite(self.refill_days):
                w.at(now + self.refill_days * self.refill_u[person], self._refill, area)
        w.community.proactive.leave(person)
        # Every process of the person (hospital stay, onward care, EoL care, a UCR visit,
        # a wait for a place) ends here, freeing what it holds.
        w.interrupt(person)

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
