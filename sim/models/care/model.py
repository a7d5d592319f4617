"""Compose the care model and run one replication.

The SimPy environment drives two processes only: a daily tick (general practice's batch,
proactive case-finding) and one walk through the pre-generated urgent events. Everything
else is a callback scheduled on a timeout, so no process sits idle for a person.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import simpy

from sim.engine.monitor import Marks
from sim.models.base import OutputParams, ReplicationResult, RunParams
from sim.models.care import demand, population
from sim.models.care.acuity import Acuity
from sim.models.care.after_discharge import AfterDischarge
from sim.models.care.demand import D
from sim.models.care.handoffs import Handoffs
from sim.models.care.params import CareParams
from sim.models.care.records import EventLog, event_table
from sim.models.care.services import hospital as hosp
from sim.models.care.services.community import Proactive, StayService, Ucr
from sim.models.care.services.general_practice import GeneralPractice
from sim.models.care.services.mnp import Mnp
from sim.models.care.services.social_care import SocialCare
from sim.models.care.tallies import EventTally
from sim.rng import Streams


class Community:
    """The SNP services of every area."""

    def __init__(self, world: World) -> None:
        self.proactive = Proactive(world)
        self.ucr = Ucr(world)
        self.step_down = StayService(world, "step_down", "step_down_places")


class World:
    """The state of one replication, shared by the services.

    Parameters
    ----------
    params
        Validated care-model parameters.
    run
        Run settings (seed, horizon, warm-up).
    replication
        Replication index.
    keep_log
        Keep every event for the event-log table (``output.event_log``); the KPIs need
        only the running tallies.
    """

    def __init__(
        self, params: CareParams, run: RunParams, replication: int, keep_log: bool = False
    ) -> None:
        self.params = params
        self.horizon = run.horizon
        self.warm_up = run.warm_up
        self.days = int(math.ceil(run.horizon))
        self.marks = Marks(self.days, run.warm_up, run.horizon)
        self.streams = Streams(run.seed, replication)
        self.env = simpy.Environment()
        self.pop = population.generate(params, self.streams, run.horizon)
        areas = list(params.place.areas)
        area_of_nb = np.array([areas.index(a) for a in params.neighbourhood_areas])
        self.area_of = area_of_nb[self.pop.neighbourhood]
        counts = np.bincount(self.area_of, minlength=len(areas))
        self.area_shares = (counts / counts.sum()).tolist()
        # The start of each person's last phase of life: part of their illness (it raises
        # their crisis rate), read by services only through the surprise question's noisy
        # answer (sim/models/care/identification.py), never through the death time.
        self.phase_start = self.pop.death_time - params.model.eol.phase_days
        self.in_hospital = np.zeros(self.pop.size, dtype=bool)
        self.eol_enrolled = np.zeros(self.pop.size, dtype=bool)
        self.log = EventLog(
            EventTally(
                run.warm_up,
                run.horizon,
                self.days,
                self.area_of,
                self.pop.quintile,
                self.pop.death_time,
            ),
            keep=keep_log,
            horizon=run.horizon,
        )
        self.handoffs = Handoffs(params)
        # Each person's raised risk after an emergency discharge (their past only).
        self.after = AfterDischarge(
            params.model.after_discharge,
            self.pop.size,
            run.warm_up,
            run.horizon,
            self.pop.quintile,
        )
        self.crisis_rate = demand.crisis_rate_per_year(params, self.pop)
        self.hospital = hosp.Hospital(self)
        self.social_care = SocialCare(self)
        self.community = Community(self)
        self.mnp = Mnp(self)
        self.gp = GeneralPractice(self, self.days)
        u = params.model.urgent
        g = params.model.general_practice
        # Crisis-rate multiplier from each area's continuity (1 at the reference continuity).
        self.continuity_multiplier = [
            max(
                0.0,
                1.0
                + u.continuity_effect_per_0_2_upc
                / 0.2
                * (lead.continuity - g.continuity_reference),
            )
            for lead in params.area_leads
        ]
        self.crises = 0
        self.scheduled = 0

    # ------------------------------------------------------------------ helpers
    def at(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` at absolute time ``t`` (not before now)."""
        ev = self.env.timeout(max(0.0, t - self.env.now))
        ev.callbacks.append(lambda _e: fn(*args))
        self.scheduled += 1

    def onward_request(
        self,
        person: int,
        dest: str,
        now: float,
        draws: list[float],
        from_hospital: bool,
        on_start: Callable[[float], None],
    ) -> tuple[Any, Any] | None:
        """Ask the onward service ``dest`` for a place; ``on_start`` runs when it starts."""
        if dest == "step_down":
            return self.community.step_down.request(person, now, draws, from_hospital, on_start)
        if dest == "virtual_ward":
            return self.mnp.virtual_ward.request(person, now, draws, from_hospital, on_start)
        if dest == "eol":
            return self.mnp.eol_request(person, on_start)
        if dest == "social_care":
            return self.social_care.request(person, now, draws, on_start)
        if dest == "care_home" and from_hospital:
            return self.social_care.care_home(person, now, draws, on_start)
        return self.mnp.care_home_request(person, on_start)

    def onward_withdraw(self, handle: tuple[Any, Any] | None) -> None:
        """Withdraw a waiting onward request (the patient died)."""
        if handle is not None:
            handle[0].withdraw(handle[1])

    # ------------------------------------------------------------------ processes
    def daily(self) -> Generator[simpy.Event, Any, None]:
        """Each day: the practices' appointment books and proactive case-finding."""
        for d in range(self.days):
            self.gp.day(d)
            self.community.proactive.fill(float(d))
            yield self.env.timeout(1.0)

    def urgent(self, cands: demand.Candidates) -> Generator[simpy.Event, Any, None]:
        """Walk through the candidate urgent events in time order."""
        env = self.env
        times = cands.time.tolist()
        persons = cands.person.tolist()
        kinds = cands.kind.tolist()
        for k, t in enumerate(times):
            if t >= self.horizon:
                break
            if t > env.now:
                yield env.timeout(t - env.now)
            self.urgent_event(persons[k], t, kinds[k], cands.draws[k])

    def urgent_event(self, person: int, now: float, kind: int, row: np.ndarray) -> None:
        """One candidate crisis, terminal deterioration or minor attendance."""
        if now >= self.pop.death_time[person] or self.in_hospital[person]:
            return
        draws = row.tolist()
        if kind == Acuity.MINOR:
            self.hospital.ed_arrival(person, now, Acuity.MINOR, draws, ambulance=False)
            return
        factor = 1.0
        if self.community.proactive.enrolled.get(person) is not None:
            factor *= self.params.model.proactive.crisis_rate_ratio
        if self.eol_enrolled[person]:
            factor *= self.params.model.eol.enrolled_crisis_rate_ratio
        if kind == Acuity.CRISIS:
            factor *= (
                self.continuity_multiplier[self.area_of[person]]
                * self.after.ratio(person, now)
                / self.params.model.urgent.headroom
            )
        if draws[D["u_accept"]] >= factor:
            return
        self.crises += 1
        self.log.add(now, person, "crisis", "general_practice")
        self.mnp.contact(person, now)  # the surprise question, asked by whoever responds
        acuity = kind  # the candidate's kind is its acuity (Acuity codes)
        ucr = self.community.ucr
        u_route = draws[D["u_route"]]
        share = self.params.model.ucr.referral_share
        if ucr.eligible(person, now):
            if u_route < share:
                if not ucr.respond(person, now, draws, acuity):
                    self.hospital.ed_arrival(person, now, acuity, draws, ambulance=True)
                return
            u_route = (u_route - share) / (1.0 - share) if share < 1 else 1.0
        u = self.params.model.urgent
        if u_route < u.direct_admission_share:
            self.hospital.direct_admission(person, now, draws, kind == Acuity.TERMINAL)
            return
        ambulance = draws[D["u_step_up"]] < u.ambulance_share
        self.hospital.ed_arrival(person, now, acuity, draws, ambulance=ambulance)


def simulate(
    params: CareParams, run: RunParams, output: OutputParams, replication: int
) -> ReplicationResult:
    """Run one replication of the care model.

    Parameters
    ----------
    params
        Validated care-model parameters.
    run
        Horizon, warm-up and seed.
    output
        Whether to return the event log and the daily time series.
    replication
        Replication index (selects the random streams).
    """
    with _no_cyclic_gc():
        return _simulate(params, run, output, replication)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one replication.

    The model holds millions of long-lived objects (event columns, per-person draws), and
    every full collection walks all of them, so with the collector on the cost per
    person-year grew by a third from 50,000 to 1.9 million people (docs/performance.md).
    Reference counting still frees everything that is not in a cycle; the collector runs
    once at the end, and its previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def _simulate(
    params: CareParams, run: RunParams, output: OutputParams, replication: int
) -> ReplicationResult:
    from sim.models.care import kpis

    wall = time.perf_counter()
    world = World(params, run, replication, keep_log=output.event_log)
    cands, (utc_person, utc_time) = demand.generate(params, world.pop, world.streams, run.horizon)
    world.hospital.utc_visits(
        utc_person,
        utc_time,
        world.streams.generator("minor/utc_stay").standard_normal(utc_person.size),
    )
    world.mnp.schedule()
    world.env.process(world.daily())
    world.env.process(world.mnp.register_reviews())
    world.env.process(world.urgent(cands))
    world.env.run(until=run.horizon)
    world.log.flush()
    metrics = kpis.compute(world)
    tables = {}
    if output.timeseries:
        tables["timeseries"] = kpis.timeseries(world)
    if output.event_log:
        pop = world.pop
        tables["events"] = event_table(
            world.log,
            [lead.organisations for lead in params.area_leads],
            pop.quintile,
            pop.age,
            pop.frailty,
            world.area_of,
        )
    diagnostics = kpis.diagnostics(world, cands)
    diagnostics["wall_seconds"] = time.perf_counter() - wall
    return ReplicationResult(
        replication=replication, metrics=metrics, tables=tables, diagnostics=diagnostics
    )
