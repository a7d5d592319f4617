"""General practice as a business, inside the run: every quarter each practice's lists,
accounts, distress, hand-backs, hiring, GP capacity and measured continuity.

The quarter's steps read only the past and the present (who is registered now, the quarter's
appointment records), never a person's future. The arithmetic lives in
:mod:`sim.models.care.practices`; this module holds the state and runs it as one SimPy
process (docs/model.md, "General practice as a business").
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import simpy

from sim.models.care.practices import behaviour, continuity, money, viability, weighting
from sim.models.care.practices import workforce as wfm

if TYPE_CHECKING:
    from sim.models.care.model import World

DAYS_PER_QUARTER = 365.25 / 4
# A quarter is closed this long before midnight of its last day (days).
QUARTER_CLOSE_EARLY = 1e-6


def quarter_ends(days: int) -> list[int]:
    """Whole days on which each complete quarter of a run of ``days`` days ends."""
    out = []
    q = 1
    while round(q * DAYS_PER_QUARTER) <= days:
        out.append(round(q * DAYS_PER_QUARTER))
        q += 1
    return out


class Practices:
    """Every practice's workforce, money, engagement and viability over the run.

    Parameters
    ----------
    world
        Shared state: the population, streams, warm-up and each area's arrangement.
    """

    def __init__(self, world: World) -> None:
        self.w = world
        p = world.params
        cfg = p.model.practices
        self.cfg = cfg
        pop = world.pop
        n = len(p.practices)
        self.n = n
        self.area = np.array([p.area_names.index(pr.area) for pr in p.practices])
        self.area_name = [pr.area for pr in p.practices]
        self.neighbourhood = np.array([pr.neighbourhood for pr in p.practices])
        mech = [p.area_leads[a].practices for a in self.area]
        self.terms = money.Terms(
            payment_per_weighted_patient=np.array(
                [m.payment_per_weighted_patient_gbp for m in mech]
            ),
            enhanced_services_kept_share=np.array(
                [1.0 - m.enhanced_services_moved_out_share for m in mech]
            ),
            drawn_session_payment=np.array([m.drawn_session_payment_gbp for m in mech]),
        )
        self.drawn_per_10000 = np.array([m.gp_sessions_drawn_per_10000 for m in mech])
        probability = np.array([behaviour.engagement_probability(cfg.behaviour, m) for m in mech])
        self.engaged = behaviour.engaged(
            probability, world.streams.generator("practices/engagement").random(n)
        )
        self.engaged_at_start = self.engaged.copy()
        # When each person joined their practice: people on the list at the start are
        # established patients; joiners and patients of a closed practice are new there.
        self.registered_at = np.where(
            np.arange(pop.size) < pop.n_start, -np.inf, pop.joined
        ).astype(np.float32)
        registered = pop.on_list & (pop.death_time > 0)
        reg, wtd = weighting.weighted_lists(
            cfg.weighting, pop.practice, pop.age, pop.care_home, registered, n
        )
        self.wf = wfm.draw(cfg.workforce, wtd, world.streams.generator("practices/workforce"))
        # A practice wants to keep the GP sessions per weighted patient it starts with.
        with np.errstate(divide="ignore", invalid="ignore"):
            self.target_per_weighted = np.where(wtd > 0, self.wf.gp / wtd, 0.0)
        self._draw_sessions(wtd)
        m = cfg.money
        fin = world.streams.generator("practices/finance")
        self.income_factor = wfm.lognormal(fin.standard_normal(n), m.income_spread_cv)
        self.cost_factor = wfm.lognormal(fin.standard_normal(n), m.cost_spread_cv)
        self.ends = quarter_ends(world.days)
        # Each quarter's shock of every practice, drawn at the start so scenarios share them.
        self.shocks = fin.standard_normal((len(self.ends) + 1, n))
        self.shock_state = self.shocks[0].copy()
        self.is_open = np.ones(n, dtype=bool)
        self.counter = np.zeros(n, dtype=np.int64)
        self.disperse_u = world.streams.generator("practices/dispersal")
        self.cost_per_session = money.session_cost(m, cfg.workforce.sessions_per_fte)
        self.usual = continuity.practice_usual_probability(
            cfg.continuity, self.wf.gp_working, self.wf.gp_headcount
        )
        self._new_quarter()
        self.rows: list[dict[str, Any]] = []
        self.handed_back_post = 0
        self.displaced_post = 0
        self.start_registered = float(reg.sum())

    # ------------------------------------------------------------------ appointments
    def _new_quarter(self) -> None:
        self.q_gp = np.zeros(self.n, np.int64)
        self.q_usual = np.zeros(self.n, np.int64)
        self.q_routine = np.zeros(self.n, np.int64)
        self.q_wait = np.zeros(self.n, np.int64)

    def usual_probability(self, day: int, who: np.ndarray, practice: np.ndarray) -> np.ndarray:
        """Chance each GP appointment today is with the person's usual GP."""
        c = self.cfg.continuity
        new = (day - self.registered_at[who]) < c.new_registration_days
        return self.usual[practice] * np.where(new, c.new_registration_factor, 1.0)

    def record(
        self, practice: np.ndarray, wait: np.ndarray, gp: np.ndarray, usual: np.ndarray
    ) -> None:
        """One day's held appointments: each one's practice, wait (days), whether with a GP
        and whether with the usual GP."""
        n = self.n
        self.q_gp += np.bincount(practice[gp], minlength=n)
        self.q_usual += np.bincount(practice[gp & usual], minlength=n)
        routine = wait > 0
        self.q_routine += np.bincount(practice[routine], minlength=n)
        self.q_wait += np.bincount(practice[routine], weights=wait[routine], minlength=n).astype(
            np.int64
        )

    # ------------------------------------------------------------------ the quarter
    def run(self) -> Generator[simpy.Event, Any, None]:
        """The quarters of the run, one step at each quarter's end."""
        env = self.w.env
        for q, end in enumerate(self.ends):
            # At the very end of the quarter's last day, so that a quarter ending at the
            # horizon is closed too (SimPy stops before events at the horizon itself).
            yield env.timeout(max(0.0, end - QUARTER_CLOSE_EARLY - env.now))
            self.quarter_end(q, end)

    def _draw_sessions(self, weighted: np.ndarray) -> None:
        """GP sessions engaged practices give to neighbourhood work, by the arrangement's
        rate per 10,000 weighted patients (at most all of them)."""
        want = self.drawn_per_10000 * weighted / 10_000.0
        self.wf.drawn = np.where(self.engaged, np.minimum(want, self.wf.gp), 0.0)

    def quarter_end(self, q: int, day: int) -> None:
        """Close quarter ``q`` on ``day``: accounts, distress, hand-backs, hiring, capacity
        and continuity for the next quarter."""
        w = self.w
        pop = w.pop
        cfg = self.cfg
        registered = pop.on_list & (pop.death_time > day)
        reg, wtd = weighting.weighted_lists(
            cfg.weighting, pop.practice, pop.age, pop.care_home, registered, self.n
        )
        m = cfg.money
        rho = m.shock_persistence
        self.shock_state = (
            rho * self.shock_state + math.sqrt(max(0.0, 1 - rho * rho)) * self.shocks[q + 1]
        )
        income_factor = self.income_factor * np.maximum(
            0.0, 1.0 + m.quarterly_shock_cv * self.shock_state
        )
        acc = money.quarter(
            m,
            cfg.workforce.sessions_per_fte,
            self.wf,
            reg,
            wtd,
            self.engaged & self.is_open,
            self.terms,
            income_factor,
            self.cost_factor,
        )
        ppf = acc.profit_per_partner_fte
        v = cfg.viability
        distress = viability.distressed(ppf, acc.profit, v.distress_profit_per_partner_fte_gbp)
        distress &= self.is_open
        self.counter = viability.count_quarters(self.counter, distress)
        backs = viability.hand_backs(self.counter, v.quarters_to_hand_back, self.is_open, self.area)
        start = self.ends[q - 1] if q else 0
        # A quarter is measured when most of it is after the warm-up: with a year of warm-up
        # that is the quarters that start after it, and a short run (a workshop's 120 days
        # after 30 of warm-up) still measures its first quarter rather than none.
        measured = (start + day) / 2.0 >= w.warm_up
        with np.errstate(divide="ignore", invalid="ignore"):
            upc = np.where(self.q_gp > 0, self.q_usual / np.maximum(self.q_gp, 1), np.nan)
            wait = np.where(self.q_routine > 0, self.q_wait / np.maximum(self.q_routine, 1), np.nan)
        for i in range(self.n):
            self.rows.append(
                {
                    "quarter": q,
                    "day_end": float(day),
                    "measured": measured,
                    "area": self.area_name[i],
                    "practice": i,
                    "open": bool(self.is_open[i]),
                    "engaged": bool(self.engaged[i]),
                    "registered": int(reg[i]),
                    "weighted_list": float(wtd[i]),
                    "gp_sessions": float(self.wf.gp_working[i]),
                    "sessions_drawn": float(self.wf.drawn[i]),
                    "income_gbp": float(acc.income[i]) if self.is_open[i] else 0.0,
                    "costs_gbp": float(acc.costs[i]) if self.is_open[i] else 0.0,
                    "profit_gbp": float(acc.profit[i]) if self.is_open[i] else 0.0,
                    "profit_per_partner_fte_gbp": float(ppf[i]) if self.is_open[i] else math.nan,
                    "distressed": bool(distress[i]),
                    "handed_back": bool(backs[i]),
                    "neighbourhood_payment_gbp": float(acc.neighbourhood_payment[i])
                    if self.is_open[i]
                    else 0.0,
                    "enhanced_services_lost_gbp": float(acc.enhanced_services_lost[i])
                    if self.is_open[i]
                    else 0.0,
                    "gp_appointments": int(self.q_gp[i]),
                    "usual_gp_appointments": int(self.q_usual[i]),
                    "routine_wait_mean_days": float(wait[i]),
                }
            )
        # Every practice closing this quarter is closed before any list disperses, so no
        # patient is sent to a practice that is itself handing back.
        self.is_open &= ~backs
        for c in np.flatnonzero(backs).tolist():
            moved = self._hand_back(c, day, reg)
            if measured:
                self.handed_back_post += 1
                self.displaced_post += moved
        if backs.any():
            reg, wtd = weighting.weighted_lists(
                cfg.weighting, pop.practice, pop.age, pop.care_home, registered, self.n
            )
        self._hire(wtd, ppf, acc.partner_fte)
        self._draw_sessions(wtd)
        # From the next day (``day``, which starts just after this quarter closes).
        w.gp.set_capacity(day - 1, wfm.slots_per_weekday(cfg.workforce, self.wf))
        self.usual = continuity.practice_usual_probability(
            cfg.continuity, self.wf.gp_working, self.wf.gp_headcount
        )
        self._continuity_effect(upc)
        self._new_quarter()

    def _hand_back(self, c: int, day: int, reg: np.ndarray) -> int:
        """Practice ``c`` hands back its contract; its patients (and anyone due to join it)
        disperse to its neighbours. Returns how many registered patients moved."""
        w = self.w
        pop = w.pop
        pool = viability.receivers(c, self.is_open, self.neighbourhood, self.area)
        if not pool.size:  # hand_backs keeps one practice of every area open
            raise RuntimeError(f"practice {c} handed back with no open practice in its area")
        people = np.flatnonzero(pop.practice == c)
        new = viability.disperse(people.size, pool, reg, self.disperse_u.random(people.size))
        pop.practice[people] = new
        now_registered = pop.on_list[people] & (pop.death_time[people] > day)
        self.registered_at[people[now_registered]] = day
        w.community.proactive.moved(people)
        self.is_open[c] = False
        self.engaged[c] = False
        for arr in (self.wf.partner, self.wf.salaried, self.wf.nurse, self.wf.arrs):
            arr[c] = 0.0
        self.wf.gp_headcount[c] = 0.0
        self.wf.drawn[c] = 0.0
        self.counter[c] = 0
        return int(now_registered.sum())

    def _hire(self, wtd: np.ndarray, ppf: np.ndarray, partner_fte: np.ndarray) -> None:
        """Practices short of the GP sessions they want (:func:`behaviour.target_sessions`)
        hire salaried sessions they can afford (:func:`behaviour.sessions_to_hire`)."""
        b = self.cfg.behaviour
        want = behaviour.target_sessions(
            self.target_per_weighted,
            wtd,
            self.terms.payment_per_weighted_patient,
            self.engaged & self.is_open,
            b.payment_spent_on_gp_sessions_share,
            self.cost_per_session,
        )
        # Sessions drawn into neighbourhood work are out of the practice: it hires to replace
        # them (the arrangement's payment for them is in its income).
        shortfall = np.where(self.is_open, want - self.wf.gp_working, 0.0)
        hire = behaviour.sessions_to_hire(
            shortfall,
            ppf,
            partner_fte,
            self.cost_per_session,
            b.hire_floor_profit_per_partner_fte_gbp,
            b.max_hire_sessions_per_quarter,
        )
        hire = np.where(self.is_open, hire, 0.0)
        self.wf.salaried += hire
        per_gp = self.cfg.workforce.sessions_per_gp
        self.wf.gp_headcount += hire / per_gp if per_gp > 0 else 0.0

    def _continuity_effect(self, upc: np.ndarray) -> None:
        """Each practice's crisis multiplier from its continuity measured this quarter (a
        practice with no GP appointments keeps its last one)."""
        w = self.w
        g = w.params.model.general_practice
        mult = continuity.crisis_multiplier(w.params.model.urgent, g.continuity_reference, upc)
        for i in np.flatnonzero(np.isfinite(upc)).tolist():
            w.crisis_scale[i] = float(mult[i]) / w.headroom

    def start_multipliers(self) -> list[float]:
        """Crisis-rate scale of each practice's patients before any quarter is measured: from
        the chance an established patient sees their usual GP."""
        g = self.w.params.model.general_practice
        mult = continuity.crisis_multiplier(
            self.w.params.model.urgent, g.continuity_reference, self.usual
        )
        return [float(x) / self.w.headroom for x in mult]

    # ------------------------------------------------------------------ outputs
    def table(self) -> pd.DataFrame:
        """One row per practice and quarter (``practices.parquet``)."""
        return pd.DataFrame(self.rows, columns=COLUMNS)


COLUMNS = [
    "quarter", "day_end", "measured", "area", "practice", "open", "engaged", "registered",
    "weighted_list", "gp_sessions", "sessions_drawn", "income_gbp", "costs_gbp", "profit_gbp",
    "profit_per_partner_fte_gbp", "distressed", "handed_back", "neighbourhood_payment_gbp",
    "enhanced_services_lost_gbp", "gp_appointments", "usual_gp_appointments",
    "routine_wait_mean_days",
]  # fmt: skip
