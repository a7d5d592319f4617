"""Confidence intervals across replications."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def t_quantile(level: float, dof: float) -> float:
    """The two-sided Student t critical value: ``t`` with ``P(|T| <= t) = level``.

    Every confidence interval of the package (across replications, paired differences,
    Welch's independent-samples interval and the replication-number search) uses this one
    function, so there is a single definition of "a 95% interval".
    """
    return float(stats.t.ppf(0.5 + level / 2, dof))


def t_half_width(sd: float, n: int, level: float = 0.95) -> float:
    """Half-width of the t-interval of a mean of ``n`` values with standard deviation ``sd``."""
    return t_quantile(level, n - 1) * sd / float(np.sqrt(n))


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, standard deviation and two-sided t confidence interval of ``values``.

    Returns
    -------
    tuple
        ``(mean, sd, low, high)``. With one value the sd and interval are NaN.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan)
    mean = float(x.mean())
    if n == 1:
        return (mean, np.nan, np.nan, np.nan)
    sd = float(x.std(ddof=1))
    half = t_half_width(sd, n, level)
    return (mean, sd, mean - half, mean + half)


def summarise(replications: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per metric: ``metric, mean, sd, ci_low, ci_high, n``.

    Parameters
    ----------
    replications
        Long table with columns ``replication, metric, value``.
    level
        Confidence level of the t interval.
    """
    rows = []
    for metric, group in replications.groupby("metric", sort=False):
        values = group["value"].to_numpy(dtype=float)
        mean, sd, low, high = t_interval(values, level)
        rows.append((metric, mean, sd, low, high, int(np.count_nonzero(~np.isnan(values)))))
    return pd.DataFrame(rows, columns=["metric", "mean", "sd", "ci_low", "ci_high", "n"])
