"""Expected memory and time of one replication of a queueing-network model."""

from __future__ import annotations

from typing import Any

from sim.models.base import BASE_MB, Estimate

# Per external arrival (visits, records) and per simulated customer (benchmarks/engine.py).
BYTES_PER_ARRIVAL = 400.0
US_PER_ARRIVAL = 8.0


def estimate(params: Any) -> Estimate:
    """Expected peak memory and single-core time of one replication of ``params``.

    Parameters
    ----------
    params
        Validated parameters of one job (:class:`sim.config.params.Params`).
    """
    horizon = params.run.horizon
    arrivals = sum(n.arrival_rate for n in params.model.nodes) * horizon
    return Estimate(
        peak_gb=(BASE_MB + arrivals * BYTES_PER_ARRIVAL / 2**20) / 1024,
        seconds_per_replication=arrivals * US_PER_ARRIVAL * 1e-6,
        key="run.horizon",
        value=horizon,
        size=f"about {arrivals:,.0f} arrivals",
        advice="use a shorter run.horizon, lower arrival rates or fewer run.workers",
    )
