"""Benchmark: one simulated year (after a 60-day warm-up) of the status quo for each place.

Each place runs in its own subprocess so that peak resident memory is measured per place.
Writes benchmarks/results/model.json.

Usage::

    .venv/bin/python benchmarks/model.py [place ...]
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

PLACES = ("neighbourhood_50k", "mnp_250k", "sel_1_9m")
OUT = Path(__file__).resolve().parent / "results" / "model.json"


def one(place: str) -> dict[str, float | str]:
    """Run one replication of ``place`` in this process and measure it."""
    from sim.config.compose import compose_params
    from sim.models import MODELS

    params = compose_params(
        [
            "model=care",
            f"place={place}",
            "lead_provider=status_quo",
            "run.horizon=425",
            "run.warm_up=60",
        ]
    )
    start = time.perf_counter()
    result = MODELS["care"].simulate(params.model, params.run, params.output, 0)
    wall = time.perf_counter() - start
    d = result.diagnostics
    return {
        "place": place,
        "population": d["population"],
        "simulated_days": params.run.horizon,
        "wall_seconds": round(wall, 2),
        "patient_episodes": d["patient_episodes"],
        "patient_episodes_per_second": round(d["patient_episodes"] / wall),
        "simpy_events": d["simpy_events_scheduled"],
        "simpy_events_per_second": round(d["simpy_events_scheduled"] / wall),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(places: list[str]) -> None:
    """Benchmark each place in a fresh interpreter and write the JSON summary."""
    rows = []
    for place in places:
        out = subprocess.run(
            [sys.executable, __file__, "--one", place], capture_output=True, text=True, check=True
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(row, flush=True)
        rows.append(row)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {"machine": platform.platform(), "python": platform.python_version(), "results": rows},
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2])))
    else:
        main(sys.argv[1:] or list(PLACES))
