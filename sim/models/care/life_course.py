"""An open, ageing population: each person's life course over the run, drawn up front.

People age (their band changes at the birthday that crosses a band edge), frailty progresses
(fit -> mild -> moderate -> severe from 65), babies are born and people move in and out. A
person's course is a list of segments ``[start, end)`` with a constant age band, frailty and
number of long-term conditions; the segments end at death, at a move away, or at the end of
the simulated horizon plus the end-of-life look-ahead.

Everything is drawn before the run from named streams (``life/*`` and ``death/times``) and
depends on no service and no lead-provider arrangement, so every scenario sees the same
people born, ageing, moving and dying at the same times (common random numbers). The cost is
linear in people x segments; the loop below runs once per segment rank (a handful).

Moves in and frailty transition rates are derived, not configured: they are the rates that
keep the starting list size and its age and frailty mix stationary given the configured
births, moves out and death rates (docs/model.md, "An open, ageing population").

During the run :func:`run` is the one process that moves the current state
(``world.pop.age``, ``.frailty``, ``.ltc``, ``.on_list``) forward day by day: services read
only the present, never a person's future segments.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.models.care import schema as s
from sim.models.care.params import CareParams
from sim.rng import Streams

if TYPE_CHECKING:
    import simpy

    from sim.models.care.model import World
    from sim.models.care.population import Population

DAYS_PER_YEAR = 365.25
# Lower edge of each age band in years; the last band has no upper edge.
BAND_EDGES = np.array([0.0, 18.0, 45.0, 65.0, 75.0, 85.0])
N_BANDS = len(s.AGE_BANDS)
N_FRAIL = len(s.FRAILTY)
OLD = s.AGE_BANDS.index(s.OLD_BANDS[0])


@dataclass
class Rates:
    """The derived flow rates (per person-year unless said otherwise).

    Attributes
    ----------
    moves_in_per_year
        Expected moves in per year by age band (count, not a rate); births excluded.
    births_per_year
        Expected births per year (count).
    moves_out
        De-registration rate by band (per person-year, people not in a care home).
    frailty
        Transition rate out of each frailty level to the next, by band (rows) and level
        (columns; the last column, severe, is 0): ``N_BANDS x N_FRAIL``.
    """

    moves_in_per_year: np.ndarray
    births_per_year: float
    moves_out: np.ndarray
    frailty: np.ndarray
    age_profile: np.ndarray


def solve_band(
    count: float, into: float, leave: float, width: float
) -> tuple[float, float, float, float]:
    """Steady state of one age band: people enter at its lower edge (``into`` a year, from
    the band below or births), move in at ages uniform within it (``moves``, solved for) and
    leave by death or moving away at ``leave`` per person-year; the rest reach the upper
    edge. The density of ages ``x`` years into the band is then ``c1 + c2 exp(-leave x)``
    with ``c1 = moves / (width leave)`` and ``c2 = into - c1``.

    The moves in are what hold the band at ``count`` people. If the entries at the lower
    edge alone would overfill it (England's old bands are growing: more people turn 75 and
    85 each year than die or leave at those ages), moves in are 0 and ``leave`` is raised
    until they do not: the extra is a derived move-out rate. The open top band (``width``
    infinite) has no upper edge.

    Returns
    -------
    moves, leave, c1, c2
        Moves in per year, the leaving rate used, and the density's two coefficients
        (per year of age); the flow out at the upper edge is ``c1 + c2 exp(-leave width)``.
    """
    if count <= 0:
        return 0.0, leave, 0.0, into
    if not np.isfinite(width):
        moves = count * leave - into
        if moves < 0:
            return 0.0, into / count, 0.0, into
        return moves, leave, 0.0, into

    def held(h: float) -> float:  # people in the band with no moves in, at leaving rate h
        return into * -np.expm1(-h * width) / h if h * width > 1e-12 else into * width

    h = max(leave, 1e-9)
    e = -np.expm1(-h * width)
    uniform = 1.0 - e / (width * h)  # share of a uniform entry not yet counted by ``held``
    moves = (count * h - into * e) / uniform
    if moves < 0:
        lo, hi = h, 2.0 * h
        while held(hi) > count:
            hi *= 2.0
        for _ in range(100):  # bisection: ``held`` falls as h rises
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if held(mid) > count else (lo, mid)
        return 0.0, 0.5 * (lo + hi), 0.0, into
    c1 = moves / (width * h)
    return moves, h, c1, into - c1


@dataclass
class Segments:
    """Each person's life course as constant-state spells, sorted by start time.

    ``person`` is int32, ``start`` and ``end`` days (float), ``age`` (band), ``frailty`` and
    ``ltc`` int8: kept for the whole run, about 1.2 spells a person.
    """

    person: np.ndarray
    start: np.ndarray
    end: np.ndarray
    age: np.ndarray
    frailty: np.ndarray
    ltc: np.ndarray

    def __len__(self) -> int:
        return int(self.person.size)


# ---------------------------------------------------------------------- derived rates
def band_mortality(
    params: CareParams, age: np.ndarray, frailty: np.ndarray, care_home: np.ndarray
) -> np.ndarray:
    """Annual death hazard (age rate x eFI hazard ratio x care-home ratio x scale)."""
    mo = params.model.mortality
    base = np.array([mo.per_1000_by_age[b] for b in s.AGE_BANDS])[age] / 1000.0
    hr = np.array([mo.frailty_hazard_ratio[f] for f in s.FRAILTY])[frailty]
    return base * hr * np.where(care_home, mo.care_home_hazard_ratio, 1.0) * mo.scale


def derive_rates(
    params: CareParams, age: np.ndarray, frailty: np.ndarray, care_home: np.ndarray
) -> Rates:
    """Moves in and frailty transitions that keep this starting population stationary.

    Band ``b`` holds ``N_b`` people, loses them to ageing out, death and moves out, and
    gains them by ageing in from band ``b - 1``, births (band 0) and moves in; moves in are
    the balance, and ageing out follows from the band's steady-state age density
    (:func:`solve_band`; ages uniform within a band overstated ageing from 75-84 into 85+
    by about a quarter). Where ageing in alone overfills a band, moves out are raised
    instead (:func:`solve_band`). Within an old band,
    each frailty level's count balances the same way, with transitions from the level below
    as an inflow; the transition rates out of fit, mild and moderate are solved in turn.
    Negative solutions (more inflow than outflow at the configured rates) are set to 0.
    """
    lc = params.model.life_course
    n_total = float(age.size)
    width = np.diff(np.append(BAND_EDGES, np.inf))
    configured_out = np.array([lc.moves_out_per_1000_per_year[b] for b in s.AGE_BANDS]) / 1000.0
    mort = band_mortality(params, age, frailty, care_home)
    count = np.bincount(age, minlength=N_BANDS).astype(float)
    deaths = np.bincount(age, weights=mort, minlength=N_BANDS)
    # Care-home residents do not move away (their move is to the home).
    movers = np.bincount(age, weights=(~care_home).astype(float), minlength=N_BANDS)
    births = lc.births_per_1000_per_year / 1000.0 * n_total
    # Band by band from the youngest: each band's flow out at its upper edge is the next
    # band's entry at its lower edge.
    moves_out = configured_out.copy()
    moves_in = np.zeros(N_BANDS)
    ageing = np.zeros(N_BANDS)  # per person-year, reaching the upper edge
    profile = np.zeros((N_BANDS, 3))  # leave, c1, c2 of each band's age density
    into = births
    for b in range(N_BANDS):
        leave = (deaths[b] + movers[b] * moves_out[b]) / count[b] if count[b] > 0 else 0.0
        m_in, h, c1, c2 = solve_band(count[b], into, leave, float(width[b]))
        if h > leave and movers[b] > 0:
            moves_out[b] += (h - leave) * count[b] / movers[b]
        moves_in[b] = m_in
        profile[b] = (h, c1, c2)
        flow_out = c1 + c2 * np.exp(-h * width[b]) if np.isfinite(width[b]) else 0.0
        ageing[b] = flow_out / count[b] if count[b] > 0 else 0.0
        into = flow_out

    frail_rates = np.zeros((N_BANDS, N_FRAIL))
    for b in range(OLD, N_BANDS):
        sel = age == b
        n_f = np.bincount(frailty[sel], minlength=N_FRAIL).astype(float)
        if n_f.sum() == 0:
            continue
        d_f = np.bincount(frailty[sel], weights=mort[sel], minlength=N_FRAIL)
        m_f = np.bincount(frailty[sel], weights=(~care_home[sel]).astype(float), minlength=N_FRAIL)
        out = n_f * ageing[b] + d_f + m_f * moves_out[b]
        # Ageing in: fit from 45-64, the band's own mix from an old band below.
        below = age == b - 1
        if b == OLD:
            mix_below = np.eye(N_FRAIL)[0]
        else:
            mix_below = np.bincount(frailty[below], minlength=N_FRAIL) / max(below.sum(), 1)
        shares = params.model.population.frailty_shares[s.AGE_BANDS[b]]
        mix_in = np.array([shares[f] for f in s.FRAILTY])
        into = count[b - 1] * ageing[b - 1] * mix_below + moves_in[b] * mix_in
        carried = 0.0
        for f in range(N_FRAIL - 1):
            flow = into[f] + carried - out[f]
            rate = max(flow, 0.0) / n_f[f] if n_f[f] > 0 else 0.0
            frail_rates[b, f] = rate
            carried = rate * n_f[f]
    return Rates(moves_in, births, moves_out, frail_rates, profile)


# ---------------------------------------------------------------------- joiners
@dataclass
class Joiners:
    """People who join the list during the run (births and moves in), by join time."""

    time: np.ndarray
    age_years: np.ndarray
    frailty: np.ndarray
    practice: np.ndarray
    quintile: np.ndarray
    male: np.ndarray
    ltc: np.ndarray


def draw_joiners(
    params: CareParams, streams: Streams, rates: Rates, horizon: float, area_of_practice: np.ndarray
) -> Joiners:
    """Births (age 0) and moves in (ages uniform within their band) over ``[0, horizon)``.

    Joiners are registered with a practice in proportion to its list size; their deprivation
    quintile follows their area's mix; people moving in are never in a care home.
    """
    rng = streams.generator("life/joiners")
    m = params.model.population
    years = horizon / DAYS_PER_YEAR
    n_births = rng.poisson(rates.births_per_year * years)
    n_moves = rng.poisson(rates.moves_in_per_year * years)
    band = np.concatenate([np.zeros(n_births, np.int8), np.repeat(np.arange(N_BANDS), n_moves)])
    n = band.size
    top = np.append(BAND_EDGES[1:], params.model.life_course.oldest_age_years)
    u_age = rng.random(n)
    age_years = BAND_EDGES[band] + u_age * (top[band] - BAND_EDGES[band])
    age_years[:n_births] = 0.0
    time = rng.random(n) * horizon
    sizes = np.array([p.list_size for p in params.practices], dtype=float)
    practice = np.searchsorted(np.cumsum(sizes) / sizes.sum(), rng.random(n), side="right")
    practice = np.minimum(practice, sizes.size - 1).astype(np.int32)
    area_names = list(params.place.areas)
    dep_cdf = np.array(
        [np.cumsum(params.place.areas[a].deprivation_shares)[:-1] for a in area_names]
    )
    u_dep = rng.random(n)
    quintile = (u_dep[:, None] > dep_cdf[area_of_practice[practice]]).sum(axis=1).astype(np.int8)
    male = rng.random(n) < m.male_share
    frailty = np.zeros(n, np.int8)
    u_frail = rng.random(n)
    for b in s.OLD_BANDS:
        idx = np.flatnonzero(band == s.AGE_BANDS.index(b))
        cdf = np.cumsum([m.frailty_shares[b][f] for f in s.FRAILTY])[:-1]
        frailty[idx] = (u_frail[idx, None] > cdf[None, :]).sum(axis=1)
    ltc_mean = np.array([m.ltc_mean[b] for b in s.AGE_BANDS])[band]
    dep = np.array(m.ltc_deprivation_multiplier)[quintile]
    extra = np.array([m.ltc_frailty_extra[f] for f in s.FRAILTY])[frailty]
    ltc = rng.poisson(ltc_mean * dep + extra).astype(np.int8)
    order = np.argsort(time, kind="stable")
    return Joiners(
        time[order],
        age_years[order],
        frailty[order],
        practice[order],
        quintile[order],
        male[order],
        ltc[order],
    )


def draw_exact_age(
    params: CareParams, rng: np.random.Generator, band: np.ndarray, rates: Rates
) -> np.ndarray:
    """Exact age in years within each person's band, from the band's steady-state age
    density (:func:`solve_band`), by inverting its distribution function by bisection;
    85+ is uniform up to the oldest age (its density is not needed: no band above it)."""
    top = np.append(BAND_EDGES[1:], params.model.life_course.oldest_age_years)
    lo = BAND_EDGES[band]
    span = top[band] - lo
    u = rng.random(band.size)
    h, c1, c2 = (rates.age_profile[band, j] for j in range(3))

    def mass(x: np.ndarray) -> np.ndarray:  # people per band count up to x years in
        return c1 * x + c2 * -np.expm1(-h * x) / np.maximum(h, 1e-12)

    closed = band < N_BANDS - 1
    target = u * mass(span)
    a, b = np.zeros(band.size), span.copy()
    for _ in range(50):  # the density is positive, so ``mass`` rises with x
        mid = 0.5 * (a + b)
        below = mass(mid) < target
        a, b = np.where(below, mid, a), np.where(below, b, mid)
    return lo + np.where(closed, 0.5 * (a + b), u * span)


# ---------------------------------------------------------------------- segments
def draw_segments(
    params: CareParams,
    streams: Streams,
    rates: Rates,
    pop: Population,
    until: float,
    born: np.ndarray,
) -> tuple[Segments, np.ndarray, np.ndarray]:
    """Each person's spells from their join time to death, move away or ``until``; ``born``
    is each person's day of birth (negative before the run), which places their birthdays.

    Death and moving away are competing hazards, piecewise constant over the spells: each
    person has one standard exponential for death (``death/times``) and one for moving
    (``life/moves_out``), and leaves at the first spell where its cumulative hazard passes
    the draw. Frailty steps are exponential at the spell's transition rate (``life/frailty``);
    long-term conditions rise at each band or frailty step by the difference in their
    configured means (``life/ltc``), so the mix of conditions by age stays as configured.

    Returns
    -------
    segments
        The spells, sorted by start time.
    death_time
        Day of death, ``inf`` if none before ``until`` or if the person moves away first.
    leave_time
        Day the person's move away is due, ``inf`` if none before ``until`` or death.
    """
    m = params.model.population
    n = pop.size
    e_death = streams.generator("death/times").standard_exponential(n)
    e_move = streams.generator("life/moves_out").standard_exponential(n)
    rng_frail = streams.generator("life/frailty")
    rng_ltc = streams.generator("life/ltc")
    ltc_mean = np.array([m.ltc_mean[b] for b in s.AGE_BANDS])
    ltc_extra = np.array([m.ltc_frailty_extra[f] for f in s.FRAILTY])
    dep = np.array(m.ltc_deprivation_multiplier)
    upper = np.append(BAND_EDGES[1:], np.inf) * DAYS_PER_YEAR

    t = pop.joined.astype(float)
    band = pop.age.astype(np.int64).copy()
    frail = pop.frailty.astype(np.int64).copy()
    ltc = pop.ltc.astype(np.int64).copy()
    cum_death = np.zeros(n)
    cum_move = np.zeros(n)
    death_time = np.full(n, np.inf)
    leave_time = np.full(n, np.inf)
    # Each spell's columns, by rank of spell: person, start, end, band, frailty, conditions
    # (in the smallest types that hold them: the spells are kept for the whole run).
    parts: list[list[np.ndarray]] = [[] for _ in range(6)]
    active = np.flatnonzero(t < until)
    while active.size:
        ta, ba, fa = t[active], band[active], frail[active]
        ch = pop.care_home[active]
        t_band = born[active] + upper[ba]
        r = rates.frailty[ba, fa] / DAYS_PER_YEAR
        e = rng_frail.standard_exponential(active.size)
        with np.errstate(divide="ignore"):
            t_frail = np.where(r > 0, ta + e / np.where(r > 0, r, 1.0), np.inf)
        t_next = np.minimum(np.minimum(t_band, t_frail), until)
        span = np.maximum(t_next - ta, 0.0)
        h_d = band_mortality(params, ba, fa, ch) / DAYS_PER_YEAR
        h_m = np.where(ch, 0.0, rates.moves_out[ba]) / DAYS_PER_YEAR
        with np.errstate(divide="ignore", invalid="ignore"):
            td = np.where(
                cum_death[active] + h_d * span >= e_death[active],
                ta + (e_death[active] - cum_death[active]) / h_d,
                np.inf,
            )
            tm = np.where(
                cum_move[active] + h_m * span >= e_move[active],
                ta + (e_move[active] - cum_move[active]) / h_m,
                np.inf,
            )
        end = np.minimum(np.minimum(td, tm), t_next)
        spell: tuple[np.ndarray, ...] = (
            active.astype(np.int32),
            ta,
            end,
            ba.astype(np.int8),
            fa.astype(np.int8),
            np.minimum(ltc[active], 127).astype(np.int8),
        )
        for column, values in zip(parts, spell, strict=True):
            column.append(values)
        dies = np.isfinite(td) & (td <= tm) & (td <= t_next)
        moves = ~dies & np.isfinite(tm) & (tm <= t_next)
        death_time[active[dies]] = td[dies]
        leave_time[active[moves]] = tm[moves]
        go_on = ~dies & ~moves & (t_next < until)
        cum_death[active] += h_d * span
        cum_move[active] += h_m * span
        idx = active[go_on]
        step_band = t_band[go_on] <= t_frail[go_on]
        new_band = np.where(step_band, band[idx] + 1, band[idx])
        new_frail = np.where(step_band, frail[idx], frail[idx] + 1)
        # Everyone reaching 65 is fit; frailty then progresses at the old bands' rates.
        add = np.maximum(ltc_mean[new_band] - ltc_mean[band[idx]], 0.0) + np.maximum(
            ltc_extra[new_frail] - ltc_extra[frail[idx]], 0.0
        )
        ltc[idx] += rng_ltc.poisson(add * dep[pop.quintile[idx]])
        band[idx], frail[idx] = new_band, new_frail
        t[idx] = t_next[go_on]
        active = idx
    del t, band, frail, ltc, cum_death, cum_move, e_death, e_move
    dtypes = (np.int32, float, float, np.int8, np.int8, np.int8)
    order = np.argsort(np.concatenate(parts[1]) if parts[1] else np.zeros(0), kind="stable")
    cols = []
    for column, dtype in zip(parts, dtypes, strict=True):
        # One column at a time, each rank's pieces let go as it is built (a lower peak).
        values = np.concatenate(column) if column else np.zeros(0, dtype)
        column.clear()
        cols.append(values[order].astype(dtype, copy=False))
        del values
    return Segments(*cols), death_time, leave_time


# ---------------------------------------------------------------------- the run
def busy(world: World, person: int) -> bool:
    """True while a move away must wait: the person is in a service that holds them."""
    return bool(
        world.in_hospital[person]
        or world.eol_enrolled[person]
        or world.pop.care_home[person]
        or person in world.community.step_down.holding
        or person in world.mnp.virtual_ward.holding
    )


def run(world: World) -> Generator[simpy.Event, Any, None]:
    """Each day: apply the spells that began, register joiners, let due movers leave.

    A move away that falls while the person is in hospital, on the end-of-life caseload, in
    step-down care, on a virtual ward or in a care home waits, and is retried each day.
    """
    from sim.models.care.demand import crisis_rate  # demand imports this module's users

    pop = world.pop
    seg = pop.spells
    # Joiners are drawn sorted by join time and follow the starters (all at 0), so the list
    # is in join order already and its stable argsort is the identity: not stored (it and a
    # sorted copy cost 16 bytes a person for the whole run).
    joined = pop.joined
    in_order = bool(np.all(joined[1:] >= joined[:-1]))
    joined_order = None if in_order else np.argsort(joined, kind="stable")
    joined_sorted = joined if joined_order is None else joined[joined_order]
    # Only due moves are ever taken from the queue, in the order of a stable sort of all
    # (the same order restricted to finite times); most people never move.
    due = np.flatnonzero(np.isfinite(pop.leave_time))
    leave_order = due[np.argsort(pop.leave_time[due], kind="stable")]
    del due
    leave_sorted = pop.leave_time[leave_order]
    k_seg = k_join = k_leave = 0
    pending: list[int] = []
    for d in range(world.days):
        now = float(d)
        changed = []
        hi = int(np.searchsorted(seg.start, now, side="right"))
        if hi > k_seg:
            sl = slice(k_seg, hi)
            who = seg.person[sl]
            # Several spells of one person on the same day: the latest (sorted last) wins.
            pop.age[who], pop.frailty[who], pop.ltc[who] = seg.age[sl], seg.frailty[sl], seg.ltc[sl]
            # The risk that orders case-finding is the present one.
            world.crisis_rate[who] = crisis_rate(
                world.params,
                pop.age[who],
                pop.frailty[who],
                pop.ltc[who],
                pop.quintile[who],
                pop.care_home[who],
            )
            changed.append(who)
            k_seg = hi
        hi = int(np.searchsorted(joined_sorted, now, side="right"))
        if hi > k_join:
            new = np.arange(k_join, hi) if joined_order is None else joined_order[k_join:hi]
            new = new[pop.joined[new] > 0.0]
            pop.on_list[new] = True
            pop.flows.joined += int(new.size)
            world.log.add_many(pop.joined[new], new, "registration", "general_practice")
            changed.append(new)
            k_join = hi
        if d > 0 and changed:
            world.community.proactive.consider(np.concatenate(changed))
        hi = int(np.searchsorted(leave_sorted, now, side="right"))
        if hi > k_leave:
            pending.extend(leave_order[k_leave:hi].tolist())
            k_leave = hi
        if pending:
            still: list[int] = []
            for person in pending:
                if pop.death_time[person] <= now or not pop.on_list[person]:
                    continue
                if busy(world, person):
                    pop.flows.deferrals += 1
                    still.append(person)
                    continue
                leave(world, person, now)
            pending = still
        yield world.env.timeout(1.0)


def leave(world: World, person: int, now: float) -> None:
    """The person moves away: off the list and the proactive caseload, no more demand."""
    pop = world.pop
    pop.on_list[person] = False
    pop.left_time[person] = now
    world.community.proactive.leave(person)
    pop.flows.left += 1
    world.log.add(now, person, "deregistration", "general_practice")


@dataclass
class Flows:
    """Counts of list changes during the run (registration conservation)."""

    joined: int = 0
    left: int = 0
    deferrals: int = 0


# ---------------------------------------------------------------------- helpers for services
# Events looked up at a time by :func:`spell_at` and :func:`keep_by_course`: a few tens of
# bytes of temporaries each, so a whole run's GP requests at once (15 million for
# ``sel_1_9m``) took more memory than the population; in blocks the result is the same.
CHUNK = 1 << 20


class _SpellIndex:
    """Spells ordered by person, then start: the lookup table of :func:`spell_at`."""

    def __init__(self, pop: Population) -> None:
        seg = pop.spells
        self.seg = seg
        self.span = float(np.max(seg.end[np.isfinite(seg.end)], initial=0.0)) + 2.0
        self.order = np.lexsort((seg.start, seg.person))
        self.keys = seg.person[self.order] * self.span + seg.start[self.order]

    def find(self, person: np.ndarray, t: np.ndarray, open_end: bool) -> np.ndarray:
        """Spell index of each ``person`` at ``t`` (-1 if none); see :func:`spell_at`."""
        seg = self.seg
        k = np.searchsorted(self.keys, person * self.span + t, side="right") - 1
        idx = self.order[np.maximum(k, 0)]
        ok = (k >= 0) & (seg.person[idx] == person) & (t >= seg.start[idx])
        if not open_end:
            ok &= t < seg.end[idx]
        return np.where(ok, idx, -1)


def spell_at(
    pop: Population, person: np.ndarray, t: np.ndarray, open_end: bool = False
) -> np.ndarray:
    """Index of the spell each ``person`` is in at time ``t`` (-1 if not registered then).

    With ``open_end`` the person's last spell that began by ``t`` counts even after it ended
    (a death or a move is recorded at the end of the last spell). ``t`` may be whole days
    as integers (compared as the same floats). Looked up :data:`CHUNK` events at a time.
    """
    index = _SpellIndex(pop)
    out = np.empty(person.size, dtype=np.int64)
    for lo in range(0, person.size, CHUNK):
        sl = slice(lo, lo + CHUNK)
        out[sl] = index.find(person[sl], t[sl], open_end)
    return out


def state_at(pop: Population, person: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Age band and frailty of each ``person`` at time ``t`` (for the event log); the
    current state where no spell began by ``t``."""
    k = spell_at(pop, person, t, open_end=True)
    seg = pop.spells
    age = np.where(k >= 0, seg.age[np.maximum(k, 0)], pop.age[person])
    frailty = np.where(k >= 0, seg.frailty[np.maximum(k, 0)], pop.frailty[person])
    return np.asarray(age, dtype=np.int8), np.asarray(frailty, dtype=np.int8)


def max_per_person(pop: Population, spell_rate: np.ndarray) -> np.ndarray:
    """Each person's largest rate over their spells (the bound for thinning)."""
    top = np.zeros(pop.size)
    np.maximum.at(top, pop.spells.person, spell_rate)
    return top


def keep_by_course(
    pop: Population,
    spell_rate: np.ndarray,
    top: np.ndarray,
    person: np.ndarray,
    t: np.ndarray,
    u: np.ndarray | np.random.Generator,
) -> np.ndarray:
    """Thin events drawn at each person's ``top`` rate to their spell's rate at ``t``.

    Events outside the person's registration get no spell and are dropped; ``u`` is one
    uniform per event from a stream of its own, so scenarios share the outcome (CRN). It may
    be given as that stream's generator: the uniforms are then drawn :data:`CHUNK` at a time,
    the same numbers in the same order as one draw of ``person.size`` (so a run's worth of
    events never needs a run's worth of uniforms at once). ``t`` may be whole days as
    integers.
    """
    index = _SpellIndex(pop)
    keep = np.empty(person.size, dtype=bool)
    for lo in range(0, person.size, CHUNK):
        sl = slice(lo, lo + CHUNK)
        p = person[sl]
        k = index.find(p, t[sl], open_end=False)
        rate = np.where(k >= 0, spell_rate[np.maximum(k, 0)], 0.0)
        del k
        draw = u.random(p.size) if isinstance(u, np.random.Generator) else u[sl]
        with np.errstate(divide="ignore", invalid="ignore"):
            keep[sl] = draw * top[p] < rate
    return keep
