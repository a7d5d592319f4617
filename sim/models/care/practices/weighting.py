"""Each practice's weighted list: a documented simplification of the Carr-Hill formula.

The global sum is paid per *weighted* patient. Carr-Hill weights a list by age and sex
(consultation rates), additional need, list turnover, nursing and residential homes, rurality
and market forces [src:pulse-carrhill]. The model keeps the two factors it represents: an
age-band workload weight and a care-home weight (docs/model.md, "General practice as a
business"). The weights are normalised by the configured England mix, so a place like England
has about as many weighted patients as registered ones.
"""

from __future__ import annotations

import numpy as np

from sim.models.care import schema as s


def person_weights(
    cfg: s.PracticeWeightingConfig, age: np.ndarray, care_home: np.ndarray
) -> np.ndarray:
    """Carr-Hill-style workload weight of each person (age band code, care-home flag)."""
    by_age = np.array([cfg.age_weights[b] for b in s.AGE_BANDS])[age]
    return by_age * np.where(care_home, cfg.care_home_weight, 1.0)


def weighted_lists(
    cfg: s.PracticeWeightingConfig,
    practice: np.ndarray,
    age: np.ndarray,
    care_home: np.ndarray,
    registered: np.ndarray,
    n_practices: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Registered and weighted list size of every practice.

    Parameters
    ----------
    cfg
        The weighting block.
    practice, age, care_home
        Each person's practice, age band code and care-home flag now.
    registered
        Whether each person is alive and on a list now.
    n_practices
        Number of practices (closed practices get zeros).
    """
    who = np.flatnonzero(registered)
    pr = practice[who]
    w = person_weights(cfg, age[who], care_home[who])
    return (
        np.bincount(pr, minlength=n_practices).astype(float),
        np.bincount(pr, weights=w, minlength=n_practices),
    )
