"""The status quo's rate of contract hand-backs from the practices' accounts alone.

Hand-backs are rare (England lost about 0.7% of practices a year to closure without
replacement), so a few replications of the whole model cannot show the rate. This runs only
the practices' quarterly accounts, hiring and hand-back rule for many practice-years, on the
practices and lists of a place at the start (lists held fixed, no dispersal), and is how
``model.practices.viability.distress_profit_per_partner_fte_gbp`` was calibrated
(docs/calibration.md)::

    python -m sim.models.care.practices.hand_back_rate [--years 2] [--seeds 40] [overrides]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import numpy as np

from sim.models.care.practices import behaviour, money, viability, weighting
from sim.models.care.practices import workforce as wfm
from sim.rng import Streams


def rate(
    overrides: Sequence[str], years: int, seeds: int, warm_up_years: int = 1
) -> tuple[float, float]:
    """Hand-backs per 100 open practice-years, and the share of open practice-quarters in
    distress, over ``years`` after ``warm_up_years`` (practices that hand back close)."""
    from sim.config.compose import compose_params

    params = compose_params(["model=care", "run.horizon=1", "run.warm_up=0", *overrides])
    p = params.model
    from sim.models.care import population

    cfg = p.model.practices
    backs = exposure = distressed = quarters = 0
    for seed in range(seeds):
        streams = Streams(params.run.seed + seed, 0)
        pop = population.generate(p, streams, 1.0)
        n = len(p.practices)
        area = np.array([p.area_names.index(pr.area) for pr in p.practices])
        mech = [p.area_leads[a].practices for a in area]
        prob = np.array([behaviour.engagement_probability(cfg.behaviour, m) for m in mech])
        engaged = behaviour.engaged(prob, streams.generator("practices/engagement").random(n))
        reg, wtd = weighting.weighted_lists(
            cfg.weighting, pop.practice, pop.age, pop.care_home, pop.on_list, n
        )
        wf = wfm.draw(cfg.workforce, wtd, streams.generator("practices/workforce"))
        target = wf.gp / np.maximum(wtd, 1.0)
        drawn = np.array([m.gp_sessions_drawn_per_10000 for m in mech])
        wf.drawn = np.where(engaged, np.minimum(drawn * wtd / 1e4, wf.gp), 0.0)
        terms = money.Terms(
            payment_per_weighted_patient=np.array(
                [m.payment_per_weighted_patient_gbp for m in mech]
            ),
            enhanced_services_kept_share=np.array(
                [1 - m.enhanced_services_moved_out_share for m in mech]
            ),
            drawn_session_payment=np.array([m.drawn_session_payment_gbp for m in mech]),
        )
        fin = streams.generator("practices/finance")
        m = cfg.money
        inc = wfm.lognormal(fin.standard_normal(n), m.income_spread_cv)
        cost = wfm.lognormal(fin.standard_normal(n), m.cost_spread_cv)
        z = fin.standard_normal(n)
        is_open = np.ones(n, bool)
        counter = np.zeros(n, np.int64)
        per_session = money.session_cost(m, cfg.workforce.sessions_per_fte)
        rho = m.shock_persistence
        for q in range(4 * (warm_up_years + years)):
            z = rho * z + math.sqrt(1 - rho * rho) * fin.standard_normal(n)
            acc = money.quarter(
                m, cfg.workforce.sessions_per_fte, wf, reg, wtd, engaged & is_open, terms,
                inc * np.maximum(0.0, 1 + m.quarterly_shock_cv * z), cost,
            )  # fmt: skip
            ppf = acc.profit_per_partner_fte
            dis = viability.distressed(
                ppf, acc.profit, cfg.viability.distress_profit_per_partner_fte_gbp
            )
            dis &= is_open
            counter = viability.count_quarters(counter, dis)
            out = is_open & (counter >= cfg.viability.quarters_to_hand_back)
            if q >= 4 * warm_up_years:  # counted as the main experiment counts them
                backs += int(out.sum())
                exposure += int(is_open.sum())
                distressed += int(dis.sum())
                quarters += int(is_open.sum())
            is_open &= ~out
            want = behaviour.target_sessions(
                target, wtd, terms.payment_per_weighted_patient, engaged & is_open,
                cfg.behaviour.payment_spent_on_gp_sessions_share, per_session,
            )  # fmt: skip
            hire = behaviour.sessions_to_hire(
                want - wf.gp_working, ppf, acc.partner_fte, per_session,
                cfg.behaviour.hire_floor_profit_per_partner_fte_gbp,
                cfg.behaviour.max_hire_sessions_per_quarter,
            )  # fmt: skip
            wf.salaried += hire
    return backs / (exposure / 4.0) * 100.0, distressed / max(quarters, 1)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the hand-back rate for the given overrides."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("overrides", nargs="*")
    a = ap.parse_args(argv)
    per100, share = rate(a.overrides, a.years, a.seeds)
    print(f"hand-backs per 100 practice-years: {per100:.2f}; distressed quarters: {share:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
