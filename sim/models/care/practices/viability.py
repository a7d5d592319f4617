"""When a practice hands back its contract, and where its patients go.

A practice whose partners' profit stays below a threshold for a configured number of
consecutive quarters hands back its contract (partners resign or merge into a neighbour;
docs/model.md). Its list disperses to the open practices of the same neighbourhood, each
patient choosing one with chance in proportion to its list (an assumption; the ICB may also
find a caretaker, which the model does not represent). The last open practice of an area
cannot hand back: the commissioner must keep a contract in place.
"""

from __future__ import annotations

import numpy as np


def distressed(
    profit_per_partner_fte: np.ndarray, profit: np.ndarray, threshold: float
) -> np.ndarray:
    """Practices in financial distress this quarter: partners' profit a partner FTE below
    ``threshold``, or, with no partners, a loss."""
    with np.errstate(invalid="ignore"):
        return np.where(
            np.isfinite(profit_per_partner_fte), profit_per_partner_fte < threshold, profit < 0
        )


def count_quarters(counter: np.ndarray, distress: np.ndarray) -> np.ndarray:
    """Consecutive quarters in distress, updated with this quarter."""
    return np.where(distress, counter + 1, 0)


def hand_backs(
    counter: np.ndarray, quarters: int, is_open: np.ndarray, area: np.ndarray
) -> np.ndarray:
    """Practices that hand back now: distressed for ``quarters`` quarters in a row, open, and
    not the last open practice of their area (the lowest-numbered such practice stays)."""
    due = is_open & (counter >= quarters)
    out = due.copy()
    for a in np.unique(area[due]):
        mine = area == a
        if not (is_open & mine & ~due).any():
            keep = np.flatnonzero(due & mine)[0]
            out[keep] = False
    return out


def receivers(
    closing: int,
    is_open: np.ndarray,
    neighbourhood: np.ndarray,
    area: np.ndarray,
) -> np.ndarray:
    """The practices that take a closing practice's patients: the open practices of its
    neighbourhood, else of its area."""
    pool = np.flatnonzero(is_open & (neighbourhood == neighbourhood[closing]))
    pool = pool[pool != closing]
    if not pool.size:
        pool = np.flatnonzero(is_open & (area == area[closing]))
        pool = pool[pool != closing]
    return pool


def disperse(n_people: int, pool: np.ndarray, registered: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The new practice of each of ``n_people`` patients: a practice of ``pool`` chosen with
    chance in proportion to its registered list, by the uniforms ``u``."""
    weight = np.maximum(registered[pool], 1.0)
    cdf = np.cumsum(weight) / weight.sum()
    return pool[np.searchsorted(cdf, u[:n_people], side="right").clip(max=pool.size - 1)]
