"""The synthetic population, stored as columns (one numpy array per attribute).

Attributes come from the ``population`` stream and death times from ``death/times``; neither
depends on services or the lead-provider arrangement, so every scenario sees the same people
who die at the same times (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.models.care import life_course as lc
from sim.models.care import schema as s
from sim.models.care import trajectories
from sim.models.care.params import CareParams
from sim.rng import Streams

NO_DEATH = np.inf


@dataclass
class Population:
    """People as columns; index = person id.

    The first ``n_start`` people are registered at the start; the others join during the
    run (births and moves in, at ``joined``). Attributes are the CURRENT state, moved
    forward each day by :func:`sim.models.care.life_course.run`; the drawn future
    (``segments``, ``leave_time``) is for that process and demand generation only.

    Attributes
    ----------
    age
        Index into :data:`~sim.models.care.schema.AGE_BANDS`.
    male
        True for male.
    frailty
        eFI category index into :data:`~sim.models.care.schema.FRAILTY` (``fit`` under 65).
    ltc
        Number of long-term conditions.
    quintile
        Deprivation quintile 0..4 (0 least deprived, 4 most deprived).
    practice, neighbourhood
        Registered practice and its neighbourhood.
    care_home
        Lives in a care home (changes when a discharge places someone in one).
    death_time
        Time of death in days; ``inf`` if the person survives the horizon plus the
        end-of-life look-ahead, or moves away first. Times after the horizon are never
        simulated, but they put the person in their end-of-life phase (and its extra need)
        before the run ends.
    joined
        Day the person joined the list (0 for people registered at the start).
    on_list
        Registered now (joined, not yet moved away; the dead stay flagged).
    leave_time
        Day the person's move away is due (``inf`` if none); it may wait (life_course.run).
    left_time
        Day the person moved away (``inf`` while registered). Moves happen on whole days
        (:func:`sim.models.care.life_course.run`), which float32 holds exactly.
    segments
        Each person's spells of constant age band, frailty and conditions.
    rates
        The derived flow rates (:class:`sim.models.care.life_course.Rates`).
    n_start
        Number registered at the start.
    flows
        Joins, moves away and deferred moves counted during the run.
    """

    age: np.ndarray
    male: np.ndarray
    frailty: np.ndarray
    ltc: np.ndarray
    quintile: np.ndarray
    practice: np.ndarray
    neighbourhood: np.ndarray
    care_home: np.ndarray
    death_time: np.ndarray
    joined: np.ndarray = field(default_factory=lambda: np.zeros(0))
    on_list: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    leave_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    left_time: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    segments: lc.Segments | None = None
    rates: lc.Rates | None = None
    n_start: int = 0
    flows: lc.Flows = field(default_factory=lc.Flows)

    @property
    def spells(self) -> lc.Segments:
        """The life-course spells (set by :func:`generate`; an error before)."""
        if self.segments is None:
            raise RuntimeError("the population's life course has not been drawn")
        return self.segments

    @property
    def size(self) -> int:
        """Number of people (registered at the start and joining during the run)."""
        return int(self.age.size)


def _draw_categorical(u: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Row-wise inverse CDF: ``cdf`` has one row per person (or broadcastable)."""
    return (u[:, None] > cdf).sum(axis=1).astype(np.int8)


def generate(params: CareParams, streams: Streams, horizon: float) -> Population:
    """Draw the population for one replication, with each person's life course.

    Parameters
    ----------
    params
        Validated model parameters (practices, population mix, life course).
    streams
        The replication's named streams (``population``, ``death/times`` and ``life/*``).
    horizon
        Simulated days. Deaths are drawn up to the horizon plus the longer of
        ``eol.phase_days`` and the longest illness trajectory's rise in need
        (:func:`~sim.models.care.trajectories.lookahead_days`): someone who dies soon after
        the run ends is already declining within it, and censoring at the horizon would
        empty the end-of-life caseload and the rise in need over the end of every run.
    """
    m = params.model.population
    rng = streams.generator("population")
    sizes = np.array([p.list_size for p in params.practices])
    practice = np.repeat(np.arange(sizes.size, dtype=np.int32), sizes)
    nb_of_practice = np.array([p.neighbourhood for p in params.practices], dtype=np.int32)
    area_names = list(params.place.areas)
    area_of_nb = np.array([area_names.index(a) for a in params.neighbourhood_areas])
    area = area_of_nb[nb_of_practice[practice]]
    n = practice.size

    age_cdf = np.array(
        [
            np.cumsum(
                [
                    (params.place.areas[a].age_shares or params.place.age_shares)[b]
                    for b in s.AGE_BANDS
                ]
            )[:-1]
            for a in area_names
        ]
    )
    dep_cdf = np.array(
        [np.cumsum(params.place.areas[a].deprivation_shares)[:-1] for a in area_names]
    )
    age = _draw_categorical(rng.random(n), age_cdf[area])
    quintile = _draw_categorical(rng.random(n), dep_cdf[area])
    male = rng.random(n) < m.male_share

    frailty = np.zeros(n, dtype=np.int8)
    care_home = np.zeros(n, dtype=bool)
    u_frail, u_home, u_home_frail = rng.random(n), rng.random(n), rng.random(n)
    for band in s.OLD_BANDS:
        idx = np.flatnonzero(age == s.AGE_BANDS.index(band))
        cdf = np.cumsum([m.frailty_shares[band][f] for f in s.FRAILTY])[:-1]
        frailty[idx] = _draw_categorical(u_frail[idx], cdf[None, :])
        care_home[idx] = u_home[idx] < m.care_home_share[band]
    home_cdf = np.cumsum([m.care_home_frailty_shares[f] for f in s.FRAILTY])[:-1]
    idx = np.flatnonzero(care_home)
    frailty[idx] = _draw_categorical(u_home_frail[idx], home_cdf[None, :])

    ltc_mean_age = np.array([m.ltc_mean[b] for b in s.AGE_BANDS])[age]
    dep_mult = np.array(m.ltc_deprivation_multiplier)[quintile]
    frail_extra = np.array([m.ltc_frailty_extra[f] for f in s.FRAILTY])[frailty]
    ltc = rng.poisson(ltc_mean_age * dep_mult + frail_extra).astype(np.int8)

    # The life course: exact ages, joiners, then every person's spells, death and move.
    rates = lc.derive_rates(params, age, frailty, care_home)
    age_years = lc.draw_exact_age(params, streams.generator("life/age"), age, rates)
    j = lc.draw_joiners(params, streams, rates, horizon, area_of_nb[nb_of_practice])
    pop = Population(
        age=np.concatenate([age, (j.age_years >= lc.BAND_EDGES[:, None]).sum(0) - 1]).astype(
            np.int8
        ),
        male=np.concatenate([male, j.male]),
        frailty=np.concatenate([frailty, j.frailty]).astype(np.int8),
        ltc=np.concatenate([ltc, j.ltc]).astype(np.int8),
        quintile=np.concatenate([quintile, j.quintile]).astype(np.int8),
        practice=np.concatenate([practice, j.practice]),
        neighbourhood=nb_of_practice[np.concatenate([practice, j.practice])],
        care_home=np.concatenate([care_home, np.zeros(j.time.size, bool)]),
        death_time=np.zeros(0),
        joined=np.concatenate([np.zeros(n), j.time]),
        on_list=np.concatenate([np.ones(n, bool), np.zeros(j.time.size, bool)]),
        rates=rates,
        n_start=n,
    )
    # Deaths up to the longest rise in need before death (trajectories.py) after the horizon.
    lookahead = trajectories.lookahead_days(params)
    # Days of birth (negative before the run) place each birthday; only the spells need
    # them, so they are not kept (8 bytes a person).
    born = np.concatenate([-age_years * lc.DAYS_PER_YEAR, j.time - j.age_years * lc.DAYS_PER_YEAR])
    # The starters' columns were copied into ``pop``; these and the draws go before the
    # spells, the largest step (tens of bytes a person each at 1.9 million people).
    del age_years, j, age, male, frailty, care_home, ltc, quintile, practice, area
    del u_frail, u_home, u_home_frail, ltc_mean_age, dep_mult, frail_extra, idx
    pop.segments, pop.death_time, pop.leave_time = lc.draw_segments(
        params, streams, rates, pop, horizon + lookahead, born
    )
    # Set before the run, not as people move: memory stays flat during the run.
    pop.left_time = np.full(pop.size, np.inf, dtype=np.float32)
    return pop


def mortality_per_year(
    params: CareParams, age: np.ndarray, frailty: np.ndarray, care_home: np.ndarray
) -> np.ndarray:
    """Annual death hazard per person (age rate x eFI hazard ratio x care-home ratio); the
    same hazard the life course draws deaths from (:func:`.life_course.band_mortality`)."""
    return lc.band_mortality(params, age, frailty, care_home)


def draw_death_times(
    params: CareParams,
    age: np.ndarray,
    frailty: np.ndarray,
    care_home: np.ndarray,
    streams: Streams,
    horizon: float,
) -> np.ndarray:
    """Exponential time to death from each person's hazard; ``inf`` beyond ``horizon``."""
    hazard_per_day = mortality_per_year(params, age, frailty, care_home) / 365.0
    e = streams.generator("death/times").standard_exponential(age.size)
    with np.errstate(divide="ignore"):
        t = np.where(hazard_per_day > 0, e / np.maximum(hazard_per_day, 1e-300), NO_DEATH)
    return np.where(t < horizon, t, NO_DEATH)
