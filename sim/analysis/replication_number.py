"""How many replications: the confidence-interval method, and ``run.replications=auto``.

The confidence-interval method (Law 2015, §9.4.1; Hoad, Robinson and Davies 2010) asks for
the smallest number of replications ``n`` whose 95% t-interval half-width is within a
relative precision ``p`` of the mean, for every headline KPI:

    t(0.975, n-1) * s / sqrt(n) <= p * |mean|

With ``run.replications=auto`` a run starts with :data:`INITIAL` replications, estimates
``s`` and the mean from them, adds the replications the estimate says are still needed
(replication ``r`` always draws from its own named streams, so adding replications keeps
common random numbers and never changes the ones already run), and repeats until every
headline KPI meets the precision or ``run.max_replications`` is reached. The chosen ``n``
and the precision reached are recorded in ``run.json`` and the STRESS-DES report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sim.config.params import Params
from sim.models import MODELS
from sim.models.base import ReplicationResult
from sim.run.cache import ReplicationCache
from sim.run.replications import replications_table, run_replications

INITIAL = 5
# KPIs whose precision decides N: the care model's headline measures; for the queueing
# models every node's mean wait and sojourn.
QUEUE_PREFIXES = ("wait_mean__", "sojourn_mean__")


def relative_half_width(values: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the t-interval of the mean of ``values``, divided by ``|mean|``.

    ``inf`` when it cannot be estimated (fewer than two values, or a zero mean with spread);
    0 when every value is the same.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return math.inf
    sd = float(x.std(ddof=1))
    if sd == 0:
        return 0.0
    mean = abs(float(x.mean()))
    if mean == 0:
        return math.inf
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * sd / math.sqrt(x.size)
    return float(half / mean)


def required_replications(
    sd: float, mean: float, precision: float, level: float = 0.95, cap: int = 100_000
) -> int:
    """Smallest ``n >= 2`` with ``t(level, n-1) * sd / sqrt(n) <= precision * |mean|``.

    Parameters
    ----------
    sd, mean
        Standard deviation and mean of one replication's KPI (estimates).
    precision
        Target half-width as a share of ``|mean|``.
    level
        Confidence level.
    cap
        Returned when no ``n`` up to it is enough (including a zero mean with spread).
    """
    if sd == 0:
        return 2
    target = precision * abs(mean)
    if target == 0:
        return cap
    q = 0.5 + level / 2
    # Start from the normal approximation and step up: t > z, so it is a lower bound.
    n = max(2, math.ceil((stats.norm.ppf(q) * sd / target) ** 2))
    while n < cap and stats.t.ppf(q, n - 1) * sd / math.sqrt(n) > target:
        n += 1
    return min(n, cap)


def precision_metrics(kind: str, metrics: Sequence[str]) -> list[str]:
    """The KPIs whose precision decides the number of replications for a model ``kind``."""
    if kind == "care":
        return [m for m in MODELS[kind].headline if m in metrics]
    return [m for m in metrics if m.startswith(QUEUE_PREFIXES)]


@dataclass
class ReplicationChoice:
    """What ``run.replications=auto`` chose and why (recorded in ``run.json``)."""

    target: float
    maximum: int
    chosen: int = 0
    met: bool = False
    reached: dict[str, float] = field(default_factory=dict)
    steps: list[int] = field(default_factory=list)

    def record(self) -> dict[str, object]:
        """The manifest entry."""
        return {
            "rule": "confidence-interval method (relative half-width of the 95% t-interval)",
            "precision_target": self.target,
            "max_replications": self.maximum,
            "replications_chosen": self.chosen,
            "precision_met": self.met,
            "precision_reached": {k: round(v, 6) for k, v in self.reached.items()},
            "replications_after_each_step": self.steps,
        }


def _precision(table: pd.DataFrame, metrics: Sequence[str]) -> dict[str, float]:
    return {
        m: relative_half_width(table.loc[table["metric"] == m, "value"].to_numpy()) for m in metrics
    }


def run_until_precise(
    params: Params, cache: ReplicationCache | None = None
) -> tuple[list[ReplicationResult], ReplicationChoice]:
    """Add replications until every headline KPI meets ``run.precision`` (or the cap).

    Parameters
    ----------
    params
        Validated parameters with ``run.auto`` set.
    cache
        Replication cache, as for :func:`sim.run.replications.run_replications`.
    """
    run = params.run
    choice = ReplicationChoice(target=run.precision, maximum=run.max_replications)
    n = min(INITIAL, run.max_replications)
    results = run_replications(params, range(n), cache=cache)
    while True:
        table = replications_table(results)
        metrics = precision_metrics(params.kind, list(dict.fromkeys(table["metric"])))
        choice.reached = _precision(table, metrics)
        choice.steps.append(n)
        choice.met = all(v <= run.precision for v in choice.reached.values())
        if choice.met or n >= run.max_replications:
            break
        needed = n + 1
        for m in metrics:
            values = table.loc[table["metric"] == m, "value"].dropna().to_numpy()
            if values.size >= 2:
                sd, mean = float(values.std(ddof=1)), float(values.mean())
                needed = max(needed, required_replications(sd, mean, run.precision))
        new = min(needed, run.max_replications)
        results += run_replications(params, range(n, new), cache=cache)
        n = new
    choice.chosen = n
    return results, choice
