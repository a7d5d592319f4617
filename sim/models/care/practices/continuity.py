"""Whether a GP appointment is with the patient's usual GP, and what continuity does.

A patient's usual GP works some of the practice's sessions; the chance that a GP appointment
is with them rises with the share of the week their GP is in (``usual_gp_scale`` x sessions
a GP works in the practice / 10 half days, at most 1). GP sessions drawn into neighbourhood
work take the usual GP out of the practice for part of the week. A patient registered for
less than ``new_registration_days`` (a joiner, or someone whose practice closed) has no
established usual GP yet (``new_registration_factor``). Continuity is then measured from the
appointment records, not set, and the crisis effect of continuity (a sourced effect size)
reads the practice's measured continuity of the last quarter.
"""

from __future__ import annotations

import numpy as np

from sim.models.care import schema as s

HALF_DAYS_A_WEEK = 10.0


def practice_usual_probability(
    cfg: s.PracticeContinuityConfig, gp_working: np.ndarray, gp_headcount: np.ndarray
) -> np.ndarray:
    """Chance a GP appointment at each practice is with an established patient's usual GP."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_gp = np.where(gp_headcount > 0, gp_working / gp_headcount, 0.0)
    return np.clip(cfg.usual_gp_scale * per_gp / HALF_DAYS_A_WEEK, 0.0, 1.0)


def crisis_multiplier(urgent: s.UrgentConfig, reference: float, upc: np.ndarray) -> np.ndarray:
    """Crisis-rate multiplier of each practice's patients from its measured continuity
    (1 at the reference continuity; the effect per +0.2 UPC is sourced)."""
    return np.maximum(0.0, 1.0 + urgent.continuity_effect_per_0_2_upc / 0.2 * (upc - reference))


def largest_multiplier(urgent: s.UrgentConfig, reference: float) -> float:
    """The largest crisis multiplier continuity can give (at continuity 0 with a protective
    effect, at 1 otherwise): the bound the thinning of crisis candidates needs."""
    return float(max(crisis_multiplier(urgent, reference, np.array([0.0, 1.0]))))
