"""How practices respond to an arrangement: engagement, and buying capacity.

Both are behavioural ASSUMPTIONS with ranges (docs/model.md; the one-way sensitivity
experiment varies them): no study measures how English practices' engagement in neighbourhood
work responds to money or control.
"""

from __future__ import annotations

import math

import numpy as np

from sim.models.care import schema as s


def engagement_probability(b: s.PracticeBehaviourConfig, m: s.PracticeMechanismsConfig) -> float:
    """Chance that a practice engages in neighbourhood work under arrangement ``m``.

    A logistic response to the money the arrangement routes to practices (GBP per weighted
    patient a year) and the control it gives them (``autonomy``, 0-1, centred on 0.5). Under
    collective disengagement (the LMC vote) no practice engages, whatever the terms.
    """
    if m.collective_disengagement:
        return 0.0
    x = (
        b.engagement_intercept
        + b.engagement_per_gbp * m.payment_per_weighted_patient_gbp
        + b.engagement_per_autonomy * (m.autonomy - 0.5)
    )
    # The logistic written so that neither branch can overflow, whatever the coefficients.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def engaged(probability: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Which practices engage: practice ``i`` does when its uniform ``u[i]`` is below its
    arrangement's probability, so a higher probability engages a superset (common random
    numbers across scenarios)."""
    return u < probability


def target_sessions(
    per_weighted: np.ndarray,
    weighted: np.ndarray,
    payment_per_weighted_patient: np.ndarray,
    paid: np.ndarray,
    spent_share: float,
    cost_per_session: float,
) -> np.ndarray:
    """GP sessions a week each practice wants in practice work.

    The GP sessions per weighted patient it started with (``per_weighted``), on its list of
    now, plus the sessions bought with the share ``spent_share`` of the arrangement's
    neighbourhood payment (GBP per weighted patient a year, to ``paid`` practices only), at
    ``cost_per_session`` GBP a year for a weekly session. Spending part of new money on GPs is
    an ASSUMPTION (docs/model.md): in 2024-25 practices said they could not afford the GPs
    they needed while GPs looked for work, so money, not GPs, was what they lacked.
    """
    want = per_weighted * weighted
    if cost_per_session <= 0:
        return want
    bought = spent_share * payment_per_weighted_patient * weighted / cost_per_session
    return want + np.where(paid, bought, 0.0)


def sessions_to_hire(
    shortfall: np.ndarray,
    profit_per_partner_fte: np.ndarray,
    partner_fte: np.ndarray,
    cost_per_session: float,
    floor: float,
    cap: float,
) -> np.ndarray:
    """Salaried GP sessions a week each practice hires this quarter.

    A practice short of its GP sessions (``shortfall`` > 0: sessions drawn away, a list
    grown by a neighbour's dispersal, or sessions it buys with the neighbourhood payment:
    :func:`target_sessions`) hires up to the shortfall and at most ``cap`` a quarter
    (the labour market), and only as far as its partners' profit stays at or above ``floor``
    a partner FTE a year after paying for them: money routed to practices buys capacity only
    where it leaves room above the floor.
    """
    room = np.where(
        np.isfinite(profit_per_partner_fte),
        (np.nan_to_num(profit_per_partner_fte) - floor) * partner_fte,
        0.0,
    )
    afford = np.maximum(room, 0.0) / cost_per_session if cost_per_session > 0 else np.inf
    return np.clip(np.minimum(np.minimum(shortfall, cap), afford), 0.0, None)
