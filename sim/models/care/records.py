"""The patient event log, kept as growing columns and turned into a table once at the end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.models.care import schema as s

EVENTS = (
    "gp_appointment",
    "gp_same_day_unmet",
    "nhs111_contact",
    "utc_arrival",
    "ed_arrival",
    "ed_departure",
    "crisis",
    "ambulance_conveyance",
    "ucr_response",
    "ucr_escalated",
    "emergency_admission",
    "medically_fit",
    "discharge",
    "referral",
    "referral_lost",
    "outpatient_referral",
    "proactive_enrolment",
    "proactive_exit",
    "eol_phase_start",
    "eol_enrolment",
    "step_down_start",
    "step_down_end",
    "virtual_ward_start",
    "virtual_ward_end",
    "care_home_admission",
    "death",
)
EVENT = {name: i for i, name in enumerate(EVENTS)}
SETTING = {name: i for i, name in enumerate(s.SERVICES)}
PLACES = ("", "hospital", "home", "care_home", "hospice", "other")
PLACE = {name: i for i, name in enumerate(PLACES)}


class EventLog:
    """Columns of patient events: time, person, event, setting and place of death codes.

    Scalar events are appended one at a time; batches (general practice) as arrays.

    Parameters
    ----------
    horizon
        End of the run. Some events are written when they are decided rather than when they
        happen (an ED departure is known when assessment starts), so those falling after the
        end of the run are dropped from :meth:`columns`: they did not happen within it.
    """

    def __init__(self, horizon: float = np.inf) -> None:
        self.horizon = horizon
        self._t: list[float] = []
        self._p: list[int] = []
        self._e: list[int] = []
        self._s: list[int] = []
        self._d: list[int] = []
        self._chunks: list[tuple[np.ndarray, ...]] = []
        # The columns, with the sizes they were built from, and their time-sorted copy: the
        # KPIs ask for them many times after the run, and rebuilding costs O(N log N).
        self._raw: tuple[tuple[int, int], tuple[np.ndarray, ...]] | None = None
        self._sorted: tuple[np.ndarray, ...] | None = None

    def add(self, t: float, person: int, event: str, setting: str, place: str = "") -> None:
        """Record one event."""
        self._t.append(t)
        self._p.append(person)
        self._e.append(EVENT[event])
        self._s.append(SETTING[setting])
        self._d.append(PLACE[place])

    def add_many(self, t: np.ndarray, person: np.ndarray, event: str, setting: str) -> None:
        """Record one kind of event for many people at once."""
        n = len(person)
        if n:
            self._chunks.append(
                (
                    np.asarray(t, dtype=float),
                    np.asarray(person, dtype=np.int64),
                    np.full(n, EVENT[event], dtype=np.int16),
                    np.full(n, SETTING[setting], dtype=np.int16),
                    np.zeros(n, dtype=np.int16),
                )
            )

    def columns(self, ordered: bool = True) -> tuple[np.ndarray, ...]:
        """(time, person, event, setting, place) arrays of the events within the run.

        Parameters
        ----------
        ordered
            Sort by time (stable). Counts and daily bins do not need the order, and sorting
            is the one O(N log N) step, so they ask for ``ordered=False``.

        The arrays are built once and reused until another event is added; treat them as
        read-only.
        """
        sizes = (len(self._t), len(self._chunks))
        if self._raw is None or self._raw[0] != sizes:
            parts = [
                (
                    np.asarray(self._t, dtype=float),
                    np.asarray(self._p, dtype=np.int64),
                    np.asarray(self._e, dtype=np.int16),
                    np.asarray(self._s, dtype=np.int16),
                    np.asarray(self._d, dtype=np.int16),
                ),
                *self._chunks,
            ]
            cols = tuple(np.concatenate([p[i] for p in parts]) for i in range(5))
            within = cols[0] <= self.horizon
            if not within.all():
                cols = tuple(c[within] for c in cols)
            _read_only(cols)
            self._raw, self._sorted = (sizes, cols), None
        if not ordered:
            return self._raw[1]
        if self._sorted is None:
            cols = self._raw[1]
            order = np.argsort(cols[0], kind="stable")
            self._sorted = tuple(c[order] for c in cols)
            _read_only(self._sorted)
        return self._sorted

    def count(self, event: str, start: float, end: float = np.inf) -> int:
        """Events of one kind with time in ``[start, end)``."""
        t, _, e, _, _ = self.columns(ordered=False)
        return int(np.count_nonzero((e == EVENT[event]) & (t >= start) & (t < end)))


def _read_only(columns: tuple[np.ndarray, ...]) -> None:
    """Mark shared arrays read-only, so no caller can change another's view."""
    for column in columns:
        column.flags.writeable = False


def event_table(
    log: EventLog,
    organisations: dict[str, str] | list[dict[str, str]],
    quintile: np.ndarray,
    age: np.ndarray,
    frailty: np.ndarray,
    area: np.ndarray | None = None,
) -> pd.DataFrame:
    """The event log as a table (schema in docs/event_log.md).

    ``organisations`` is one organisation map, or one per area with ``area`` giving each
    person's area index, since the organisation running a service depends on the area's
    arrangement.
    """
    t, p, e, st, d = log.columns()
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
            "age_band": pd.Categorical.from_codes(age[p], categories=list(s.AGE_BANDS)),
            "frailty": pd.Categorical.from_codes(frailty[p], categories=list(s.FRAILTY)),
        }
    )
