"""Compose the care model and run one replication.

Patients are SimPy processes: every urgent episode that survives the thinning of the
pre-generated candidates is a generator (:mod:`sim.models.care.pathway`) that reads as the
patient's pathway, and so are enrolment in proactive care, end-of-life care, onward care
and moves into care homes. They queue for :mod:`sim.engine` resources. Demand that queues
for nothing shared stays vectorised: the candidate walk, general practice's daily book,
UTC visits. A death interrupts every process of the person (:meth:`World.interrupt`).
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
from sim.models.care import demand, life_course, pathway, population, trajectories
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

# Plain ints for the candidate walk (an IntEnum member lookup costs a call per candidate).
CRISIS, MINOR = int(Acuity.CRISIS), int(Acuity.MINOR)


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
        # Capacity is split by the people registered at the start (the place's population),
        # not by everyone the open population will ever register: joiners are drawn up front
        # and would shift the split by their future mix.
        counts = np.bincount(self.area_of[: self.pop.n_start], minlength=len(areas))
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
            self.streams,
        )
        self.headroom = params.model.urgent.headroom
        # Set once demand is drawn (_simulate): the trajectories the crises follow.
        self.illness: trajectories.Illness | None = None
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
        # The live processes of each person, so a death can interrupt them.
        self.procs: dict[int, list[simpy.Process]] = {}

    # ------------------------------------------------------------------ helpers
    def at(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` at absolute time ``t`` (not before now)."""
        ev = self.env.timeout(max(0.0, t - self.env.now))
        ev.callbacks.append(lambda _e: fn(*args))
        self.scheduled += 1

    def spawn(self, person: int, steps: Generator[simpy.Event, Any, Any]) -> simpy.Process:
        """Start a process of ``person`` (a pathway step, a caseload place) that their death
        will interrupt."""
        proc = self.env.process(_until_interrupted(steps))
        live = self.procs.get(person)
        if live is None:
            self.procs[person] = [proc]
        else:
            live[:] = [p for p in live if p.is_alive]
            live.append(proc)
        self.scheduled += 1
        return proc

    def interrupt(self, person: int) -> None:
        """Interrupt every live process of ``person`` (their death)."""
        for proc in self.procs.pop(person, ()):
            if proc.is_alive:
                proc.interrupt("death")

    # ------------------------------------------------------------------ processes
    def daily(self) -> Generator[simpy.Event, Any, None]:
        """Each day: the practices' appointment books and proactive case-finding."""
        for d in range(self.days):
            self.gp.day(d)
            self.community.proactive.fill(float(d))
            yield self.env.timeout(1.0)

    def urgent(self, cands: demand.Candidates) -> None:
        """Walk through the candidate urgent events in time order.

        The walk queues for nothing, so it is a chain of timeouts with a callback rather than
        a process (a process resume per candidate cost a tenth of the run); each candidate
        that survives the thinning starts its own process (:meth:`urgent_event`).
        """
        env = self.env
        times = cands.time.tolist()
        persons = cands.person.tolist()
        kinds = cands.kind.tolist()
        draws = cands.draws
        n = len(times)
        horizon = self.horizon
        k = 0

        def step(_event: simpy.Event | None) -> None:
            nonlocal k
            now = env.now
            while k < n and times[k] <= now:
                self.urgent_event(persons[k], times[k], kinds[k], draws[k])
                k += 1
            if k < n and times[k] < horizon:
                env.timeout(times[k] - now).callbacks.append(step)

        if n and times[0] < horizon:
            env.timeout(times[0]).callbacks.append(step)

    def discharged(self, person: int, now: float, outcome: int, onward: bool) -> None:
        """An emergency discharge alive: the person's raised risk from now on.

        The excess crises of :meth:`AfterDischarge.excess` are scheduled as candidates like
        the usual ones (thinned by what the person's care is at the time, not by the excess).
        """
        self.after.discharge(person, now, outcome, onward)
        rate = float(self.crisis_rate[person])
        if self.illness is not None:
            rate *= self.illness.multiplier(person, now)
        times, rows = self.after.excess(person, now, rate)
        for t, row in zip(times, rows, strict=True):
            if t >= self.horizon:
                break
            self.at(t, self.urgent_event, person, t, CRISIS, row)

    def urgent_event(self, person: int, now: float, kind: int, row: np.ndarray) -> None:
        """One candidate crisis, terminal deterioration or minor attendance."""
        if now >= self.pop.death_time[person] or self.in_hospital[person]:
            return
        if kind == MINOR:
            self.spawn(person, pathway.urgent_episode(self, person, kind, row.tolist()))
            return
        factor = 1.0
        if self.community.proactive.enrolled.get(person) is not None:
            factor *= self.params.model.proactive.crisis_rate_ratio
        if self.eol_enrolled[person]:
            factor *= self.params.model.eol.enrolled_crisis_rate_ratio
        if kind == CRISIS:
            factor *= self.continuity_multiplier[self.area_of[person]] / self.headroom
        if row[D["u_accept"]] >= factor:
            return
        draws = row.tolist()  # only for the candidates that go ahead
        self.crises += 1
        self.log.add(now, person, "crisis", "general_practice")
        self.mnp.contact(person, now)  # the surprise question, asked by whoever responds
        # The candidate's kind is its acuity (Acuity codes); the rest is the patient's story.
        self.spawn(person, pathway.urgent_episode(self, person, kind, draws))


def _until_interrupted(steps: Generator[simpy.Event, Any, Any]) -> Generator[simpy.Event, Any, Any]:
    """Run ``steps``; a death's interrupt that no step handled ends the process quietly."""
    try:
        return (yield from steps)
    except simpy.Interrupt:
        return None


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
    if cands.trajectory is not None and cands.illness_death is not None:
        world.illness = trajectories.Illness(params, cands.trajectory, cands.illness_death)
    world.hospital.utc_visits(
        utc_person,
        utc_time,
        world.streams.generator("minor/utc_stay").standard_normal(utc_person.size),
    )
    world.mnp.schedule()
    world.env.process(world.daily())
    world.env.process(life_course.run(world))
    world.env.process(world.mnp.register_reviews())
    world.urgent(cands)
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
            state_at=lambda p, t: life_course.state_at(pop, p, t),
        )
    diagnostics = kpis.diagnostics(world, cands)
    diagnostics["wall_seconds"] = time.perf_counter() - wall
    return ReplicationResult(
        replication=replication, metrics=metrics, tables=tables, diagnostics=diagnostics
    )
