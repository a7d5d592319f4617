"""Benchmark: how the cost of one care-model replication grows with population and run length.

The design target is linear growth in both. This script runs one replication at a grid of
populations (one neighbourhood area resized) and of horizons, each in a fresh interpreter
so that peak memory is per run, and fits the log-log slope of wall time (and memory)
against each: a slope near 1 is linear, near 2 quadratic. Writes
benchmarks/results/scaling.json.

Usage::

    .venv/bin/python benchmarks/scaling.py            # about 3 minutes on 2 cores
    .venv/bin/python benchmarks/scaling.py --quick    # smaller grid, under a minute
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results" / "scaling.json"
POPULATIONS = (25_000, 50_000, 100_000, 200_000)
HORIZONS = (120, 240, 480)
WARM_UP = 30
FIXED_POPULATION = 50_000
FIXED_HORIZON = 240


def one(population: int, horizon: int) -> dict[str, float]:
    """Run one replication of ``population`` people for ``horizon`` days in this process."""
    from sim.config.compose import compose_params
    from sim.models import MODELS

    params = compose_params(
        [
            "model=care",
            "place=neighbourhood_50k",
            f"place.areas.neighbourhood.population={population}",
            f"place.areas.neighbourhood.neighbourhoods={max(1, population // 50_000)}",
            f"run.horizon={horizon}",
            f"run.warm_up={WARM_UP}",
        ]
    )
    start = time.perf_counter()
    result = MODELS["care"].simulate(params.model, params.run, params.output, 0)
    wall = time.perf_counter() - start
    return {
        "population": population,
        "horizon_days": horizon,
        "wall_seconds": round(wall, 3),
        "simpy_events": result.diagnostics.get("simpy_events_scheduled", float("nan")),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _measure(population: int, horizon: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--one", str(population), str(horizon)],
        capture_output=True,
        text=True,
        check=True,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    print(row, flush=True)
    return row


def slope(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log(y) on log(x): the exponent of a power law y ~ x^b."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main(quick: bool) -> None:
    """Measure both grids, fit the exponents and write the JSON summary."""
    pops = POPULATIONS[:3] if quick else POPULATIONS
    horizons = HORIZONS[:2] if quick else HORIZONS
    by_pop = [_measure(p, FIXED_HORIZON) for p in pops]
    by_time = [_measure(FIXED_POPULATION, h) for h in horizons]
    summary = {
        "wall_time_exponent_in_population": round(
            slope(list(pops), [r["wall_seconds"] for r in by_pop]), 3
        ),
        "memory_exponent_in_population": round(
            slope(list(pops), [r["peak_rss_mb"] for r in by_pop]), 3
        ),
        "wall_time_exponent_in_horizon": round(
            slope(list(horizons), [r["wall_seconds"] for r in by_time]), 3
        ),
    }
    print(json.dumps(summary, indent=2))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "by_population": by_pop,
                "by_horizon": by_time,
                "summary": summary,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(one(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
        parser.add_argument("--quick", action="store_true", help="smaller grid")
        main(parser.parse_args().quick)
