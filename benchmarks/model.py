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
from importlib import import_module
from pathlib import Path
from typing import Any

PLACES = ("neighbourhood_50k", "mnp_250k", "sel_1_9m")
OUT = Path(__file__).resolve().parent / "results" / "model.json"


def benchmark_params(place: str) -> Any:
    """The benchmarked run: the status quo on ``place``, 425 days with 60 of warm-up."""
    from sim.config.compose import compose_params

    return compose_params(
        [
            "model=care",
            f"place={place}",
            "lead_provider=status_quo",
            "run.horizon=425",
            "run.warm_up=60",
        ]
    )


def one(place: str) -> dict[str, float | str]:
    """Run one replication of ``place`` in this process and measure it."""
    from sim.models import MODELS

    params = benchmark_params(place)
    # The model's own imports (SimPy, pandas) are not part of a simulated year: load them
    # first, as a sweep's second and later replications find them loaded.
    import_module("sim.models.care.model")
    import_module("sim.models.care.kpis")
    start = time.perf_counter()
    result = MODELS["care"].simulate(params.model, params.run, params.output, 0)
    wall = time.perf_counter() - start
    d = result.diagnostics
    return {
        "place": place,
        "population": d["population"],
        "simulated_days": params.run.horizon,
        "wall_seconds": round(wall, 2),
        # The linear-scaling measure: wall time per simulated person-year (warm-up included).
        "microseconds_per_person_year": round(
            wall / (d["population"] * params.run.horizon / 365.0) * 1e6, 2
        ),
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
    # The reference rate is measured in the same invocation, so the ratio holds on a busy or
    # slow machine: idiomatic SimPy (a process per customer) on M/M/5 at rho 0.9.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from engine import measure, run_simpy

    reference = measure(run_simpy, horizon=20_000.0, warm_up=1_000.0, repeats=3)
    rate = float(reference["customers_per_second"])
    for row in rows:
        row["ratio_to_idiomatic_simpy_mm5"] = round(row["patient_episodes_per_second"] / rate, 2)
    print(f"idiomatic SimPy M/M/5 reference: {rate:,.0f} customers/s")
    print(
        f"{'place':<20}{'wall s':>8}{'us/person-yr':>14}{'episodes/s':>12}{'x SimPy':>9}"
        f"{'peak MB':>9}"
    )
    for row in rows:
        print(
            f"{row['place']:<20}{row['wall_seconds']:>8}{row['microseconds_per_person_year']:>14}"
            f"{row['patient_episodes_per_second']:>12,}{row['ratio_to_idiomatic_simpy_mm5']:>9}"
            f"{row['peak_rss_mb']:>9}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "idiomatic_simpy_mm5_customers_per_second": rate,
                "results": rows,
            },
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
