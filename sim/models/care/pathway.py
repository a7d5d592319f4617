"""The urgent pathway as SimPy processes: one generator per episode, read top to bottom.

A candidate crisis that survives the thinning (``World.urgent_event``) starts
:func:`urgent_episode`. It follows the patient: a UCR visit, an ambulance or a walk-in to ED,
the ED clinician, the decision to admit, the wait for a bed, the length of stay, medical
fitness, the discharge route (:func:`discharge_route`: the weekend, the handoff, a lost
referral, the wait for an onward place) and onward care, then home. Every resource is an
:mod:`sim.engine` class held in a ``with`` block (or a ``try``/``finally`` for two at once),
so a death, delivered as :meth:`simpy.Process.interrupt` by ``Mnp.die``, releases whatever
the patient holds and withdraws whatever they wait for.

Each generator returns normally or ends on :class:`simpy.Interrupt`; ``World.spawn`` catches
an interrupt that nothing below handled, so only the steps with bookkeeping to close (a bed,
a place in ED) catch it themselves.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from sim.engine import Request
from sim.engine.servers import GRANTED, WAITING
from sim.models.care.demand import D
from sim.models.care.services.hospital import CRISIS, HOURS, MINOR, TERMINAL, Episode

# Where each draw sits in a candidate's row (looked up once, not per patient).
U_ROUTE, U_STEP_UP, U_AVERT, U_ADMIT, U_HANDOFF = (
    D["u_route"],
    D["u_step_up"],
    D["u_avert"],
    D["u_admit"],
    D["u_handoff"],
)
E_TRAVEL, E_VISIT, E_HANDOFF, Z_TREAT = D["e_travel"], D["e_visit"], D["e_handoff"], D["z_treat"]

if TYPE_CHECKING:
    from sim.models.care.model import World
    from sim.models.care.services.community import StayService
    from sim.models.care.services.social_care import SocialCare

Steps = Generator[simpy.Event, Any, Any]

# Outcomes of a UCR visit.
UCR_HOME, UCR_ED, UCR_STEP_UP = 0, 1, 2

DESTINATIONS = ("home", "step_down", "virtual_ward", "care_home")


def urgent_episode(w: World, person: int, kind: int, draws: list[float]) -> Steps:
    """A crisis, terminal deterioration or minor attendance that got through the thinning."""
    if kind == MINOR:
        yield from ed_attendance(w, person, MINOR, draws, ambulance=False)
        return
    now = w.env.now
    ucr = w.community.ucr
    u_route = draws[U_ROUTE]
    share = ucr.cfg.referral_share
    if ucr.eligible(person, now):
        if u_route < share:
            outcome = yield from ucr_visit(w, person, draws)
            if outcome == UCR_ED:
                yield from ed_attendance(w, person, kind, draws, ambulance=True)
            elif outcome == UCR_STEP_UP:
                yield from step_up(w, person, w.mnp.virtual_ward, draws)
            return
        u_route = (u_route - share) / (1.0 - share) if share < 1 else 1.0
    u = w.params.model.urgent
    if u_route < u.direct_admission_share:
        # GP or ambulance straight to an assessment unit: no ED attendance.
        if w.in_hospital[person]:
            return
        ep = w.hospital.open_episode(person, draws, kind == TERMINAL, math.nan)
        yield from hospital_stay(w, ep)
        return
    ambulance = draws[U_STEP_UP] < u.ambulance_share
    yield from ed_attendance(w, person, kind, draws, ambulance=ambulance)


def sent_to_ed(w: World, person: int, at: float, acuity: int, draws: list[float]) -> Steps:
    """Sent to ED by general practice: the attendance at time ``at`` (walk-in)."""
    if at > w.env.now:
        yield w.env.timeout(at - w.env.now)
    yield from ed_attendance(w, person, acuity, draws, ambulance=False)


# ---------------------------------------------------------------------- UCR
def ucr_visit(w: World, person: int, draws: list[float]) -> Steps:
    """Urgent community response: a team within ``max_wait_hours``, or escalation to ED.

    The area's whole teams and its part-time team (if any) are asked at once and the first
    to start takes the call; a call no team can reach within the window (the wait for a team
    plus the travel) is escalated at the end of that window. Returns ``UCR_HOME``,
    ``UCR_ED`` or ``UCR_STEP_UP``, when the visit ends.
    """
    env = w.env
    ucr = w.community.ucr
    cfg = ucr.cfg
    now = env.now
    travel = cfg.travel_hours_mean * draws[E_TRAVEL] * HOURS
    window = cfg.max_wait_hours * HOURS - travel
    if window < 0:  # too far for any team to arrive in time
        ucr.escalate(person, now)
        return UCR_ED
    rotas = ucr.teams[int(w.area_of[person])]
    reqs: list[Request] = [rotas[0].request(window=window)]
    try:
        if reqs[0].state != GRANTED and len(rotas) > 1:
            reqs.append(rotas[1].request(window=window))
        team = None
        while True:
            team = next((r for r in reqs if r.state == GRANTED), None)
            waiting = [r for r in reqs if r.state == WAITING]
            if team is not None or not waiting:
                break
            yield env.any_of(waiting)
        for r in reqs:
            if r is not team:
                r.resource.release(r)  # withdraw the other call
        if team is None:
            ucr.escalate(person, env.now)
            return UCR_ED
        ucr.response_times.add(now, env.now + travel - now)
        yield env.timeout(travel)
        if w.in_hospital[person]:  # admitted by another route meanwhile
            return UCR_HOME
        w.log.add(env.now, person, "ucr_response", "ucr")
        visit = cfg.visit_hours_mean * draws[E_VISIT] * HOURS
        outcome = UCR_ED
        if draws[U_AVERT] < cfg.avert_share:
            outcome = UCR_HOME
            if draws[U_STEP_UP] < cfg.step_up_share:
                w.log.add(env.now, person, "referral", "virtual_ward")
                # An urgent step-up is arranged by phone within the visit, so the boundary's
                # delay (set for planned referrals) does not apply; its loss does.
                area = int(w.area_of[person])
                _, lost = w.handoffs.draw("ucr", "virtual_ward", 0.0, draws[U_HANDOFF], area)
                if lost:
                    w.log.add(env.now, person, "referral_lost", "virtual_ward")
                else:
                    outcome = UCR_STEP_UP
        yield env.timeout(visit)
        return outcome
    finally:
        for r in reqs:
            r.resource.release(r)


def step_up(w: World, person: int, service: StayService, draws: list[float]) -> Steps:
    """A step-up from the community: wait up to ``max_wait_step_up_days`` for a place, then
    stay; a person who gives up goes to ED by ambulance."""
    if w.in_hospital[person]:
        return
    with service.ask(person, from_hospital=False) as place:
        if (yield place):
            yield from service.stay(person, place, draws)
            return
    yield from ed_attendance(w, person, CRISIS, draws, ambulance=True)


# ---------------------------------------------------------------------- ED and the bed
def ed_attendance(w: World, person: int, acuity: int, draws: list[float], ambulance: bool) -> Steps:
    """A type 1 attendance: the clinician queue, assessment, then home or a bed."""
    if w.in_hospital[person]:
        return
    env = w.env
    h = w.hospital
    log = w.log
    arrival = env.now
    log.add(arrival, person, "ed_arrival", "ed")
    if ambulance:
        log.add(arrival, person, "ambulance_conveyance", "ambulance")
    treat = h.treatment(h.treatment_mean, draws[Z_TREAT]) * HOURS
    # The decision is the patient's draw; it is read only once the assessment ends, but
    # a patient to be admitted counts as in hospital from arrival, as before the port.
    admit = draws[U_ADMIT] < h.p_admit(person, acuity)
    ep = h.open_episode(person, draws, acuity == TERMINAL, arrival) if admit else None
    area = ep.area if ep is not None else int(w.area_of[person])
    try:
        with h.ed[h.trust_of_area[area]].request() as clinician:
            yield clinician
            yield env.timeout(treat)
    except simpy.Interrupt:
        h.visits.add_type1(arrival, env.now, admit)
        if ep is not None:
            h.close_episode(ep)
        raise
    if ep is None:
        now = env.now
        h.visits.add_type1(arrival, now, False)
        log.add(now, person, "ed_departure", "ed")
        return
    yield from hospital_stay(w, ep)


def hospital_stay(w: World, ep: Episode) -> Steps:
    """Wait for a bed, stay, become medically fit and leave by :func:`discharge_route`;
    then any onward care (step-down or virtual ward)."""
    env = w.env
    h = w.hospital
    area = ep.area
    from_ed = not math.isnan(ep.ed_arrival)
    onward: tuple[StayService, Request] | None = None
    try:
        if from_ed:
            h.boarding[area].add(env.now, 1)
        with h.beds[h.trust_of_area[area]].request() as bed:
            yield bed
            h.admitted(ep, env.now, from_ed)
            if ep.terminal:
                yield env.event()  # a terminal admission stays until death
            yield env.timeout(h.length_of_stay(ep))
            onward = yield from discharge_route(w, ep)
    except simpy.Interrupt:
        h.died(ep, env.now)
        raise
    if onward is not None:
        service, place = onward
        with place:
            yield from service.stay(ep.person, place, ep.draws)


def discharge_route(w: World, ep: Episode) -> Steps:
    """From medically fit to leaving the bed: the whole discharge in one place.

    The destination (home; the surprise question's end-of-life referral; or the patient's
    discharge-to-assess pathway, :meth:`SocialCare.pathway`), the handoff to the onward
    organisation (its delay and a lost referral), the weekend (:func:`weekend`, checked when
    the patient would leave, or, for onward care, before the place is asked for) and the wait
    for the pathway's capacity: a council package (pathway 1), a virtual-ward or step-down
    place (pathways 1 and 2), or a care-home placement (pathway 3,
    :func:`care_home_placement`). Every day in the bed after medical fitness is a delayed
    discharge, counted under the reason the patient is waiting for at the time
    (``Hospital.delay_start``, ``set_reason``). Returns the onward service and the place
    granted (package, step-down or virtual ward) for :func:`hospital_stay`, or None.
    """
    env = w.env
    h = w.hospital
    person = ep.person
    now = env.now
    w.log.add(now, person, "medically_fit", "hospital")
    ep.fit = now
    ep.dest = dest = h.destination(ep)
    if dest == "home":
        yield from weekend(w, ep)
        h.discharge(ep, env.now)
        return None
    h.delay_start(ep, "handoff", now)
    delay, lost = w.handoffs.draw(
        "hospital", dest, ep.draws[E_HANDOFF], ep.draws[U_HANDOFF], ep.area
    )
    w.log.add(now, person, "referral", dest)
    yield env.timeout(delay)
    if lost:
        w.log.add(env.now, person, "referral_lost", dest)
        yield from weekend(w, ep)
        h.discharge(ep, env.now, lost=True)
        return None
    if dest == "eol":
        # Identification is uncertain, so the bed is held for the handoff only, not for a
        # place: the request joins the community waiting list and the patient goes home
        # (a held bed would wait for places that false positives also fill).
        w.mnp.refer_eol(person)
        yield from weekend(w, ep)
        h.discharge(ep, env.now)
        return None
    # The ward's side of the discharge happens before the onward place is asked for: a
    # place granted during a weekend wait would be held empty until Monday.
    yield from weekend(w, ep)
    # Handed off: from now on the patient waits for their pathway's capacity.
    h.set_reason(ep, w.social_care.waits_for(dest), env.now)
    if dest == "care_home":
        yield from care_home_placement(w, ep)
        h.discharge(ep, env.now)
        return None
    service: StayService | SocialCare
    if dest == "social_care":
        service = w.social_care
        package = service.ask(person)
        if package is None:  # readmitted during a package: home to it
            h.discharge(ep, env.now)
            return None
        place = package
    else:
        service = w.community.step_down if dest == "step_down" else w.mnp.virtual_ward
        place = service.ask(person, from_hospital=True)
    try:
        yield place
    except simpy.Interrupt:
        place.resource.release(place)
        raise
    h.discharge(ep, env.now)
    return service, place


def care_home_placement(w: World, ep: Episode) -> Steps:
    """Pathway 3: the council's brokerage arranges the placement, then a vacancy is taken.

    Waiting for a brokerage slot and for a vacancy are waits for pathway 3 capacity; the
    brokerage's own work is part of moving the patient between organisations, so it counts
    with the handoff (unlimited capacity would not remove it).
    """
    env = w.env
    h = w.hospital
    person = ep.person
    sc = w.social_care
    with sc.brokerage[ep.area].request() as slot:
        yield slot
        h.set_reason(ep, "handoff", env.now)
        yield env.timeout(sc.brokerage_days(ep.area, ep.draws))
    h.set_reason(ep, "p3", env.now)
    place = w.mnp.care_home_ask(person)
    try:
        yield place
    except simpy.Interrupt:
        place.cancel()
        raise
    w.mnp.move_in(person, place, env.now)


def weekend(w: World, ep: Episode) -> Steps:
    """A discharge that falls on a Saturday or Sunday goes ahead with the configured
    probability; otherwise the patient stays in the bed until Monday morning (a delayed
    discharge with its own reason, ``weekend``)."""
    h = w.hospital
    env = w.env
    now = env.now
    resume = h.weekend_resume(now)
    if resume is None:
        return
    before = ep.reason if ep.stage == "delayed" else None
    if before is None:
        h.delay_start(ep, "weekend", now)
    else:
        h.set_reason(ep, "weekend", now)
    try:
        yield env.timeout(resume - now)
    finally:
        if before is None:
            h.delay_end(ep, env.now)
            ep.stage = "bed"
        elif ep.stage == "delayed":
            h.set_reason(ep, before, env.now)


__all__ = [
    "DESTINATIONS",
    "care_home_placement",
    "discharge_route",
    "ed_attendance",
    "hospital_stay",
    "sent_to_ed",
    "step_up",
    "ucr_visit",
    "urgent_episode",
    "weekend",
]
