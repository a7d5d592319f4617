"""A small, fixed ``practices.parquet`` table per scenario for the practice figure tests.

Built to the column contract the care model writes (one row per replication x practice x
quarter); no model run. Numbers are chosen so the tests can work out every summary by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Median margin (GBP per partner FTE a year) and money per practice-quarter, by scenario.
MARGIN = {"status_quo": 90_000.0, "trust_led": 60_000.0, "federation_led": 110_000.0}
PAYMENT = {"status_quo": 0.0, "trust_led": 1_000.0, "federation_led": 3_000.0}
MOVED_OUT = {"status_quo": 0.0, "trust_led": 2_000.0, "federation_led": 500.0}
WEIGHTED_LIST = 8_000.0


def practice_table(
    scenario: str,
    *,
    replications: int = 3,
    practices: int = 8,
    quarters: int = 8,
    warm_up_quarters: int = 2,
    distressed: int = 0,
    hand_back: int = 0,
) -> pd.DataFrame:
    """Rows for one scenario.

    Parameters
    ----------
    scenario
        A key of :data:`MARGIN`.
    replications, practices, quarters
        Table size.
    warm_up_quarters
        The first quarters are not measured.
    distressed
        Practices 0..distressed-1 are distressed in every quarter they are open.
    hand_back
        Practices 0..hand_back-1 hand their contract back at the end of the first measured
        quarter, and are closed (rows of zeros) after it.
    """
    rows = []
    spread = np.linspace(-30_000, 30_000, practices)
    for rep in range(replications):
        for p in range(practices):
            for q in range(quarters):
                measured = q >= warm_up_quarters
                handed = p < hand_back and q == warm_up_quarters
                closed = p < hand_back and q > warm_up_quarters
                open_ = not closed
                profit = 0.0 if closed else MARGIN[scenario] + spread[p] + 1_000.0 * rep
                rows.append(
                    {
                        "replication": rep,
                        "quarter": q,
                        "day_end": 91.25 * (q + 1),
                        "measured": measured,
                        "area": "n",
                        "practice": p,
                        "open": open_,
                        "engaged": scenario != "status_quo",
                        "registered": 0 if closed else 7_000,
                        "weighted_list": 0.0 if closed else WEIGHTED_LIST,
                        "gp_sessions": 0.0 if closed else 40.0,
                        "sessions_drawn": 0.0 if closed else 2.0,
                        "income_gbp": 0.0 if closed else 300_000.0,
                        "costs_gbp": 0.0 if closed else 250_000.0,
                        "profit_gbp": 0.0 if closed else 50_000.0,
                        "profit_per_partner_fte_gbp": float("nan") if closed else profit,
                        "distressed": open_ and p < distressed,
                        "handed_back": handed,
                        "neighbourhood_payment_gbp": 0.0 if closed else PAYMENT[scenario],
                        "enhanced_services_lost_gbp": 0.0 if closed else MOVED_OUT[scenario],
                        "gp_appointments": 0 if closed else 9_000,
                        "usual_gp_appointments": 0 if closed else 5_000,
                        "routine_wait_mean_days": 0.0 if closed else 12.0,
                    }
                )
    return pd.DataFrame(rows)
