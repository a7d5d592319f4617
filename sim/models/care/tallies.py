"""Running totals from which the KPIs are computed, kept as the run goes.

Each KPI needs a count, a sum or a histogram after the warm-up, never the individual
records, so the services add to these tallies as things happen and nothing grows with the
length of the run except the daily series (a few numbers a day). The event log itself is
kept only when it is asked for (``output.event_log``; see
:class:`~sim.models.care.records.EventLog`).
"""

from __future__ import annotations

import numpy as np

from sim.engine.monitor import Level, Marks
from sim.models.care import schema as s
from sim.models.care.records import EVENT, EVENTS, PLACE, PLACES, Event

# "Deaths with 3 or more emergency admissions in the last 90 days of life"
# (see docs/model.md, end-of-life KPIs).
REPEAT_ADMISSIONS = 3
LAST_DAYS = 90.0
# The last year of life (issue 16, item 9): only deaths at least this long after the run
# starts count, so every counted decedent's whole last year lies inside the run.
LAST_YEAR_DAYS = 365.0
KEEP_SPELL_DAYS = LAST_YEAR_DAYS
# "The month prior to death" [src:nuffield-eol-hospital-2024]; the warm-up is longer.
LAST_MONTH_DAYS = 30.0
_HOSPITAL = PLACE["hospital"]
# An A&E attendance of any type (major department or urgent treatment centre).
_ATTEND = (Event.ED_ARRIVAL, Event.UTC_ARRIVAL)
_ADMISSION = Event.EMERGENCY_ADMISSION
_DEATH = Event.DEATH
# Identified for end-of-life care: picked out by the surprise question, or enrolled on the
# end-of-life caseload (a discharge to end-of-life care enrols without the question).
_IDENTIFIED = (Event.EOL_IDENTIFIED, Event.EOL_ENROLMENT)


def count_into(table: np.ndarray, index: np.ndarray) -> None:
    """Add 1 to ``table``'s flat cell ``index[i]`` for each ``i`` (repeats add up).

    ``np.add.at`` costs tens of nanoseconds per index and nothing per cell; a bincount a few
    per index but one per cell of the table. So a batch that is large against the table is
    counted with a bincount, a small one with ``np.add.at``: the counts are the same.
    """
    flat = table.reshape(-1)
    if index.size * 8 >= flat.size:
        flat += np.bincount(index, minlength=flat.size).astype(flat.dtype, copy=False)
    else:
        np.add.at(flat, index, 1)


class EventTally:
    """Counts of the patient events.

    Parameters
    ----------
    warm_up, horizon
        Events at ``warm_up <= t <= horizon`` count towards the KPIs; events after the
        horizon (written when decided, for a time after the run) are not counted at all.
    days
        Days of the daily series.
    area, quintile
        Each person's area index and deprivation quintile (0-4).
    death_time
        Each person's death time (read when a death is counted, so it is the final one).

    Attributes
    ----------
    post
        After warm-up, by (event, setting, place of death, area, quintile).
    total
        Over the whole run, by event.
    daily
        By (event, day) over the whole run.
    deaths_after_repeat_admissions
        Deaths after warm-up with at least 3 emergency admissions in the 90 days before.
    deaths_identified
        Deaths after warm-up of people identified for end-of-life care before they died.
    decedents_last_year
        Deaths after warm-up and at least :data:`LAST_YEAR_DAYS` into the run (a whole last
        year of life simulated).
    admissions_last_year
        Emergency admissions of those decedents in the 365 days before death.
    deaths_3plus_last_year
        Those decedents with 3 or more emergency admissions in their last 365 days.
    deaths
        (person, time) of every death after warm-up, in the order recorded (for joining
        with hospital stays, :class:`StayTally`).
    hospital_deaths, hospital_deaths_admitted_last_month
        Deaths after warm-up in hospital, and those with an emergency admission in the
        :data:`LAST_MONTH_DAYS` before.
    other_deaths, other_deaths_hospital_use_last_month
        Deaths after warm-up anywhere else, and those with an A&E attendance (any type) or
        an emergency admission in the :data:`LAST_MONTH_DAYS` before.
    """

    def __init__(
        self,
        warm_up: float,
        horizon: float,
        days: int,
        area: np.ndarray,
        quintile: np.ndarray,
        death_time: np.ndarray,
    ) -> None:
        self.warm_up = warm_up
        self.horizon = horizon
        self.days = days
        self._area = np.asarray(area, dtype=np.int64)
        self._quintile = np.asarray(quintile, dtype=np.int64)
        self._death_time = death_time
        n_areas = int(self._area.max()) + 1 if self._area.size else 1
        self.post = np.zeros((len(EVENTS), len(s.SERVICES), len(PLACES), n_areas, 5), np.int64)
        self.total = np.zeros(len(EVENTS), np.int64)
        self.daily = np.zeros((len(EVENTS), days), np.int64)
        self.deaths_after_repeat_admissions = 0
        self.deaths_identified = 0
        self.decedents_last_year = 0
        self.admissions_last_year = 0
        self.deaths_3plus_last_year = 0
        self.deaths: list[tuple[int, float]] = []
        self.hospital_deaths = 0
        self.hospital_deaths_admitted_last_month = 0
        self.other_deaths = 0
        self.other_deaths_hospital_use_last_month = 0
        # Each person's latest A&E attendance (-inf: none yet).
        self._attended = np.full(death_time.size, -np.inf)
        # Each living person's admission times over the last year: bounded by the population
        # times the admissions a person can have in a year.
        self._recent: dict[int, list[float]] = {}
        # Identified for end-of-life care at some time before now.
        self._identified = np.zeros(death_time.size, dtype=bool)

    def add(
        self,
        t: np.ndarray,
        person: np.ndarray,
        event: np.ndarray,
        setting: np.ndarray,
        place: np.ndarray,
    ) -> None:
        """Count a batch of events, given in the order they were recorded."""
        within = t <= self.horizon
        if not within.all():
            t, person, event, setting, place = (
                c[within] for c in (t, person, event, setting, place)
            )
        if not t.size:
            return
        e = event.astype(np.int64)
        self.total += np.bincount(e, minlength=self.total.size)
        day = t.astype(np.int64)
        in_days = day < self.days
        count_into(self.daily, e[in_days] * self.days + day[in_days])
        post = t >= self.warm_up
        if post.any():
            p = person[post]
            index = np.ravel_multi_index(
                (e[post], setting[post], place[post], self._area[p], self._quintile[p]),
                self.post.shape,
            )
            count_into(self.post, index)
        self._join_admissions_to_deaths(t, person, e, place)

    def _join_admissions_to_deaths(
        self, t: np.ndarray, person: np.ndarray, e: np.ndarray, place: np.ndarray
    ) -> None:
        # Attendances and identifications are frequent (every UTC visit is one) and need no
        # order within a batch (nobody attends or is identified after their death), so they
        # are kept vectorised; only admissions and deaths, a few per cent of events, are
        # walked in order.
        attend = (e == _ATTEND[0]) | (e == _ATTEND[1])
        if attend.any():
            np.maximum.at(self._attended, person[attend], t[attend])
        ident = (e == _IDENTIFIED[0]) | (e == _IDENTIFIED[1])
        if ident.any():
            self._identified[person[ident]] = True
        rows = np.flatnonzero((e == _ADMISSION) | (e == _DEATH))
        if not rows.size:
            return
        recent = self._recent
        admission = int(_ADMISSION)
        hospital = int(_HOSPITAL)
        for p, now, ev, pl in zip(
            person[rows].tolist(),
            t[rows].tolist(),
            e[rows].tolist(),
            place[rows].tolist(),
            strict=True,
        ):
            if ev == admission:
                times = recent.setdefault(p, [])
                times.append(now)
                while times[0] < now - LAST_YEAR_DAYS:
                    del times[0]
                continue
            times = recent.pop(p, [])
            if now < self.warm_up:
                continue
            self.deaths.append((p, now))
            self.deaths_identified += bool(self._identified[p])
            attended = float(self._attended[p])
            died = float(self._death_time[p])
            admitted = any(died - LAST_MONTH_DAYS <= x <= died for x in times)
            if pl == hospital:
                self.hospital_deaths += 1
                self.hospital_deaths_admitted_last_month += admitted
            else:
                self.other_deaths += 1
                self.other_deaths_hospital_use_last_month += admitted or (
                    died - LAST_MONTH_DAYS <= attended <= died
                )
            last_90 = sum(1 for x in times if died - LAST_DAYS <= x <= died)
            self.deaths_after_repeat_admissions += last_90 >= REPEAT_ADMISSIONS
            if now >= LAST_YEAR_DAYS:
                last_year = sum(1 for x in times if died - LAST_YEAR_DAYS <= x <= died)
                self.decedents_last_year += 1
                self.admissions_last_year += last_year
                self.deaths_3plus_last_year += last_year >= REPEAT_ADMISSIONS

    def after_warm_up(self, name: str) -> int:
        """Events of one kind after warm-up."""
        return int(self.post[EVENT[name]].sum())

    def by_area(self, name: str) -> np.ndarray:
        """Events of one kind after warm-up in each area."""
        return self.post[EVENT[name]].sum(axis=(0, 1, 3))

    def by_quintile(self, name: str) -> np.ndarray:
        """Events of one kind after warm-up in each deprivation quintile."""
        return self.post[EVENT[name]].sum(axis=(0, 1, 2))


class AppointmentTally:
    """General-practice appointments held after warm-up.

    Parameters
    ----------
    warm_up
        Appointments on days before it are not counted.
    area
        Each person's area index.
    n_areas
        Number of areas.
    """

    ROLES = 3

    def __init__(self, warm_up: float, area: np.ndarray, n_areas: int) -> None:
        self.warm_up = warm_up
        self._area = np.asarray(area, dtype=np.int64)
        self.n_areas = n_areas
        self.held = 0
        self.same_day = 0
        self.within_14_days = 0
        self.role_by_area = np.zeros((n_areas, self.ROLES), np.int64)
        # Waits of routine (booked ahead) appointments, whole days: a histogram is exact.
        self.routine_wait_days = np.zeros(1, np.int64)
        self.routine_by_area = np.zeros(n_areas, np.int64)
        self.routine_wait_sum_by_area = np.zeros(n_areas, np.int64)
        # Per person: GP appointments, and those with their usual GP (continuity). Each
        # day's people are held until there are enough to count them with one bincount
        # (:attr:`with_gp`): ``np.add.at`` on each day's few thousand cost 4% of a run.
        self._with_gp = np.zeros(self._area.size, np.int32)
        self._with_usual_gp = np.zeros(self._area.size, np.int32)
        self._held: list[tuple[np.ndarray, np.ndarray]] = []
        self._held_rows = 0
        self._hold_limit = max(1 << 16, self._area.size // 4)

    def add(
        self, day: int, who: np.ndarray, wait: np.ndarray, role: np.ndarray, usual: np.ndarray
    ) -> None:
        """One day's appointments: person, wait in days, role (0 = GP) and usual-GP flag."""
        if day < self.warm_up or not who.size:
            return
        self.held += who.size
        self.same_day += int(np.count_nonzero(wait == 0))
        self.within_14_days += int(np.count_nonzero(wait <= 14))
        area = self._area[who]
        self.role_by_area += np.bincount(
            area * self.ROLES + role, minlength=self.role_by_area.size
        ).reshape(self.role_by_area.shape)
        routine = wait > 0
        hist = np.bincount(wait[routine])
        if hist.size > self.routine_wait_days.size:
            hist[: self.routine_wait_days.size] += self.routine_wait_days
            self.routine_wait_days = hist
        else:
            self.routine_wait_days[: hist.size] += hist
        self.routine_by_area += np.bincount(area[routine], minlength=self.n_areas)
        self.routine_wait_sum_by_area += np.bincount(
            area[routine], weights=wait[routine], minlength=self.n_areas
        ).astype(np.int64)
        gp = role == 0
        self._held.append((who[gp], who[gp & usual]))
        self._held_rows += who.size
        if self._held_rows >= self._hold_limit:
            self._count_held()

    def _count_held(self) -> None:
        """Add the held days' people to the per-person counts."""
        if self._held:
            size = self._with_gp.size
            for k, out in enumerate((self._with_gp, self._with_usual_gp)):
                people = np.concatenate([h[k] for h in self._held])
                out += np.bincount(people, minlength=size).astype(np.int32, copy=False)
        self._held.clear()
        self._held_rows = 0

    @property
    def with_gp(self) -> np.ndarray:
        """GP appointments (role 0) of each person after warm-up."""
        self._count_held()
        return self._with_gp

    @property
    def with_usual_gp(self) -> np.ndarray:
        """Of :attr:`with_gp`, those with the person's usual GP."""
        self._count_held()
        return self._with_usual_gp

    @property
    def routine(self) -> int:
        """Routine appointments held after warm-up."""
        return int(self.routine_wait_days.sum())

    def routine_wait_mean(self) -> float:
        """Mean wait of routine appointments, days (NaN if none)."""
        n = self.routine
        days = np.arange(self.routine_wait_days.size)
        return float((days * self.routine_wait_days).sum() / n) if n else float("nan")

    def routine_wait_percentile(self, q: float) -> float:
        """The ``q``-th percentile of routine waits, as :func:`numpy.percentile` (linear)."""
        return histogram_percentile(self.routine_wait_days, q)

    def continuity_upc(self) -> float:
        """Mean usual-provider continuity of people with at least two GP appointments."""
        two = self.with_gp >= 2
        if not two.any():
            return float("nan")
        return float((self.with_usual_gp[two] / self.with_gp[two]).mean())


def histogram_percentile(counts: np.ndarray, q: float) -> float:
    """Percentile of the values ``0, 1, 2, ...`` held ``counts`` times each.

    The same as :func:`numpy.percentile` with linear interpolation on the expanded values,
    without expanding them. NaN when there are no values.
    """
    n = int(counts.sum())
    if not n:
        return float("nan")
    rank = q / 100.0 * (n - 1)
    low = int(np.floor(rank))
    cumulative = np.cumsum(counts)
    below = float(np.searchsorted(cumulative, low, side="right"))
    above = float(np.searchsorted(cumulative, min(low + 1, n - 1), side="right"))
    return below + (rank - low) * (above - below)


class VisitTally:
    """ED (type 1) and UTC (type 3) attendances.

    Parameters
    ----------
    warm_up, horizon
        Attendances that arrive after warm-up and leave by the horizon are counted.
    days
        Days of the daily series of people in the type 1 department.
    """

    FOUR_HOURS = 4.0 / 24.0

    def __init__(self, warm_up: float, horizon: float, days: int) -> None:
        self.warm_up = warm_up
        self.horizon = horizon
        self.visits = 0
        self.within_4h = 0
        self.type1 = 0
        self.type1_within_4h = 0
        self.type1_admitted = 0
        self.type1_days = 0.0
        # Time-weighted people in the type 1 department, by day (person-days each day); a
        # list while the run goes, as adding to one item of an array is slower.
        self._days = days
        self._in_department = [0.0] * days

    @property
    def type1_in_department(self) -> np.ndarray:
        """Mean number of people in the type 1 department on each day."""
        return np.array(self._in_department)

    def add_type1(self, arrival: float, departure: float, admitted: bool) -> None:
        """One type 1 attendance."""
        stay = departure - arrival
        day = int(arrival)
        if departure <= day + 1.0 and day < self._days:
            self._in_department[day] += stay  # the usual case: a visit within one day
        else:
            while day < self._days and day < departure:
                self._in_department[day] += min(departure, day + 1.0) - max(arrival, day)
                day += 1
        if arrival < self.warm_up or departure > self.horizon:
            return
        within = stay <= self.FOUR_HOURS
        self.visits += 1
        self.within_4h += within
        self.type1 += 1
        self.type1_within_4h += within
        self.type1_admitted += admitted
        self.type1_days += stay

    def add_type3(self, arrival: np.ndarray, departure: np.ndarray) -> None:
        """Type 3 (UTC) attendances, none admitted."""
        counted = (arrival >= self.warm_up) & (departure <= self.horizon)
        self.visits += int(counted.sum())
        self.within_4h += int((counted & (departure - arrival <= self.FOUR_HOURS)).sum())


class StayTally:
    """Hospital episodes (admitted stays).

    Parameters
    ----------
    warm_up
        Stays that start before it do not count towards length of stay.
    old
        Whether each person is 75 or older (for the 75+ length of stay).
    """

    def __init__(self, warm_up: float, old: np.ndarray) -> None:
        self.warm_up = warm_up
        self._old = old
        self.admitted = 0
        self.died = 0
        self.ended = 0
        self.los_days = 0.0
        self.ended_old = 0
        self.los_days_old = 0.0
        # Ended stays by person over the last year, for the bed days of decedents near death.
        self.spells: dict[int, list[tuple[float, float]]] = {}

    def start(self) -> None:
        """A patient took a bed."""
        self.admitted += 1

    def end(self, person: int, start: float, end: float, died: bool) -> None:
        """A patient left the bed (``died`` if by death)."""
        self.died += died
        spells = self.spells.setdefault(person, [])
        spells.append((start, end))
        # Only the last year before a death is ever asked for, and a death comes after every
        # stay of the person, so older stays can go (memory bounded by a year of stays).
        while spells[0][1] < end - KEEP_SPELL_DAYS:
            del spells[0]
        if start < self.warm_up:
            return
        self.ended += 1
        self.los_days += end - start
        if self._old[person]:
            self.ended_old += 1
            self.los_days_old += end - start

    def bed_days(self, person: int, start: float, end: float) -> float:
        """Days ``person`` spent in a hospital bed within [start, end] (ended stays only)."""
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in self.spells.get(person, ()))


class DelayTally:
    """Delays (response times, handoff times) of things that began after warm-up.

    Parameters
    ----------
    warm_up
        Delays that began before it are not counted.
    within
        A threshold; :attr:`within_count` counts delays at or under it.
    """

    def __init__(self, warm_up: float, within: float = float("inf")) -> None:
        self.warm_up = warm_up
        self.threshold = within
        self.count = 0
        self.within_count = 0
        self.total = 0.0

    def add(self, began: float, delay: float) -> None:
        """One delay that began at ``began``."""
        if began < self.warm_up:
            return
        self.count += 1
        self.total += delay
        self.within_count += delay <= self.threshold

    def mean(self) -> float:
        """Mean delay (NaN if none)."""
        return self.total / self.count if self.count else float("nan")


class DelayReasons:
    """Beds held by medically fit patients, by the reason they are still there.

    One :class:`~sim.engine.monitor.Level` per reason (``schema.DELAY_REASONS``) and area.
    A delayed patient is under exactly one reason at a time (:meth:`enter`, :meth:`move`,
    :meth:`leave`), so the reasons add up to all delayed beds at every moment.

    Parameters
    ----------
    marks
        The replication's marks (where the integrals are kept).
    areas
        Number of areas.
    """

    def __init__(self, marks: Marks, areas: int) -> None:
        self.levels = {r: [Level(marks) for _ in range(areas)] for r in s.DELAY_REASONS}

    def enter(self, area: int, reason: str, now: float) -> None:
        """A patient starts waiting for ``reason``."""
        self.levels[reason][area].add(now, 1)

    def move(self, area: int, old: str, new: str, now: float) -> None:
        """A waiting patient's reason changes (the handoff is made; now the capacity)."""
        if old != new:
            self.levels[old][area].add(now, -1)
            self.levels[new][area].add(now, 1)

    def leave(self, area: int, reason: str, now: float) -> None:
        """A waiting patient leaves the bed (discharged or died)."""
        self.levels[reason][area].add(now, -1)

    def mean(self, reason: str, start: float, end: float) -> float:
        """Time-weighted mean delayed beds for ``reason`` over ``[start, end]``, all areas."""
        return float(sum(level.mean(start, end) for level in self.levels[reason]))
