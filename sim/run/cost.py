"""Expected memory and time of a run, checked before anything is simulated.

A valid but huge value (a place of a billion people, a horizon of a million years) would
otherwise fail deep inside a run with a numpy allocation error, or run for months. Each
model estimates its own cost (``ModelSpec.estimate``); this module checks the estimate
against the memory available and warns about long commands.
"""

from __future__ import annotations

import os

from sim.config.params import Params
from sim.errors import ConfigError
from sim.models import MODELS
from sim.models.base import Estimate

# Share of the available memory one run may plan to use.
MEMORY_HEADROOM = 0.8


def estimate(params: Params) -> Estimate:
    """Expected peak memory and time of one replication of ``params``, from its model.

    Parameters
    ----------
    params
        Validated parameters of one job.

    Returns
    -------
    Estimate
        With the key most responsible for the size, to name in a message.
    """
    spec = MODELS[params.kind]
    if spec.estimate is None:  # a model that cannot say: nothing to refuse on
        return Estimate(0.0, 0.0, "run.horizon", params.run.horizon, "an unknown amount", "")
    return spec.estimate(params)


def available_gb() -> float:
    """Memory available to a new process now (MemAvailable), or physical memory if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (ValueError, OSError, AttributeError):
        return float("inf")


def check_memory(params: Params, available: float | None = None) -> Estimate:
    """Refuse a job whose replications cannot fit in memory; return its estimate.

    Raises
    ------
    ConfigError
        Naming the key that makes the job large, the expected memory and what is available.
    """
    est = estimate(params)
    free = available_gb() if available is None else available
    parallel = min(params.run.workers, params.run.replications)
    need = est.peak_gb * parallel
    if need > MEMORY_HEADROOM * free:
        per = f" ({parallel} workers at once)" if parallel > 1 else ""
        raise ConfigError(
            est.key,
            est.value,
            f"needs about {_gb(need)} of memory{per} to simulate {est.size}, but "
            f"{_gb(free)} is available; {est.advice}",
        )
    return est


def duration_note(seconds: float, replications: int) -> str | None:
    """A one-line notice when the whole command is expected to take over an hour of CPU."""
    if seconds < 3600:
        return None
    hours = seconds / 3600
    span = f"{hours:,.0f} hours" if hours < 72 else f"{hours / 24:,.0f} days"
    return (
        f"expected to take about {span} of CPU time ({replications:,} replications); "
        "Ctrl-C stops it cleanly and finished replications are kept"
    )


def _gb(value: float) -> str:
    return f"{value:,.1f} GB" if value < 1e4 else f"{value:,.3g} GB"
