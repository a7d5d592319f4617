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
from sim.models.care.demand import Candidates, D
from sim.models.care.handoffs import Handoffs
from sim.models.care.params import CareParams
from sim.models.care.practices import continuity
from sim.models.care.records import EventLog, event_table
from sim.models.care.services import hospital as hosp
from sim.models.care.services.community import Proactive, StayService, Ucr
from sim.models.care.services.general_practice import GeneralPractice
from sim.models.care.services.mnp import Mnp
from sim.models.care.services.practices import Practices
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
        self.practices = Practices(self)
        self.community = Community(self)
        self.mnp = Mnp(self)
        self.gp = GeneralPractice(self, self.days)
        # The thinning of crisis candidates, looked up once per candidate: each practice's
        # continuity multiplier over the headroom the candidates were drawn at (updated each
        # quarter from the practice's measured continuity: services/practices.py), and the
        # caseloads' rate ratios.
        self.crisis_scale = self.practices.start_multipliers()
        self._proactive_ratio = params.model.proactive.crisis_rate_ratio
        self._eol_ratio = params.model.eol.enrolled_crisis_rate_ratio
        # The largest factor any state can give (see _may_go_ahead): continuity's largest
        # possible multiplier, whatever a practice's measured continuity turns out to be.
        ratios = (1.0, self._proactive_ratio)
        eol = (1.0, self._eol_ratio)
        g = params.model.general_practice
        top_scale = (
            continuity.largest_multiplier(params.model.urgent, g.continuity_reference)
            / self.headroom
        )
        self._other_top = max(1.0 * a * b for a in ratios for b in eol)
        self._crisis_top = max(1.0 * a * b * top_scale for a in ratios for b in eol)
        self.crises = 0
        self.scheduled = 0
        # The live processes of each person, so a death can interrupt them.
        self.procs: dict[int, list[simpy.Process]] = {}

    # ------------------------------------------------------------------ helpers
    def at(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` at absolute time ``t`` (not before now).

        A call at or after the horizon is not scheduled at all: the run stops there before
        any such event (``env.run(until=horizon)``), and deaths drawn beyond the horizon,
        kept waiting in the event queue, made every push and pop of the run dearer (the
        queue held about 12,000 events instead of 2,600).
        """
        now = self.env.now
        delay = max(0.0, t - now)
        if now + delay >= self.horizon:  # the time SimPy would schedule it at
            return
        ev = self.env.timeout(delay)
        ev.callbacks.append(lambda _e: fn(*args))
        self.scheduled += 1

    def spawn(self, person: int, steps: Generator[simpy.Event, Any, Any]) -> simpy.Process:
        """Start a process of ``person`` (a pathway step, a caseload place) that their death
        will interrupt."""
        proc = PatientProcess(self.env, steps, person)
        proc.callbacks.append(self._ended)
        live = self.procs.get(person)
        if live is None:
            self.procs[person] = [proc]
        else:
            live.append(proc)
        self.scheduled += 1
        return proc

    def _ended(self, proc: PatientProcess) -> None:
        """A process of a person has ended: forget it, so that only live processes are kept
        (a finished one kept until the person's next process or death held its objects for
        the cyclic collector to walk: 75,000 of them at the end of a year). A death's
        interrupt that no step handled ends the process quietly: its failure is defused
        here, SimPy's documented way; any other exception still stops the run."""
        if not proc.ok and isinstance(proc.value, simpy.Interrupt):
            proc.defused = True
        person = proc.person
        live = self.procs.get(person)
        if live is None:  # interrupted by the death, which took the list
            return
        if len(live) == 1:
            if live[0] is proc:
                del self.procs[person]
        elif proc in live:
            live.remove(proc)

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
        that survives the thinning starts its own process (:meth:`urgent_event`). The
        thinning uniform is read from a list: most candidates end there, before their row
        of draws is needed.
        """
        env = self.env
        draws = cands.draws
        keep = self._may_go_ahead(cands)
        rows = np.flatnonzero(keep)
        times = cands.time[keep].tolist()
        persons = cands.person[keep].tolist()
        kinds = cands.kind[keep].tolist()
        accept = draws[rows, D["u_accept"]].tolist() if rows.size else []
        rows_k = rows.tolist()
        n = len(times)
        horizon = self.horizon
        urgent_event = self.urgent_event
        k = 0

        def step(_event: simpy.Event | None) -> None:
            nonlocal k
            now = env.now
            while k < n and times[k] <= now:
                urgent_event(persons[k], times[k], kinds[k], accept[k], draws, rows_k[k])
                k += 1
            if k < n and times[k] < horizon:
                env.timeout(times[k] - now).callbacks.append(step)

        if n and times[0] < horizon:
            env.timeout(times[0]).callbacks.append(step)

    def _may_go_ahead(self, cands: demand.Candidates) -> np.ndarray:
        """Whether each candidate could survive the thinning in some state of the person.

        A candidate whose thinning uniform is at least the largest factor any state gives
        (enrolled or not in proactive and end-of-life care; the area's continuity) is thinned
        away whatever happens, with nothing recorded or drawn, so it is dropped before the
        walk: no timeout and no call for it. The factors are multiplied in the order
        :meth:`urgent_event` multiplies them, so the bound is exactly their largest value.
        """
        if not len(cands.time):
            return np.zeros(0, dtype=bool)
        top = np.where(
            cands.kind == CRISIS,
            self._crisis_top,
            np.where(cands.kind == MINOR, np.inf, self._other_top),
        )
        return cands.draws[:, D["u_accept"]] < top

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
        if not times:
            return
        accept = rows[:, D["u_accept"]].tolist()
        top = self._crisis_top
        for k, t in enumerate(times):
            if t >= self.horizon:
                break
            if accept[k] < top:  # else thinned away in any state (_may_go_ahead)
                self.at(t, self.urgent_event, person, t, CRISIS, accept[k], rows, k)

    def urgent_event(
        self, person: int, now: float, kind: int, accept: float, draws: np.ndarray, k: int
    ) -> None:
        """One candidate crisis, terminal deterioration or minor attendance: row ``k`` of
        ``draws``, whose thinning uniform is ``accept``."""
        if now >= self.pop.death_time[person] or self.in_hospital[person]:
            return
        if kind == MINOR:
            self.spawn(person, pathway.urgent_episode(self, person, kind, draws[k].tolist()))
            return
        factor = 1.0
        if person in self.community.proactive.enrolled:
            factor *= self._proactive_ratio
        if self.eol_enrolled[person]:
            factor *= self._eol_ratio
        if kind == CRISIS:
            factor *= self.crisis_scale[self.pop.practice[person]]
        if accept >= factor:
            return
        row = draws[k].tolist()  # only for the candidates that go ahead
        self.crises += 1
        self.log.add(now, person, "crisis", "general_practice")
        self.mnp.contact(person, now)  # the surprise question, asked by whoever responds
        # The candidate's kind is its acuity (Acuity codes); the rest is the patient's story.
        self.spawn(person, pathway.urgent_episode(self, person, kind, row))


class PatientProcess(simpy.Process):
    """A SimPy process of one person, who is remembered so that its end can be recorded
    (:meth:`World._ended`) without a wrapper generator around every pathway (a wrapper's
    frame was resumed with every step of every patient)."""

    def __init__(
        self, env: simpy.Environment, steps: Generator[simpy.Event, Any, Any], person: int
    ) -> None:
        super().__init__(env, steps)
        self.person = person


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


def draw_demand(world: World, params: CareParams, run: RunParams) -> Candidates:
    """Draw the run's urgent candidates and minor UTC visits for ``world`` (before the run):
    the illness trajectories they carry go to ``world.illness``, the UTC visits to the
    hospital. Returns the candidates for :func:`start`."""
    cands, (utc_person, utc_time) = demand.generate(params, world.pop, world.streams, run.horizon)
    if cands.trajectory is not None and cands.illness_death is not None:
        world.illness = trajectories.Illness(params, cands.trajectory, cands.illness_death)
    world.hospital.utc_visits(
        utc_person,
        utc_time,
        world.streams.generator("minor/utc_stay").standard_normal(utc_person.size),
    )
    return cands


def start(world: World, cands: Candidates) -> None:
    """Start the run's processes: deaths and phase starts, the daily tick, the life course,
    the practices' register reviews and the walk over the urgent candidates."""
    world.mnp.schedule()
    world.env.process(world.daily())
    world.env.process(life_course.run(world))
    world.env.process(world.mnp.register_reviews())
    world.env.process(world.practices.run())
    world.urgent(cands)


def _simulate(
    params: CareParams, run: RunParams, output: OutputParams, replication: int
) -> ReplicationResult:
    from sim.models.care import kpis

    wall = time.perf_counter()
    world = World(params, run, replication, keep_log=output.event_log)
    cands = draw_demand(world, params, run)
    start(world, cands)
    world.env.run(until=run.horizon)
    world.log.flush()
    metrics = kpis.compute(world)
    tables = {"practices": world.practices.table()}
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
