"""Splitting whole places between areas: a pure function, cheap to import.

Validation (``params.py``) needs it, and the model registry imports validation, so it lives
apart from the resource classes, which pull in SimPy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def apportion(total: float, weights: Any) -> list[float]:
    """Split ``total`` whole places in proportion to ``weights`` so the parts add up to it.

    Rounding each share separately can create or lose places (three areas of a third of one
    bed would each get none, or a pool of one bed per area could exceed the total), so the
    largest-remainder method is used: floors first, then the leftover places to the largest
    remainders, ties to the earlier part. An infinite total gives every part an infinite one.

    Parameters
    ----------
    total
        Whole number of places, or ``math.inf``.
    weights
        Non-negative weights, one per part (all zero gives every part zero).

    Returns
    -------
    list of float
        Whole places per part.
    """
    w = np.asarray(weights, dtype=float)
    if math.isinf(total):
        return [math.inf] * len(w)
    exact = total * w / w.sum() if w.sum() > 0 else np.zeros_like(w)
    parts = np.floor(exact + 1e-9)
    short = int(round(total - parts.sum()))
    if short > 0:
        order = np.lexsort((np.arange(w.size), -(exact - parts)))
        parts[order[:short]] += 1
    return parts.tolist()
