"""The model's calendar: dates, days of the week and the seasonal cycle of crisis demand.

Simulated time ``t`` is in days from midnight at the start of ``model.calendar.start_date``
(default 1 April 2024, the start of NHS financial year 2024/25 and a Monday). Every function
takes a scalar or an array of times and answers element-wise.

The seasonal multiplier of crisis demand is one harmonic,

    m(t) = 1 + A cos(2 pi (t - t_peak) / 365.25),

peaking mid-way through the configured day of the year. Its mean over any 365.25 days is
exactly 1, so annual totals (and the calibration targets) are unchanged in expectation; its
integral :meth:`Calendar.cumulative` is closed-form, and :meth:`Calendar.inverse_cumulative`
maps uniform draws onto the seasonal intensity (inverse-transform sampling).

Bank holidays are not modelled: a working day is Monday to Friday.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.models.care.params import CareParams

YEAR_DAYS = 365.25
# Step of the grid that inverts the cumulative intensity; one hour keeps the interpolation
# error far below a minute of simulated time.
_GRID_STEP = 1.0 / 24.0
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def parse_date(value: str) -> dt.date:
    """An ISO date (``YYYY-MM-DD``); raises ``ValueError`` for anything else."""
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {value!r}")
    return dt.date.fromisoformat(value)


@dataclass(frozen=True)
class Calendar:
    """Dates and the seasonal multiplier of crisis demand for one run.

    Parameters
    ----------
    start_date
        The date of day 0 (ISO ``YYYY-MM-DD``).
    amplitude
        Seasonal amplitude ``A`` of crisis demand, in [0, 1); 0 switches seasonality off.
    peak_day_of_year
        Day of the year (1 = 1 January) on which crisis demand peaks.
    """

    start_date: str = "2024-04-01"
    amplitude: float = 0.0
    peak_day_of_year: int = 15

    @property
    def start(self) -> dt.date:
        """Day 0 as a :class:`datetime.date`."""
        return parse_date(self.start_date)

    @property
    def seasonal(self) -> bool:
        """True when the seasonal cycle is switched on (amplitude above 0)."""
        return self.amplitude > 0.0

    # ----------------------------------------------------------------- dates
    def _day(self, t: np.ndarray | float) -> np.ndarray:
        return np.floor(np.asarray(t, dtype=float)).astype(np.int64)

    def day_of_week(self, t: np.ndarray | float) -> np.ndarray:
        """Day of the week of time ``t``: 0 = Monday ... 6 = Sunday."""
        return (self.start.weekday() + self._day(t)) % 7

    def is_weekend(self, t: np.ndarray | float) -> np.ndarray:
        """True on Saturdays and Sundays."""
        return self.day_of_week(t) >= 5

    def is_working_day(self, t: np.ndarray | float) -> np.ndarray:
        """True Monday to Friday (bank holidays are not modelled)."""
        return ~self.is_weekend(t)

    def dates(self, t: np.ndarray | float) -> np.ndarray:
        """Calendar dates of time ``t`` as ``numpy.datetime64[D]``."""
        return np.datetime64(self.start.isoformat(), "D") + self._day(t)

    def month(self, t: np.ndarray | float) -> np.ndarray:
        """Calendar month of time ``t``: 1 = January ... 12 = December."""
        return self.dates(t).astype("datetime64[M]").astype(np.int64) % 12 + 1

    # --------------------------------------------------------------- seasons
    @property
    def _phase0(self) -> float:
        """The cycle's phase at t = 0: minus the days to the middle of the first peak day.

        The first peak is the configured day of the year on or after ``start_date``, so it
        falls exactly on that date; later peaks follow every 365.25 days (within a quarter
        of a day of the calendar date).
        """
        start = self.start
        peak = dt.date(start.year, 1, 1) + dt.timedelta(days=self.peak_day_of_year - 1)
        if peak < start:
            peak = dt.date(start.year + 1, 1, 1) + dt.timedelta(days=self.peak_day_of_year - 1)
        return -((peak - start).days + 0.5)

    def seasonal_multiplier(self, t: np.ndarray | float) -> np.ndarray:
        """Multiplier of crisis demand at time ``t`` (mean 1 over any 365.25 days)."""
        x = 2.0 * math.pi * (np.asarray(t, dtype=float) + self._phase0) / YEAR_DAYS
        return 1.0 + self.amplitude * np.cos(x)

    def cumulative(self, t: np.ndarray | float) -> np.ndarray:
        """Integral of the multiplier from 0 to ``t`` (equal to ``t`` when seasonality is off)."""
        t = np.asarray(t, dtype=float)
        if not self.seasonal:
            return t
        w = 2.0 * math.pi / YEAR_DAYS
        return t + self.amplitude / w * (
            np.sin(w * (t + self._phase0)) - math.sin(w * self._phase0)
        )

    def inverse_cumulative(self, y: np.ndarray, horizon: float) -> np.ndarray:
        """Times ``t`` in [0, horizon] with ``cumulative(t) = y`` (``y`` clipped to the range).

        The cumulative intensity is strictly increasing (amplitude below 1), so linear
        interpolation on an hourly grid inverts it to well within a minute.
        """
        y = np.asarray(y, dtype=float)
        if not self.seasonal:
            return y
        n = int(math.ceil(max(horizon, 0.0) / _GRID_STEP)) + 1
        grid = np.linspace(0.0, max(horizon, 0.0), n)
        return np.interp(y, self.cumulative(grid), grid)


def from_params(params: CareParams) -> Calendar:
    """The run's calendar from validated care params (``params.model.calendar``)."""
    c = params.model.calendar
    return Calendar(
        c.start_date, float(c.crisis_seasonal_amplitude), int(c.crisis_peak_day_of_year)
    )
