"""Expected memory and time of a run, checked before anything is simulated.

A valid but huge value (a place of a billion people, a horizon of a million years) would
otherwise fail deep inside a run with a numpy allocation error, or run for months. The
per-unit costs below were measured with ``benchmarks/model.py``, ``benchmarks/soak.py`` and
``benchmarks/engine.py`` on the reference machine (docs/performance.md) and rounded up, so
the estimate errs on the side of more memory and more time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sim.config.params import Params
from sim.errors import ConfigError

# Care model: memory = interpreter + per person + per person-year simulated. The KPIs are
# tallied as the run goes, so what grows with simulated time is the demand drawn up front
# for the whole run (about 0.15 KB a person-year; docs/reliability.md, soak) and, when the
# event log is kept, the log (about 1.05 KB a person-year); time per person-year.
BASE_MB = 150.0
CARE_KB_PER_PERSON = 0.3
CARE_KB_PER_PERSON_YEAR = 0.3
CARE_LOG_KB_PER_PERSON_YEAR = 1.2
CARE_US_PER_PERSON_YEAR = 25.0
# Queue models: per external arrival (visits, records) and per simulated customer.
QUEUE_BYTES_PER_ARRIVAL = 400.0
QUEUE_US_PER_ARRIVAL = 8.0
# Share of the available memory one run may plan to use.
MEMORY_HEADROOM = 0.8


@dataclass(frozen=True)
class Estimate:
    """Expected peak memory of one replication process and its single-core wall time."""

    peak_gb: float
    seconds_per_replication: float
    key: str
    value: object
    size: str
    advice: str


def estimate(params: Params) -> Estimate:
    """Expected peak memory and time of one replication of ``params``.

    Parameters
    ----------
    params
        Validated parameters of one job.

    Returns
    -------
    Estimate
        With the key most responsible for the size, to name in a message.
    """
    horizon = params.run.horizon
    years = horizon / 365.0
    if params.kind == "care":
        people = float(params.model.population)
        person_years = people * years
        per_person_year = CARE_KB_PER_PERSON_YEAR + (
            CARE_LOG_KB_PER_PERSON_YEAR if params.output.event_log else 0.0
        )
        mb = BASE_MB + (people * CARE_KB_PER_PERSON + person_years * per_person_year) / 1024
        seconds = person_years * CARE_US_PER_PERSON_YEAR * 1e-6
        if years > 20:
            key, value = "run.horizon", horizon
        else:
            key, value = _largest_area(params.model)
        size = f"{people:,.0f} people for {years:,.1f} simulated years"
        advice = "use fewer people, a shorter run.horizon or fewer run.workers"
    else:
        arrivals = sum(n.arrival_rate for n in params.model.nodes) * horizon
        mb = BASE_MB + arrivals * QUEUE_BYTES_PER_ARRIVAL / 2**20
        seconds = arrivals * QUEUE_US_PER_ARRIVAL * 1e-6
        key, value = "run.horizon", horizon
        size = f"about {arrivals:,.0f} arrivals"
        advice = "use a shorter run.horizon, lower arrival rates or fewer run.workers"
    return Estimate(mb / 1024, seconds, key, value, size, advice)


def _largest_area(model) -> tuple[str, int]:  # noqa: ANN001  (CareParams)
    """The key and value of the most populous area, the one to shrink first."""
    sizes = dict(zip(model.area_names, model.area_population, strict=True))
    name = max(sizes, key=sizes.__getitem__)
    return f"place.areas.{name}.population", sizes[name]


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
