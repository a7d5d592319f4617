"""Exact queueing results used to verify the engine.

Notation: arrival rate λ, service rate μ per server, c servers, offered load a = λ/μ,
utilisation ρ = a/c. Wq is the mean wait before service, W the mean sojourn, Lq and L the
mean numbers waiting and present.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``a`` (stable recursion)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c (requires a < c)."""
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state means of one queue."""

    wait: float
    sojourn: float
    queue_length: float
    number_in_system: float
    utilisation: float
    blocking: float = 0.0
    throughput: float = float("nan")


def mmc(lam: float, mu: float, c: int) -> QueueMetrics:
    """M/M/c: Erlang C. Raises ``ValueError`` when ρ ≥ 1 (no steady state)."""
    a = lam / mu
    if a >= c:
        raise ValueError(f"unstable: utilisation {a / c:.3f} >= 1")
    p_wait = erlang_c(c, a)
    wq = p_wait / (c * mu - lam)
    return QueueMetrics(
        wait=wq,
        sojourn=wq + 1.0 / mu,
        queue_length=lam * wq,
        number_in_system=lam * wq + a,
        utilisation=a / c,
        throughput=lam,
    )


def mmck(lam: float, mu: float, c: int, k: int) -> QueueMetrics:
    """M/M/c/K, K counting everyone present; blocking is P(K present) (PASTA)."""
    if k < c:
        raise ValueError("K must be at least c")
    n = np.arange(k + 1)
    # log p_n up to a constant: birth-death chain with death rate min(n, c) μ.
    log_rates = np.log(lam) - np.log(np.minimum(np.maximum(n, 1), c) * mu)
    log_rates[0] = 0.0
    log_p = np.cumsum(log_rates)
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    lq = float(np.sum(np.maximum(n - c, 0) * p))
    big_l = float(np.sum(n * p))
    lam_eff = lam * (1.0 - p[k])
    return QueueMetrics(
        wait=lq / lam_eff,
        sojourn=big_l / lam_eff,
        queue_length=lq,
        number_in_system=big_l,
        utilisation=lam_eff / (c * mu),
        blocking=float(p[k]),
        throughput=lam_eff,
    )


def mg1_wait(lam: float, mean: float, second_moment: float) -> float:
    """Pollaczek–Khinchine mean wait of M/G/1 from the service time's first two moments."""
    rho = lam * mean
    if rho >= 1:
        raise ValueError(f"unstable: utilisation {rho:.3f} >= 1")
    return lam * second_moment / (2.0 * (1.0 - rho))


def priority_waits(lam: list[float], mu: float, c: int) -> list[float]:
    """Mean wait per class in a non-pre-emptive priority M/M/c (Cobham), class 0 first.

    All classes share the service rate μ.
    """
    total = sum(lam)
    a = total / mu
    if a >= c:
        raise ValueError(f"unstable: utilisation {a / c:.3f} >= 1")
    w0 = erlang_c(c, a) / (c * mu)
    waits, sigma = [], 0.0
    for lam_k in lam:
        before = sigma
        sigma += lam_k / (c * mu)
        waits.append(w0 / ((1.0 - before) * (1.0 - sigma)))
    return waits


def traffic_equations(external: np.ndarray, routing: np.ndarray) -> np.ndarray:
    """Total arrival rates of an open Jackson network: λ = γ + Pᵀλ.

    Parameters
    ----------
    external
        γ, external arrival rate per node.
    routing
        P, where ``routing[i, j]`` is the probability of going from i to j.
    """
    n = len(external)
    return np.linalg.solve(np.eye(n) - routing.T, external)
