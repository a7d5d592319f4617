"""Person-level urgent demand, generated vectorised before the run starts.

Each person's crisis events are a Poisson process at ``headroom`` times their static rate;
at each candidate time the model keeps the event with probability (current rate / maximum
rate), where the current rate reflects proactive-care enrolment, end-of-life care, GP
continuity, being dead or already in hospital (thinning). Every candidate carries its own
uniforms and normals (:data:`DRAWS`), so a decision about one event never shifts the random
numbers of another, whatever the capacities: common random numbers across scenarios.

Crisis candidates (and the extra ones of each decedent's illness trajectory) follow the
seasonal cycle of :mod:`sim.models.care.calendar`: the count over a person's window is
Poisson with the integral of the seasonal intensity, and each time is drawn by inverse
transform of the cumulative intensity from the same uniforms as before. With the amplitude
at 0 the code path, the draws and so the candidates are exactly those of a model without
seasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.models.care import schema as s
from sim.models.care import trajectories
from sim.models.care.acuity import Acuity
from sim.models.care.calendar import Calendar, from_params
from sim.models.care.params import CareParams
from sim.models.care.population import Population
from sim.rng import Streams

# Columns of the per-event draw matrix.
DRAWS = (
    "u_accept",
    "u_route",
    "u_avert",
    "u_step_up",
    "e_travel",
    "z_treat",
    "u_admit",
    "z_los",
    "u_dest",
    "e_handoff",
    "u_handoff",
    "z_stay",
    "e_visit",
)
N_DRAWS = len(DRAWS)
D = {name: i for i, name in enumerate(DRAWS)}


@dataclass
class Candidates:
    """Candidate urgent events sorted by time: person, time, kind and draws."""

    person: np.ndarray
    time: np.ndarray
    kind: np.ndarray
    draws: np.ndarray
    # Each person's trajectory code and the death times demand was drawn from (the illness):
    # a copy that the run never changes (trajectories.Illness keeps it as it is).
    trajectory: np.ndarray | None = None
    illness_death: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.person.size)


def crisis_rate_per_year(params: CareParams, pop: Population) -> np.ndarray:
    """Crisis rate per person-year now (before enrolment, continuity and end of life)."""
    return crisis_rate(params, pop.age, pop.frailty, pop.ltc, pop.quintile, pop.care_home)


def crisis_rate(
    params: CareParams,
    age: np.ndarray,
    frailty: np.ndarray,
    ltc: np.ndarray,
    quintile: np.ndarray,
    care_home: np.ndarray,
) -> np.ndarray:
    """Crisis rate per person-year for the given attributes (people or life-course spells)."""
    u = params.model.urgent
    base = np.array([u.crisis_per_person_year[b] for b in s.AGE_BANDS])[age]
    frail = np.array([u.crisis_frailty_multiplier[f] for f in s.FRAILTY])[frailty]
    dep = np.array(u.crisis_deprivation_multiplier)[quintile]
    home = np.where(care_home, u.crisis_care_home_multiplier, 1.0)
    return base * frail * (1.0 + u.crisis_per_ltc * ltc) * dep * home * u.crisis_scale


def minor_rate_per_year(params: CareParams, pop: Population) -> np.ndarray:
    """Rate of minor urgent need going straight to UTC or ED, per person-year now."""
    return minor_rate(params, pop.age, pop.quintile)


def minor_rate(params: CareParams, age: np.ndarray, quintile: np.ndarray) -> np.ndarray:
    """Rate of minor urgent need per person-year for the given ages and quintiles."""
    u = params.model.urgent
    base = np.array([u.minor_per_person_year[b] for b in s.AGE_BANDS])[age]
    return base * np.array(u.minor_deprivation_multiplier)[quintile] * u.minor_scale


def event_times(
    rng: np.random.Generator,
    n: int,
    start: np.ndarray,
    end: np.ndarray,
    hour_weights: np.ndarray,
    season: Calendar | None = None,
    horizon: float = 0.0,
) -> np.ndarray:
    """``n`` times within [start, end): the day uniform (or seasonal), the hour from a profile.

    With a seasonal ``season`` (amplitude above 0) the day follows the seasonal intensity,
    by inverse transform of its cumulative over [0, ``horizon``]; otherwise it is uniform.
    The same draws are taken in the same order either way.
    """
    if season is not None and season.seasonal:
        lo, hi = season.cumulative(start), season.cumulative(end)
        y = lo + rng.random(n) * np.maximum(hi - lo, 0.0)
        day = np.floor(np.clip(season.inverse_cumulative(y, horizon), start, end))
    else:
        span = np.maximum(end - start, 0.0)
        day = np.floor(start + rng.random(n) * span)
    hour_cdf = np.cumsum(hour_weights) / hour_weights.sum()
    hour = np.searchsorted(hour_cdf, rng.random(n), side="right")
    t = day + (np.minimum(hour, 23) + rng.random(n)) / 24.0
    return np.clip(t, start, np.nextafter(end, start))


def _poisson_events(
    rng: np.random.Generator,
    rate_per_year: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    hours: np.ndarray,
    season: Calendar | None = None,
    horizon: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    if season is not None and season.seasonal:
        exposure = season.cumulative(end) - season.cumulative(start)
    else:
        exposure = end - start
    counts = rng.poisson(rate_per_year * np.maximum(exposure, 0.0) / 365.0)
    person = np.repeat(np.arange(rate_per_year.size), counts)
    t = event_times(rng, person.size, start[person], end[person], hours, season, horizon)
    return person, t


def generate(
    params: CareParams, pop: Population, streams: Streams, horizon: float
) -> tuple[Candidates, tuple[np.ndarray, np.ndarray]]:
    """Candidate urgent events for the run, and the UTC visits of minor need.

    Returns
    -------
    candidates
        Crisis (usual and from illness trajectories), terminal and minor-to-ED events, by
        time.
    utc
        (person, time) of minor need that goes to an urgent treatment centre; these never
        queue for anything the model shares, so they need no simulated event.
    """
    u = params.model.urgent
    eol = params.model.eol
    hours = np.asarray(u.hour_weights, dtype=float)
    n = pop.size
    # Kept for the whole run, so taken before the temporaries below: memory freed under
    # something still in use cannot go back to the system.
    illness_death = pop.death_time.copy()
    # Crises follow the seasons; minor need and terminal events do not (docs/model.md).
    season = from_params(params)

    rate = crisis_rate_per_year(params, pop)
    # Crises and minor need follow each person's life course: one Poisson process per spell
    # of constant age band, frailty and conditions, at that spell's rate.
    seg = pop.spells
    who = seg.person
    seg_start = np.minimum(seg.start, horizon)
    seg_end = np.clip(seg.end, seg_start, horizon)
    seg_rate = crisis_rate(
        params, seg.age, seg.frailty, seg.ltc, pop.quintile[who], pop.care_home[who]
    )
    rng = streams.generator("crisis/times")
    k1, t1 = _poisson_events(rng, seg_rate * u.headroom, seg_start, seg_end, hours, season, horizon)
    p1 = who[k1]
    # Temporaries go as soon as they are used: a few per person or spell at 1.9 million
    # people are a few hundred MB, and what is freed early is reused by what follows.
    del k1, seg_rate

    # Rising need before death, in the shape of each decedent's illness trajectory
    # (sim/models/care/trajectories.py): extra crisis candidates, thinned from the bound.
    def seasonal(
        rng: np.random.Generator, r: np.ndarray, a: np.ndarray, b: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return _poisson_events(rng, r, a, b, hours, season, horizon)

    p2, t2, trajectory = trajectories.extra_crises(
        params, pop.age, pop.death_time, rate * u.headroom, streams, horizon, seasonal
    )
    del rate
    dying = np.isfinite(pop.death_time)
    # A terminal deterioration a few days before death, for a configured share of decedents.
    rng = streams.generator("death/terminal")
    share = np.where(
        pop.care_home, eol.terminal_event_share["care_home"], eol.terminal_event_share["community"]
    )
    has = dying & (rng.random(n) < share)
    lead = rng.standard_exponential(n) * eol.terminal_lead_days_mean
    p3 = np.flatnonzero(has & (pop.death_time - lead >= 0))
    t3 = pop.death_time[p3] - lead[p3]
    del dying, share, has, lead

    rng = streams.generator("minor/times")
    km, tm = _poisson_events(
        rng, minor_rate(params, seg.age, pop.quintile[who]), seg_start, seg_end, hours
    )
    del seg_start, seg_end
    pm = who[km]
    del km
    to_ed = streams.generator("minor/route").random(pm.size) < u.minor_shares["ed"]

    person = np.concatenate([p1, p2, p3, pm[to_ed]])
    time = np.concatenate([t1, t2, t3, tm[to_ed]])
    kind = np.concatenate(
        [
            np.full(p1.size + p2.size, Acuity.CRISIS, np.int8),
            np.full(p3.size, Acuity.TERMINAL, np.int8),
            np.full(int(to_ed.sum()), Acuity.MINOR, np.int8),
        ]
    )
    del p1, p2, p3, t1, t2, t3
    # Only while registered: after joining and before a move away is due (a move that has
    # to wait is the only case where someone on the list has no candidates).
    on = (time >= pop.joined[person]) & (time < pop.leave_time[person])
    person, time, kind = person[on], time[on], kind[on]
    del on
    order = np.argsort(time, kind="stable")
    person, time, kind = person[order], time[order], kind[order]
    draws = draw_matrix(streams.generator("crisis/draws"), person.size)[order]
    del order
    cands = Candidates(
        person,
        time,
        kind,
        draws,
        trajectory=trajectory,
        illness_death=illness_death,
    )
    utc = ~to_ed & (tm >= pop.joined[pm]) & (tm < pop.leave_time[pm])
    # Person ids as int64, as before the spells' ids became int32 (the same values).
    return cands, (pm[utc].astype(np.int64), tm[utc])


def draw_matrix(rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-event uniforms (``u_``), standard exponentials (``e_``) and normals (``z_``)."""
    out = rng.random((n, N_DRAWS))
    for name, j in D.items():
        if name.startswith("e_"):
            out[:, j] = -np.log1p(-out[:, j])
        elif name.startswith("z_"):
            out[:, j] = rng.standard_normal(n)
    return out
