"""Illness trajectories to death: how a decedent's need for urgent care rises before death.

Each person who dies (finite death time) follows one of the trajectories of Lynn & Adamson
[src:lynn-adamson-2003] and Murray et al. [src:murray-2005], with shares by age band
(``model.trajectories.shares``):

``sudden``
    no rise beforehand (an unheralded death);
``short_decline``
    mostly cancer: function holds up, then declines steeply over the last months;
``organ_failure``
    heart and lung failure: a gradual decline over the last years, punctuated by
    exacerbations that bring the person to hospital;
``dwindling``
    frailty and dementia: a slow decline over the last year or more.

Each trajectory raises the person's crisis hazard above their usual rate by an *excess*
that depends only on the time ``tau`` left to death (``model.trajectories.shapes``)::

    excess(tau) = plateau * max(0, 1 - tau / span_days) + peak * exp(-tau / scale_days)

a linear rise over ``span_days`` (the long decline) plus a steep rise near death, cut off at
:data:`TAIL` scales (under 0.25% of the steep part is lost). The extra crisis candidates are
drawn by thinning: a Poisson process at the person's bound ``plateau + peak`` times their
usual candidate rate over the trajectory's window (following the seasons, as every crisis
does), each candidate kept with probability ``excess(tau) / bound``. This is the illness,
drawn up front from the death times; the services never read it, and clustering of
exacerbations after a hospital stay comes from the raised risk after discharge
(:mod:`sim.models.care.after_discharge`), which knows only the past.

Draws come from named streams (``trajectory/assign``, ``trajectory/times``,
``trajectory/thin``) keyed by the seed and replication only, so every scenario gives each
person the same trajectory and the same extra candidates (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sim.models.care import schema as s
from sim.models.care.params import CareParams
from sim.rng import Streams

NONE = -1  # trajectory code of a person who does not die within the look-ahead
TAIL = 6.0  # the steep part is cut off this many scales before death

# (rng, rate per year, start, end) -> (person, time) of a Poisson process with the seasons.
EventDraw = Callable[
    [np.random.Generator, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]
]


def shape_arrays(params: CareParams) -> dict[str, np.ndarray]:
    """Each shape parameter as an array indexed by trajectory code."""
    shapes = params.model.trajectories.shapes
    return {
        key: np.array([getattr(shapes[k], key) for k in s.TRAJECTORIES], dtype=float)
        for key in ("plateau", "span_days", "peak", "scale_days")
    }


def window_days(params: CareParams) -> np.ndarray:
    """Days before death over which each trajectory raises need (0 if it never does)."""
    a = shape_arrays(params)
    w = np.maximum(np.where(a["plateau"] > 0, a["span_days"], 0.0),
                   np.where(a["peak"] > 0, TAIL * a["scale_days"], 0.0))  # fmt: skip
    return w


def lookahead_days(params: CareParams) -> float:
    """How long after the horizon a death still raises need within the run."""
    return float(max(params.model.eol.phase_days, window_days(params).max(initial=0.0)))


def assign(
    params: CareParams, age: np.ndarray, death_time: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Each person's trajectory code (:data:`NONE` if they do not die).

    Parameters
    ----------
    params
        Validated parameters (``model.trajectories.shares`` by age band).
    age
        Age-band index per person.
    death_time
        Death time per person, ``inf`` if none.
    u
        One uniform per person (the same person draws the same number in every scenario).
    """
    shares = params.model.trajectories.shares
    cdf = np.array([np.cumsum([shares[b][k] for k in s.TRAJECTORIES])[:-1] for b in s.AGE_BANDS])
    code = (u[:, None] > cdf[age]).sum(axis=1).astype(np.int8)
    return np.where(np.isfinite(death_time), code, NONE).astype(np.int8)


def excess(params: CareParams, code: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Excess crisis hazard (multiple of the usual rate) ``tau`` days before death."""
    a = shape_arrays(params)
    c = np.maximum(code, 0)
    span = np.maximum(a["span_days"][c], 1e-12)
    linear = a["plateau"][c] * np.clip(1.0 - tau / span, 0.0, 1.0)
    scale = np.maximum(a["scale_days"][c], 1e-12)
    steep = np.where(tau <= TAIL * scale, a["peak"][c] * np.exp(-tau / scale), 0.0)
    out = np.where(tau >= 0, linear + steep, 0.0)
    return np.where(code == NONE, 0.0, out)


class Illness:
    """Each person's trajectory and the death time it leads to, fixed when demand is drawn.

    The post-discharge excess (:meth:`sim.models.care.after_discharge.AfterDischarge.excess`)
    multiplies the person's whole crisis rate at the discharge, the trajectory's rise
    included, as the thinning did when post-discharge risk was a ratio on every candidate.
    Like the trajectory's own candidates, this is the illness, not a service's decision, and
    it reads this copy of the death times taken when demand was drawn, never the live ones
    that the model's events follow (tests/model/test_no_foresight.py perturbs those).
    """

    def __init__(self, params: CareParams, code: np.ndarray, death_time: np.ndarray) -> None:
        a = shape_arrays(params)
        # Kept as given (one byte a person; a list of codes cost eight): ``death_time`` must
        # be a copy the run never changes, as ``demand.Candidates.illness_death`` is (a
        # second copy here cost 8 bytes a person for nothing).
        self.code = np.asarray(code, dtype=np.int8)
        self.death_time = death_time
        self.plateau = a["plateau"].tolist()
        self.span = np.maximum(a["span_days"], 1e-12).tolist()
        self.peak = a["peak"].tolist()
        self.scale = np.maximum(a["scale_days"], 1e-12).tolist()

    def multiplier(self, person: int, now: float) -> float:
        """1 plus the trajectory's excess (a multiple of the usual rate) at ``now``."""
        c = int(self.code[person])
        if c == NONE:
            return 1.0
        tau = float(self.death_time[person]) - now
        if tau < 0.0:
            return 1.0
        out = self.plateau[c] * min(max(1.0 - tau / self.span[c], 0.0), 1.0)
        if tau <= TAIL * self.scale[c]:
            out += self.peak[c] * math.exp(-tau / self.scale[c])
        return 1.0 + out


def extra_crises(
    params: CareParams,
    age: np.ndarray,
    death_time: np.ndarray,
    candidate_rate: np.ndarray,
    streams: Streams,
    horizon: float,
    draw: EventDraw,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extra crisis candidates from each decedent's trajectory, by thinning.

    Parameters
    ----------
    params
        Validated parameters.
    age
        Age-band index per person.
    death_time
        Death time per person (``inf`` if none): the only input about the future, and it
        is the illness's, not a service's.
    candidate_rate
        Each person's usual crisis-candidate rate per year (before the trajectory).
    streams
        The replication's named streams.
    horizon
        End of the run; candidates are drawn in ``[0, min(death, horizon))``.
    draw
        Draws a seasonal Poisson process, ``(rng, rate per year, start, end) -> (person,
        time)`` (:func:`sim.models.care.demand.generate` passes its own).

    Returns
    -------
    person, time
        The kept candidates (unsorted).
    code
        Every person's trajectory code.
    """
    code = assign(params, age, death_time, streams.generator("trajectory/assign").random(age.size))
    a = shape_arrays(params)
    c = np.maximum(code, 0)
    bound = np.where(code == NONE, 0.0, a["plateau"][c] + a["peak"][c])
    window = window_days(params)[c]
    dies = np.isfinite(death_time)
    end = np.where(dies, np.minimum(death_time, horizon), 0.0)
    start = np.where(dies, np.clip(death_time - window, 0.0, horizon), 0.0)
    start = np.minimum(start, end)
    person, t = draw(streams.generator("trajectory/times"), candidate_rate * bound, start, end)
    u = streams.generator("trajectory/thin").random(person.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep_p = excess(params, code[person], death_time[person] - t) / bound[person]
    keep = u < keep_p
    return person[keep], t[keep], code
