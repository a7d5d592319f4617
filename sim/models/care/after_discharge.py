"""Each person's risk after an emergency discharge, and the 30-day readmission tally.

After an emergency discharge a person's crisis rate is raised by a factor that starts at
``peak`` and decays exponentially (``half_life_days``) to 1, ending at ``window_days``. The
peak depends only on the person's past: the discharge time and what happened to the onward
referral (lost, or a long wait in the bed for onward care).

The excess is its own stream of candidate crises, drawn at the discharge
(:meth:`AfterDischarge.excess`): a Poisson number with the excess's integral as mean, at
times from its decaying shape. Their sum with the usual candidates is the raised rate exactly
(superposition of Poisson processes). Before, the usual candidates were drawn at the largest
ratio any discharge could apply (``urgent.headroom`` 5.5) and thinned back down, so four in
five candidates of every person were drawn and walked to be thrown away. The draws of a
person's k-th discharge come from a stream named by the person and k, so scenarios share them
(common random numbers) whatever happened to anyone else. Unlike the old ratio, a second
discharge adds its excess to what is left of the first instead of replacing it.

A 30-day readmission is an emergency admission (the bed granted) within ``READMISSION_DAYS``
of the person's previous emergency discharge alive. The cohort is the emergency discharges
from the end of the warm-up to ``horizon - READMISSION_DAYS``, so every window is observed in
full; each counts at most once.
"""

from __future__ import annotations

import math

import numpy as np

from sim.models.care.demand import draw_matrix
from sim.models.care.identification import MatrixRows
from sim.models.care.schema import AfterDischargeConfig
from sim.rng import Streams, generator

# Uniforms for the count of excess crises of each person's first discharges: their row of
# one matrix of the stream ``after/count``, drawn at the discharge (:class:`MatrixRows`: the
# matrix's numbers without its 16 bytes a person); later discharges draw theirs from a
# stream of their own.
COUNT_SLOTS = 2

READMISSION_DAYS = 30.0

# How the onward part of a discharge ended (the risk state reads only these).
HOME = 0  # straight home, to a care home, or after a completed onward handoff
LOST = 1  # the onward referral was lost
SLOW = 2  # waited longer than ``slow_wait_days`` in the bed for onward care


def peak_ratio(cfg: AfterDischargeConfig, outcome: int, onward: bool) -> float:
    """Peak crisis-rate ratio after a discharge with this outcome.

    Parameters
    ----------
    cfg
        The ``model.after_discharge`` settings.
    outcome
        ``HOME``, ``LOST`` or ``SLOW``.
    onward
        The patient left for step-down or a virtual ward (a completed onward stay).
    """
    ratio = cfg.crisis_rate_ratio
    if outcome == LOST:
        ratio *= cfg.lost_referral_ratio
    elif outcome == SLOW:
        ratio *= cfg.slow_wait_ratio
    if onward:
        ratio *= cfg.onward_care_ratio
    return ratio


class AfterDischarge:
    """Post-discharge risk state of every person and the readmission counts.

    Parameters
    ----------
    cfg
        The ``model.after_discharge`` settings.
    size
        Number of people.
    warm_up, horizon
        Run window (days): the readmission cohort is ``[warm_up, horizon - 30]``.
    quintile
        Deprivation quintile (0 = least deprived) of each person.
    """

    def __init__(
        self,
        cfg: AfterDischargeConfig,
        size: int,
        warm_up: float,
        horizon: float,
        quintile: np.ndarray,
        streams: Streams,
    ) -> None:
        self.cfg = cfg
        self.streams = streams
        self.count_u = MatrixRows(streams.seed, streams.replication, "after/count", COUNT_SLOTS)
        self.count = np.zeros(size, dtype=np.int32)  # discharges so far, per person
        self.warm_up = warm_up
        self.cohort_end = horizon - READMISSION_DAYS
        self.quintile = quintile
        self.discharged = np.full(size, math.nan)  # last emergency discharge alive
        # The peak ratio of each person's last discharge, as an index into the few ratios
        # there are (``peak_ratio`` of outcome and onward care): a byte a person, not eight.
        self._ratios = [peak_ratio(cfg, o, w) for o in (HOME, LOST, SLOW) for w in (False, True)]
        self._peak = np.zeros(size, dtype=np.int8)
        self.outcome = np.zeros(size, dtype=np.int8)
        self.open = np.zeros(size, dtype=bool)  # last discharge in the cohort, not yet counted
        self.decay = math.log(2.0) / cfg.half_life_days
        self.discharges = np.zeros(5, dtype=np.int64)  # cohort discharges by quintile
        self.readmissions = np.zeros(5, dtype=np.int64)
        self.after_lost = 0  # readmissions whose index discharge followed a lost referral
        self.discharges_after_lost = 0

    def peak(self, person: int) -> float:
        """Peak crisis-rate ratio of the person's last discharge (:func:`peak_ratio`)."""
        return self._ratios[self._peak[person]]

    def ratio(self, person: int, now: float) -> float:
        """The person's crisis-rate ratio at ``now`` from their last discharge (1 outside the
        window); the excess candidates of :meth:`excess` follow ``ratio - 1``."""
        since = now - self.discharged[person]
        if not since < self.cfg.window_days:  # also False for NaN (never discharged)
            return 1.0
        return 1.0 + (self.peak(person) - 1.0) * math.exp(-self.decay * since)

    def excess(
        self, person: int, now: float, rate_per_year: float
    ) -> tuple[list[float], np.ndarray]:
        """Candidate crises of the excess after the discharge just recorded at ``now``.

        Parameters
        ----------
        person
            Who was discharged (call after :meth:`discharge`).
        now
            The discharge time.
        rate_per_year
            The person's usual crisis rate now (the excess is a multiple of it).

        Returns
        -------
        times, draws
            Absolute times (sorted) and one row of :data:`~sim.models.care.demand.DRAWS`
            per candidate.
        """
        k = int(self.count[person])
        self.count[person] = k + 1
        extra = self.peak(person) - 1.0
        if extra <= 0.0 or rate_per_year <= 0.0:
            return [], _NO_DRAWS
        tail = -math.expm1(-self.decay * self.cfg.window_days)  # share of the excess in window
        mean = rate_per_year / 365.0 * extra * tail / self.decay
        if k < COUNT_SLOTS:
            u = self.count_u.row(person)[k]
        else:
            u = float(self._rng(person, k, "count").random())
        n = _poisson_inverse(u, mean)
        if n == 0:
            return [], _NO_DRAWS
        rng = self._rng(person, k, "crises")
        since = -np.log1p(-rng.random(n) * tail) / self.decay  # inverse of the decaying shape
        return sorted((now + since).tolist()), draw_matrix(rng, n)

    def _rng(self, person: int, k: int, what: str) -> np.random.Generator:
        return generator(self.streams.seed, self.streams.replication, f"after/{what}/{person}/{k}")

    def discharge(self, person: int, now: float, outcome: int, onward: bool) -> None:
        """An emergency discharge alive: set the risk state and open a readmission window."""
        self.discharged[person] = now
        self._peak[person] = 2 * outcome + int(onward)
        self.outcome[person] = outcome
        in_cohort = self.warm_up <= now <= self.cohort_end
        self.open[person] = in_cohort
        if in_cohort:
            self.discharges[self.quintile[person]] += 1
            self.discharges_after_lost += outcome == LOST

    def admission(self, person: int, now: float) -> bool:
        """An emergency admission; True (and counted) if it is a 30-day readmission."""
        if not self.open[person]:
            return False
        self.open[person] = False
        if now - self.discharged[person] > READMISSION_DAYS:
            return False
        self.readmissions[self.quintile[person]] += 1
        self.after_lost += self.outcome[person] == LOST
        return True

    def share(self, quintile: int | None = None) -> float:
        """Readmissions within 30 days / cohort discharges (all, or one quintile)."""
        if quintile is None:
            num, den = int(self.readmissions.sum()), int(self.discharges.sum())
        else:
            num, den = int(self.readmissions[quintile]), int(self.discharges[quintile])
        return num / den if den else math.nan


_NO_DRAWS = np.zeros((0, 0))


def _poisson_inverse(u: float, mean: float) -> int:
    """The Poisson(``mean``) count whose CDF first reaches ``u`` (inverse transform)."""
    p = math.exp(-mean)
    cdf, n = p, 0
    while u > cdf and p > 0.0:
        n += 1
        p *= mean / n
        cdf += p
    return n
