"""The patient event log: every event is counted as it comes, and kept only when asked for."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.models.care import schema as s

if TYPE_CHECKING:
    from sim.models.care.tallies import EventTally


class Event(IntEnum):
    """Kinds of patient event, as stored in the event log's ``event`` column."""

    GP_APPOINTMENT = 0
    GP_SAME_DAY_UNMET = 1
    NHS111_CONTACT = 2
    UTC_ARRIVAL = 3
    ED_ARRIVAL = 4
    ED_DEPARTURE = 5
    CRISIS = 6
    AMBULANCE_CONVEYANCE = 7
    UCR_RESPONSE = 8
    UCR_ESCALATED = 9
    EMERGENCY_ADMISSION = 10
    MEDICALLY_FIT = 11
    DISCHARGE = 12
    REFERRAL = 13
    REFERRAL_LOST = 14
    OUTPATIENT_REFERRAL = 15
    PROACTIVE_ENROLMENT = 16
    PROACTIVE_EXIT = 17
    EOL_PHASE_START = 18
    EOL_ENROLMENT = 19
    STEP_DOWN_START = 20
    STEP_DOWN_END = 21
    VIRTUAL_WARD_START = 22
    VIRTUAL_WARD_END = 23
    CARE_HOME_ADMISSION = 24
    DEATH = 25
    EOL_EXIT = 26  # left the end-of-life caseload alive (the review no longer picks them out)
    EOL_IDENTIFIED = 27  # the surprise question picked the person out at a contact
    REGISTRATION = 28  # joined the list during the run (birth or move in)
    DEREGISTRATION = 29  # left the list alive (moved away)
    SOCIAL_CARE_START = 30  # a pathway 1 package (reablement or home care) starts
    SOCIAL_CARE_END = 31
    EOL_REMOVED = 32  # came off the register while waiting for an end-of-life place


EVENTS = tuple(e.name.lower() for e in Event)
# Name to code, for the hot path that records events by name.
EVENT = {name: int(e) for name, e in zip(EVENTS, Event, strict=True)}
SETTING = {name: i for i, name in enumerate(s.SERVICES)}
PLACES = ("", "hospital", "home", "care_home", "hospice", "other")
PLACE = {name: i for i, name in enumerate(PLACES)}


class EventLog:
    """The patient events: counted as they come, and kept as columns only when asked for.

    Scalar events are appended one at a time to a small buffer; batches (general practice)
    arrive as arrays. Every event is passed to the :class:`~sim.models.care.tallies.EventTally`
    (from which the KPIs are computed), so with ``keep=False`` memory does not grow with the
    length of the run.

    Parameters
    ----------
    tally
        Receives every event, in the order recorded.
    keep
        Keep every event for :meth:`columns` (``output.event_log``).
    horizon
        End of the run. Some events are written when they are decided rather than when they
        happen (an ED departure is known when assessment starts), so those falling after the
        end of the run are dropped from :meth:`columns`: they did not happen within it.
    buffer
        Scalar events held before they are passed on as one batch.
    """

    def __init__(
        self, tally: EventTally, keep: bool, horizon: float = np.inf, buffer: int = 1 << 15
    ) -> None:
        self.tally = tally
        self.keep = keep
        self.horizon = horizon
        self._buffer = buffer
        self._t: list[float] = []
        self._p: list[int] = []
        self._e: list[int] = []
        self._s: list[int] = []
        self._d: list[int] = []
        # Array batches not yet passed on: general practice records a few small ones a day,
        # and the tally's cost is per call, so they are passed on together.
        self._pending: list[tuple[np.ndarray, ...]] = []
        self._pending_rows = 0
        # Kept batches: scalar events and array batches apart, so that the table lists
        # events of the same time in the order it always has (scalar events first).
        self._scalar_chunks: list[tuple[np.ndarray, ...]] = []
        self._chunks: list[tuple[np.ndarray, ...]] = []

    def add(self, t: float, person: int, event: str, setting: str, place: str = "") -> None:
        """Record one event."""
        self._t.append(t)
        self._p.append(person)
        self._e.append(EVENT[event])
        self._s.append(SETTING[setting])
        self._d.append(PLACE[place])
        if len(self._t) >= self._buffer:
            self.flush()

    def add_many(self, t: np.ndarray, person: np.ndarray, event: str, setting: str) -> None:
        """Record one kind of event for many people at once."""
        n = len(person)
        if n:
            chunk = (
                np.asarray(t, dtype=float),
                np.asarray(person, dtype=np.int64),
                np.full(n, EVENT[event], dtype=np.int16),
                np.full(n, SETTING[setting], dtype=np.int16),
                np.zeros(n, dtype=np.int16),
            )
            self._pending.append(chunk)
            self._pending_rows += n
            if self.keep:
                self._chunks.append(chunk)
            if self._pending_rows >= self._buffer:
                self.flush()

    def flush(self) -> None:
        """Pass the buffered events on to the tally (call before reading it).

        Scalar events go first, in the order recorded (the tally joins admissions to later
        deaths, which are scalar events); array batches hold neither.
        """
        parts = list(self._pending)
        if self._t:
            scalars = (
                np.asarray(self._t, dtype=float),
                np.asarray(self._p, dtype=np.int64),
                np.asarray(self._e, dtype=np.int16),
                np.asarray(self._s, dtype=np.int16),
                np.asarray(self._d, dtype=np.int16),
            )
            for column in (self._t, self._p, self._e, self._s, self._d):
                column.clear()
            parts.insert(0, scalars)
            if self.keep:
                self._scalar_chunks.append(scalars)
        self._pending.clear()
        self._pending_rows = 0
        if len(parts) == 1:
            self.tally.add(*parts[0])
        elif parts:
            self.tally.add(*(np.concatenate([p[i] for p in parts]) for i in range(5)))

    def columns(self) -> tuple[np.ndarray, ...]:
        """(time, person, event, setting, place) arrays of the events within the run, by time.

        Raises
        ------
        RuntimeError
            If the log was not kept (``keep=False``).
        """
        if not self.keep:
            raise RuntimeError("the event log was not kept (set output.event_log=true)")
        self.flush()
        parts = [*self._scalar_chunks, *self._chunks]
        if not parts:
            return tuple(np.zeros(0, dtype) for dtype in (float, np.int64, *[np.int16] * 3))
        cols = tuple(np.concatenate([p[i] for p in parts]) for i in range(5))
        within = cols[0] <= self.horizon
        order = np.argsort(cols[0][within], kind="stable")
        return tuple(c[within][order] for c in cols)


def event_table(
    log: EventLog,
    organisations: dict[str, str] | list[dict[str, str]],
    quintile: np.ndarray,
    age: np.ndarray,
    frailty: np.ndarray,
    area: np.ndarray | None = None,
    state_at: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
) -> pd.DataFrame:
    """The event log as a table (schema in docs/event_log.md).

    ``organisations`` is one organisation map, or one per area with ``area`` giving each
    person's area index, since the organisation running a service depends on the area's
    arrangement. ``state_at(person, time)``, if given, returns the age band and frailty at
    each event's time (people age during the run); otherwise ``age`` and ``frailty`` are
    indexed by person.
    """
    t, p, e, st, d = log.columns()
    if state_at is not None:
        age_p, frail_p = state_at(p, t)
    else:
        age_p, frail_p = age[p], frailty[p]
    maps = [organisations] if isinstance(organisations, dict) else list(organisations)
    names = np.asarray([[m[x] for x in s.SERVICES] for m in maps], dtype=object)
    where = np.zeros(p.size, dtype=np.int64) if area is None else np.asarray(area)[p]
    return pd.DataFrame(
        {
            "time_days": t,
            "person_id": p,
            "event": pd.Categorical.from_codes(e, categories=list(EVENTS)),
            "setting": pd.Categorical.from_codes(st, categories=list(s.SERVICES)),
            "organisation": pd.Series(names[where, st]).astype("category"),
            "place_of_death": pd.Categorical.from_codes(d, categories=list(PLACES)),
            "deprivation_quintile": quintile[p].astype(np.int8) + 1,
            "age_band": pd.Categorical.from_codes(age_p, categories=list(s.AGE_BANDS)),
            "frailty": pd.Categorical.from_codes(frail_p, categories=list(s.FRAILTY)),
        }
    )
