"""General practice: the appointment book, processed in daily batches with numpy.

Requests are generated for the whole run at once (a Poisson count per person from their
demand rate, each on a day drawn by the day-of-week weights ``request_day_weights``).
Practices work on working days only (Monday to Friday, :mod:`sim.models.care.calendar`).
Each day, same-day requests take same-day slots in random order up to each practice's
capacity (none on a weekend), and the rest overflow to NHS 111, a UTC, ED or self-care by
configured shares. Routine requests are booked into the earliest working day, on or after the
day the patient wants, with a free routine slot; the whole day's bookings across all practices
are placed in one vectorised pass (see :func:`book`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.models.care import life_course
from sim.models.care import schema as s
from sim.models.care.acuity import Acuity
from sim.models.care.calendar import from_params
from sim.models.care.demand import draw_matrix, event_times
from sim.models.care.practices import workforce
from sim.models.care.tallies import AppointmentTally

if TYPE_CHECKING:
    from sim.models.care.model import World

ROLES = workforce.ROLES


def demand_per_year(world: World) -> np.ndarray:
    """Each person's appointment requests per year."""
    pop = world.pop
    return demand_rate(world, pop.age, pop.frailty, pop.ltc)


def demand_rate(world: World, age: np.ndarray, frailty: np.ndarray, ltc: np.ndarray) -> np.ndarray:
    """Appointment requests per year for the given attributes (people or life-course spells)."""
    g = world.params.model.general_practice
    base = np.array([g.demand_per_person_year[b] for b in s.AGE_BANDS])[age]
    frail = np.array([g.demand_frailty_multiplier[f] for f in s.FRAILTY])[frailty]
    return base * frail * (1.0 + g.demand_per_ltc * ltc) * g.demand_scale


def book(free: np.ndarray, practice: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Earliest-fit booking of many requests at once.

    Parameters
    ----------
    free
        Free slots, shape (practices, window): ``free[p, k]`` on the k-th bookable day.
    practice, offset
        Each request's practice and earliest acceptable day (index into the window).

    Returns
    -------
    numpy.ndarray
        The booked day index of each request (``window`` where none is free), in the order
        given. Requests are served in order of (practice, earliest day), as a sequential
        earliest-fit would; the slot list carries, per practice, one sentinel per request so
        one practice's overflow never spills into the next.
    """
    n_pr, window = free.shape
    width = window + 1
    counts = np.zeros((n_pr, width), dtype=np.int64)
    counts[:, :window] = free
    counts[:, window] = np.bincount(practice, minlength=n_pr)
    slot_key = np.repeat(np.arange(n_pr * width), counts.ravel())
    key = practice.astype(np.int64) * width + offset
    # A stable sort gives the same order whatever the dtype; on 16-bit keys numpy uses its
    # linear-time radix sort (a quarter of the time on a day's requests).
    order = np.argsort(key.astype(np.uint16) if n_pr * width < 2**16 else key, kind="stable")
    k = key[order]
    first = np.searchsorted(slot_key, k, side="left")
    i = np.arange(k.size)
    j = i + np.maximum.accumulate(first - i)
    booked = np.empty(k.size, dtype=np.int64)
    booked[order] = slot_key[j] % width
    return booked


def request_days(
    rng: np.random.Generator, n: int, weights: list[float], day_of_week: np.ndarray
) -> np.ndarray:
    """Days of ``n`` requests, each day weighted by its day of the week (Monday first).

    When every day with a weight has the same weight (the default: Monday to Friday), the day
    is a uniform integer over those days: 32-bit draws, the same numbers as numpy's default
    64-bit ones in half the memory, which matters on long runs of large places.
    """
    w = np.asarray(weights, dtype=float)[day_of_week]
    days = np.flatnonzero(w > 0).astype(np.int32)
    if not days.size or not n:
        return np.zeros(0 if not days.size else n, np.int32)
    if np.all(w[days] == w[days[0]]):
        day = rng.integers(0, days.size, n, dtype=np.int32)
        np.take(days, day, out=day)
        return day
    cdf = np.cumsum(w[days])
    idx = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right").clip(max=days.size - 1)
    return days[idx]


class GeneralPractice:
    """All practices' appointment books.

    Parameters
    ----------
    world
        Shared state; reads the population, the practices' workforce and continuity.
    horizon_days
        Days simulated.
    """

    def __init__(self, world: World, horizon_days: int) -> None:
        self.w = world
        p = world.params
        g = p.model.general_practice
        self.g = g
        pop = world.pop
        self.window = g.booking_window_days
        days = horizon_days
        # Appointments a working day come from each practice's workforce in sessions
        # (sim/models/care/practices/workforce.py); a capacity override of
        # gp_appointments_per_1000 scales every practice's slots alike.
        nominal = workforce.nominal_per_1000_per_weekday(p.model.practices.workforce)
        self.scale = p.capacity["gp_appointments_per_1000"] / nominal if nominal > 0 else 0.0
        cal = from_params(p)
        # Appointments on working days only: weekends have no routine or same-day slots.
        self.working = cal.is_working_day(np.arange(days + self.window + 1))
        self.free = np.zeros((len(p.practices), self.working.size), dtype=np.int64)
        self.routine_cap = np.zeros(len(p.practices), dtype=np.int64)
        self.set_capacity(
            -1, workforce.slots_per_weekday(p.model.practices.workforce, world.practices.wf)
        )
        self.outcome_cdf = np.cumsum(
            [g.outcome_shares[k] for k in ("resolved", "snp", "outpatients", "ed")]
        )

        rng = world.streams.generator("gp/demand")
        # Requests follow each person's life course (ageing, frailty, joining, moving away):
        # drawn at their highest rate over it, then thinned to the rate of the day's spell.
        seg = pop.spells
        spell_rate = demand_rate(world, seg.age, seg.frailty, seg.ltc)
        top = life_course.max_per_person(pop, spell_rate)
        counts = rng.poisson(top * days / 365.0)
        person = np.repeat(np.arange(pop.size, dtype=np.int32), counts)
        # Drawn for the whole run at once, so every scenario sees the same requests (common
        # random numbers).
        day = request_days(
            rng, person.size, g.request_day_weights, cal.day_of_week(np.arange(days))
        )
        # The stream, not its uniforms: they are drawn in blocks (the same numbers), and the
        # days are compared as they are, so no run-long float copies are made (memory).
        u = world.streams.generator("gp/demand_course")
        keep = life_course.keep_by_course(pop, spell_rate, top, person, day, u)
        person, day = person[keep], day[keep]
        self.req_day_start = np.concatenate([[0], np.cumsum(np.bincount(day, minlength=days))])
        # numpy sorts 16-bit keys with a linear-time radix sort; the stable order of equal
        # keys is the same whatever the dtype, so results do not change.
        key = day.astype(np.uint16) if days < 2**16 else day
        del day
        order = np.argsort(key, kind="stable")
        del key
        self.req_person = person[order]
        del person, order
        self.bookings: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.appointments = AppointmentTally(world.warm_up, world.area_of, len(p.area_names))
        self.unmet_same_day = 0
        self.unbooked_routine = 0
        self.overflow_counts = dict.fromkeys(g.overflow_shares, 0)
        self.overflow_post = dict.fromkeys(g.overflow_shares, 0)

    def set_capacity(self, day: int, slots: np.ndarray) -> None:
        """Each practice's appointments a working day by role from the day after ``day``
        (``slots``: practices x roles). Slots already booked stay booked; a practice whose
        routine capacity falls has fewer free slots on the days still open, down to none."""
        per_day = slots.sum(axis=1) * self.scale
        self.same_day_cap = np.round(per_day * self.g.same_day_capacity_share).astype(np.int64)
        routine = np.round(per_day).astype(np.int64) - self.same_day_cap
        change = routine - self.routine_cap
        if change.any():
            ahead = self.free[:, day + 1 :]
            ahead += np.outer(change, self.working[day + 1 :])
            np.maximum(ahead, 0, out=ahead)
        self.routine_cap = routine
        cdf = np.cumsum(slots, axis=1)
        total = cdf[:, -1:]
        # A practice with no appointments keeps a GP-only mix (it books none anyway).
        self.role_cdf = np.where(total > 0, cdf / np.where(total > 0, total, 1.0), 1.0)

    # ------------------------------------------------------------------ one day
    def day(self, d: int) -> None:
        """Take the day's requests, book them, and hold the day's appointments."""
        w = self.w
        g = self.g
        pop = w.pop
        if d + 1 < self.req_day_start.size:
            lo, hi = self.req_day_start[d], self.req_day_start[d + 1]
        else:
            lo = hi = 0
        person = self.req_person[lo:hi]
        rng = w.streams.generator("gp/requests")
        u = rng.random((person.size, 3))
        lead_e = rng.standard_exponential(person.size)
        ok = (pop.death_time[person] > d) & ~w.in_hospital[person] & pop.on_list[person]
        same = ok & (u[:, 0] < g.same_day_request_share)
        routine = ok & ~same

        # Same day: random order within practice, up to same-day capacity.
        sd = np.flatnonzero(same)
        pr = pop.practice[person[sd]]
        order = np.lexsort((u[sd, 1], pr))
        sd, pr = sd[order], pr[order]
        start = np.searchsorted(pr, pr, side="left")
        rank = np.arange(sd.size) - start
        served = rank < self.same_day_cap[pr] * int(self.working[d])
        seen_today = person[sd[served]]
        self._overflow(d, person[sd[~served]], u[sd[~served], 2])

        # Routine: earliest day with a free slot, on or after the day wanted.
        rt = np.flatnonzero(routine)
        if rt.size and self.window > 0:
            asap = u[rt, 1] < g.routine_asap_share
            lead = np.where(asap, 1, 1 + np.floor(lead_e[rt] * g.routine_planned_lead_mean_days))
            offset = np.minimum(lead - 1, self.window - 1).astype(np.int64)
            prr = pop.practice[person[rt]].astype(np.int64)
            free = self.free[:, d + 1 : d + 1 + self.window]
            booked = book(free, prr, offset)
            ok_b = booked < self.window
            booked = booked[ok_b]
            # Slots taken, as one count per (practice, day of the window): np.subtract.at on
            # the booked pairs gave the same numbers at several times the cost.
            n_pr = self.free.shape[0]
            free -= np.bincount(
                prr[ok_b] * self.window + booked, minlength=n_pr * self.window
            ).reshape(n_pr, self.window)
            self.unbooked_routine += int(ok_b.size - booked.size)
            if booked.size:
                # Each booked day's people in the order booked: a stable sort by day, split
                # (a mask per day of the window cost a pass over the day's requests each).
                who = person[rt[ok_b]]
                by_day = np.argsort(
                    booked.astype(np.uint16) if self.window < 2**16 else booked, kind="stable"
                )
                booked, who = booked[by_day], who[by_day]
                cut = np.flatnonzero(np.diff(booked)) + 1
                days = (d + 1 + booked[np.r_[0, cut]]).tolist()
                for b, people in zip(days, np.split(who, cut), strict=True):
                    self.bookings.setdefault(b, []).append((people, np.full(people.size, d)))

        # Today's appointments: same-day plus routine booked for today.
        parts = self.bookings.pop(d, [])
        who = np.concatenate([seen_today, *[x[0] for x in parts]]).astype(np.int64)
        booked_on = np.concatenate([np.full(seen_today.size, d), *[x[1] for x in parts]])
        attend = (pop.death_time[who] > d) & ~w.in_hospital[who] & pop.on_list[who]
        who, booked_on = who[attend], booked_on[attend]
        if who.size:
            self._hold(d, who, (d - booked_on).astype(np.int16))

    def _hold(self, d: int, who: np.ndarray, wait: np.ndarray) -> None:
        w = self.w
        rng = w.streams.generator("gp/outcomes")
        u = rng.random((who.size, 3))
        practice = w.pop.practice[who]
        cdf = self.role_cdf[practice]
        role = ((u[:, 0] >= cdf[:, 0]).astype(np.int8) + (u[:, 0] >= cdf[:, 1])).astype(np.int8)
        gp = role == 0
        usual = gp & (u[:, 1] < w.practices.usual_probability(d, who, practice))
        self.appointments.add(d, who, wait, role, usual)
        w.practices.record(practice, wait, gp, usual)
        times = d + (8.0 + rng.random(who.size) * 10.5) / 24.0
        w.log.add_many(times, who, "gp_appointment", "general_practice")
        outcome = np.searchsorted(self.outcome_cdf, u[:, 2], side="right")
        snp = np.flatnonzero(outcome == 1)
        if snp.size:
            ho = rng.random((snp.size, 2))
            # Only people proactive care would take are referred (Proactive.refer checks
            # the same again); the others are passed over here, not one call each.
            proactive = w.community.proactive
            to = who[snp]
            takes = proactive.eligible[to] & proactive.engaged[w.pop.practice[to]]
            for i in np.flatnonzero(takes).tolist():
                k = int(snp[i])
                proactive.refer(
                    int(who[k]), float(times[k]), -math.log1p(-ho[i, 0]), float(ho[i, 1])
                )
        op = np.flatnonzero(outcome == 2)
        w.log.add_many(times[op], who[op], "outpatient_referral", "outpatients")
        ed = np.flatnonzero(outcome == 3)
        self._to_ed(who[ed], times[ed] + 1.0 / 24.0, rng, acuity=Acuity.CRISIS)

    def _to_ed(
        self, who: np.ndarray, times: np.ndarray, rng: np.random.Generator, acuity: int
    ) -> None:
        from sim.models.care.pathway import sent_to_ed

        w = self.w
        draws = draw_matrix(rng, who.size)
        for k in range(who.size):
            person = int(who[k])
            w.spawn(person, sent_to_ed(w, person, float(times[k]), acuity, draws[k].tolist()))

    def _overflow(self, d: int, who: np.ndarray, u: np.ndarray) -> None:
        """Same-day need the practice could not meet goes elsewhere by configured shares."""
        w = self.w
        if not who.size:
            return
        g = self.g
        rng = w.streams.generator("gp/overflow")
        times = event_times(
            rng, who.size, np.full(who.size, float(d)), np.full(who.size, d + 1.0), _office_hours()
        )
        self.unmet_same_day += who.size
        w.log.add_many(times, who, "gp_same_day_unmet", "general_practice")
        names = ("nhs111", "utc", "ed", "self_care")
        route = np.searchsorted(
            np.cumsum([g.overflow_shares[k] for k in names]), u, side="right"
        ).clip(max=3)
        post = d >= w.warm_up
        for i, name in enumerate(names):
            n = int((route == i).sum())
            self.overflow_counts[name] += n
            if post:
                self.overflow_post[name] += n
        sel = route == 0
        w.log.add_many(times[sel], who[sel], "nhs111_contact", "nhs111")
        sel = route == 1
        w.hospital.utc_visits(who[sel], times[sel], rng.standard_normal(int(sel.sum())))
        sel = route == 2
        self._to_ed(who[sel], times[sel], rng, acuity=Acuity.MINOR)


def _office_hours() -> np.ndarray:
    w = np.zeros(24)
    w[8:18] = 1.0
    return w
