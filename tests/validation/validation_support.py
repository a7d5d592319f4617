"""Shared pieces of the validation tier: configs, replications, CIs and textbook formulas.

The analytic values here are written out again from the textbook formulas (explicit sums
over factorials, the birth-death chain, a linear solve) rather than imported from
:mod:`sim.analysis.theory`, so that a wrong formula in the engine's own reference table cannot
make a wrong simulation look right. The tests also check that ``sim.analysis.theory`` and the
model's ``verification.csv`` reference agree with these independent values.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from scipy import stats

from sim.config.compose import compose_config
from sim.config.params import validate
from sim.models import MODELS
from sim.models.base import ReplicationResult
from sim.rng import name_key
from sim.run.replications import run_replications

SEED = 20261125
"""Fixed base seed: with it every statistical check below is deterministic."""

LEVEL = 0.99
"""Confidence level of the t interval that must cover the theory value.

Were the seeds random, a correct engine would fail each such check with probability about
1 - LEVEL = 1% (exactly that if the replication means were normal); a file of k checks
fails at most k% of the time, less because checks on one run are strongly correlated.
"""

MAX_REL_HALF_WIDTH = 0.15
"""Not a tolerance, a power guard: a check whose 99% CI is wider than 15% of the theory value
could hardly fail, so a change that shortens runs (or makes estimates noisier) must fail
loudly instead of quietly turning the check into one that always passes."""

WORKERS = min(2, os.cpu_count() or 1)
"""Replications run in this many processes; results are identical for any value."""

NODE_METRICS = (
    "wait_mean",
    "sojourn_mean",
    "utilisation",
    "number_in_system_mean",
    "blocking_probability",
    "throughput",
)


# ------------------------------------------------------------------------------ configs
def case_seed(case: str) -> int:
    """A fixed seed of its own for the case called ``case`` (stable across processes).

    Every single-node case names its streams ``arrivals/a`` and ``service/a``; under one
    seed they would all draw the same numbers (common random numbers, by design), so an
    unusually busy arrival stream would push every case the same way and the cases would
    not be independent evidence. A seed per case, from the case's name, makes them so.
    """
    return name_key(case) % 2**31


def queue_config(
    nodes: dict[str, dict[str, Any]],
    *,
    horizon: float,
    warm_up: float,
    replications: int = 10,
    seed: int = SEED,
    event_log: bool = False,
) -> dict[str, Any]:
    """A plain-dict ``model=queue`` config, as :func:`sim.config.params.validate` accepts it.

    Parameters
    ----------
    nodes
        ``model.nodes``: node name to its keys (``arrival_rate``, ``servers``, ...).
    horizon, warm_up
        Run length and the initial period excluded from every metric.
    replications
        Independent replications (indices 0 .. R-1, each with its own named streams).
    seed
        Base seed.
    event_log
        Keep the per-visit table (``tables["events"]``).
    """
    return {
        "model": {"kind": "queue", "nodes": copy.deepcopy(nodes)},
        "run": {
            "seed": seed,
            "replications": replications,
            "horizon": float(horizon),
            "warm_up": float(warm_up),
            "workers": WORKERS,
            "progress": False,
            "cache": False,
        },
        "output": {"event_log": event_log, "timeseries": False},
    }


@functools.lru_cache(maxsize=4)
def _composed(*overrides: str) -> str:
    cfg = compose_config(overrides)
    return json.dumps(OmegaConf.to_container(cfg, resolve=True))


def composed_config(*overrides: str, **run: Any) -> dict[str, Any]:
    """The app's config composed with Hydra overrides (e.g. ``"model=jackson3"``).

    Keyword arguments replace keys of the ``run`` section; the cache and progress bar are
    always off and the workers set to :data:`WORKERS`.
    """
    cfg = json.loads(_composed(*overrides))
    cfg["run"].update({"workers": WORKERS, "progress": False, "cache": False, **run})
    return cfg


# ------------------------------------------------------------------------------ running
@functools.lru_cache(maxsize=32)
def _replicate(key: str) -> pd.DataFrame:
    params = validate(json.loads(key))
    results = run_replications(params)
    frame = pd.DataFrame([r.metrics for r in results], index=[r.replication for r in results])
    frame.index.name = "replication"
    return frame


def replicate(cfg: dict[str, Any]) -> pd.DataFrame:
    """Run every replication of ``cfg``: one row per replication, one column per metric.

    Results are cached per config, so tests that look at the same runs pay for them once.
    """
    return _replicate(json.dumps(cfg, sort_keys=True)).copy()


def run_one(cfg: dict[str, Any], replication: int = 0) -> ReplicationResult:
    """One replication of ``cfg`` in this process."""
    params = validate(cfg)
    return MODELS["queue"].simulate(params.model, params.run, params.output, replication)


# ------------------------------------------------------------------------------ statistics
def t_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval of replication means.

    Written out here rather than taken from :mod:`sim.analysis.stats` so the checks do not rely on
    the code whose intervals ``verification.csv`` reports.

    Returns
    -------
    tuple
        ``(mean, low, high)``.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        raise ValueError("a t interval needs at least two replications")
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def theory_misses(reps: pd.DataFrame, theory: dict[str, float], level: float = LEVEL) -> list[str]:
    """Every metric whose replication CI misses its theory value, or is too wide to test.

    Parameters
    ----------
    reps
        One row per replication, one column per metric (from :func:`replicate`).
    theory
        Metric name to exact value.
    level
        Confidence level of the t interval.

    Returns
    -------
    list of str
        One readable line per failure; empty when every check passed.
    """
    lines = []
    for metric, expected in theory.items():
        mean, low, high = t_interval(reps[metric].to_numpy(), level)
        half = (high - low) / 2
        where = (
            f"{metric}: theory {expected:.6g}, simulated {mean:.6g}, "
            f"{level:.0%} CI [{low:.6g}, {high:.6g}] (n = {len(reps)})"
        )
        if not low <= expected <= high:
            lines.append(f"{where}: theory outside the CI")
        elif expected != 0 and half > MAX_REL_HALF_WIDTH * abs(expected):
            lines.append(f"{where}: CI half-width {half / abs(expected):.1%} of theory, too wide")
    return lines


def assert_theory_in_ci(reps: pd.DataFrame, theory: dict[str, float], level: float = LEVEL):
    """Fail, listing every miss, unless each theory value lies inside its replication CI."""
    misses = theory_misses(reps, theory, level)
    assert not misses, "\n".join(misses)


# ------------------------------------------------------------------------------ theory
def erlang_b_textbook(c: int, a: float) -> float:
    """Erlang B from its definition: (a^c / c!) / sum_{k=0..c} a^k / k!."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def erlang_c_textbook(c: int, a: float) -> float:
    """Erlang C from its definition, for a < c.

    C(c, a) = [a^c / c! · c / (c - a)] / [sum_{k<c} a^k / k! + a^c / c! · c / (c - a)].
    """
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def mmc_textbook(lam: float, mu: float, c: int) -> dict[str, float]:
    """Steady-state means of M/M/c, keyed by metric stem (``wait_mean`` etc.).

    Wq = C(c, a) / (cμ - λ), W = Wq + 1/μ, L = λW (Little), utilisation a / c.
    """
    a = lam / mu
    wq = erlang_c_textbook(c, a) / (c * mu - lam)
    w = wq + 1.0 / mu
    return {
        "wait_mean": wq,
        "sojourn_mean": w,
        "utilisation": a / c,
        "number_in_system_mean": lam * w,
        "throughput": lam,
    }


def mmck_textbook(lam: float, mu: float, c: int, k: int) -> dict[str, float]:
    """Steady-state means of M/M/c/K from the birth-death probabilities p_n.

    p_n ∝ a^n / n! for n ≤ c and a^n / (c! c^(n-c)) for c < n ≤ K. By PASTA an arrival is
    blocked with probability p_K; the accepted rate λ(1 - p_K) gives W and Wq by Little.
    """
    a = lam / mu
    weights = [
        a**n / math.factorial(n) if n <= c else a**n / (math.factorial(c) * c ** (n - c))
        for n in range(k + 1)
    ]
    total = sum(weights)
    p = [w / total for w in weights]
    big_l = sum(n * pn for n, pn in enumerate(p))
    lq = sum((n - c) * pn for n, pn in enumerate(p) if n > c)
    lam_eff = lam * (1.0 - p[k])
    return {
        "wait_mean": lq / lam_eff,
        "sojourn_mean": big_l / lam_eff,
        "utilisation": lam_eff / (c * mu),
        "number_in_system_mean": big_l,
        "blocking_probability": p[k],
        "throughput": lam_eff,
    }


def jackson_rates(external: list[float], routing: list[list[float]]) -> np.ndarray:
    """Total arrival rates solving the traffic equations λ_j = γ_j + Σ_i λ_i P_ij."""
    p = np.asarray(routing, dtype=float)
    return np.linalg.solve(np.eye(len(external)) - p.T, np.asarray(external, dtype=float))


def per_node(name: str, values: dict[str, float]) -> dict[str, float]:
    """``{"wait_mean": x}`` → ``{"wait_mean__<name>": x}``."""
    return {f"{stem}__{name}": v for stem, v in values.items()}


def cobham_textbook(rates: list[float], mu: float, c: int) -> list[float]:
    """Per-class mean waits of non-pre-emptive priority M/M/c, classes in priority order.

    Cobham (1954): Wq_k = W0 / ((1 - σ_{k-1})(1 - σ_k)), with σ_k = Σ_{i≤k} λ_i / (cμ) and
    W0 = C(c, a) / (cμ), the mean time until some server frees as seen by an arrival
    (every class has the same exponential service, so the busy-period residual is
    memoryless).
    """
    lam = sum(rates)
    w0 = erlang_c_textbook(c, lam / mu) / (c * mu)
    waits, sigma = [], 0.0
    for lam_k in rates:
        before = sigma
        sigma += lam_k / (c * mu)
        waits.append(w0 / ((1.0 - before) * (1.0 - sigma)))
    return waits


def mmc_window_textbook(lam: float, mu: float, c: int, window: float) -> dict[str, float]:
    """M/M/c+D: FIFO, and a customer not served within ``window`` leaves (deterministic
    patience), the queue of :class:`sim.engine.Teams`.

    With deterministic patience a customer who will be lost never delays anyone, so the
    offered wait V (the wait an arrival would have) decreases at rate 1 and jumps by an
    Exp(cμ) amount at each arrival that finds 0 < V ≤ D, or finds all but one server busy.
    Level crossing gives p_n ∝ a^n / n! for n < c servers busy, and the density of V
    v(x) = λ p_{c-1} e^{-θx} on (0, D), with θ = cμ - λ, then v(D) e^{-cμ(x - D)} beyond D.
    By PASTA an arrival is lost with probability P(V > D) = ρ p_{c-1} e^{-θD}, and a
    customer served waits V given V ≤ D. D = 0 gives Erlang B; D → ∞ gives Erlang C.

    Returns
    -------
    dict
        ``loss`` (share of arrivals lost), ``wait_mean`` (mean wait of those served) and
        ``wait_probability`` (share of those served who waited at all).
    """
    a, rho, theta, d = lam / mu, lam / (c * mu), c * mu - lam, window
    q = a ** (c - 1) / math.factorial(c - 1)  # p_{c-1} before normalising
    idle = sum(a**n / math.factorial(n) for n in range(c))
    # ∫_0^D e^{-θx} dx and ∫_0^D x e^{-θx} dx (θ may be of either sign, or zero)
    if abs(theta) < 1e-12:
        mass, first = d, d * d / 2.0
    else:
        e = math.exp(-theta * d)
        mass = (1.0 - e) / theta
        first = (1.0 - e * (1.0 + theta * d)) / theta**2
    norm = idle + lam * q * mass + rho * q * math.exp(-theta * d)
    loss = rho * q * math.exp(-theta * d) / norm
    served = 1.0 - loss
    return {
        "loss": loss,
        "wait_mean": lam * q * first / norm / served,
        "wait_probability": lam * q * mass / norm / served,
    }
