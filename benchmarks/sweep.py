"""Benchmark: a 4-scenario x 4-replication sweep, 1 and 2 processes.

Runs the real command line (``python -m sim -m ...``) twice with the joblib launcher,
``hydra.launcher.n_jobs=1`` and then ``=2``, with the replication cache off and outputs in a
temporary directory, and reports the speed-up (median of 3 alternating repeats). The place
defaults to ``neighbourhood_50k`` (the issue's benchmark); a larger place shows how the fixed
per-sweep cost is amortised.
Writes benchmarks/results/sweep_<place>.json, with the load average before and after (the
machine may be shared; compare speed-ups only at similar load).

Usage::

    .venv/bin/python benchmarks/sweep.py [place]
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 3
RESULTS = Path(__file__).resolve().parent / "results"
SWEEP = [
    "-m",
    "lead_provider=status_quo,trust_led,federation_led,alliance",
    "run.replications=4",
    "run.cache=false",
    "hydra/launcher=joblib",
    "~hydra.callbacks.sweep_summary",  # time the simulation, not the report
]


def run(place: str, n_jobs: int) -> float:
    """Wall seconds of the sweep with ``n_jobs`` processes."""
    with tempfile.TemporaryDirectory() as root:
        env = {**os.environ, "NHSIM_OUTPUT_ROOT": root}
        start = time.perf_counter()
        command = [sys.executable, "-m", "sim", *SWEEP, f"place={place}"]
        subprocess.run(
            [*command, f"hydra.launcher.n_jobs={n_jobs}"],
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start


def main(place: str) -> None:
    """Time both settings and write the JSON summary."""
    # Alternate the two settings and keep the median of each, so a burst of other load on
    # the machine does not decide the speed-up. The load average before and after is kept
    # with the result: on a shared machine, other work shows there first.
    load_before = os.getloadavg()
    ones, twos = [], []
    for _ in range(REPEATS):
        ones.append(run(place, 1))
        twos.append(run(place, 2))
    one, two = statistics.median(ones), statistics.median(twos)
    load_after = os.getloadavg()
    result = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "sweep": " ".join([*SWEEP, f"place={place}"]),
        "repeats": REPEATS,
        "wall_seconds_1_worker_each": [round(x, 1) for x in ones],
        "wall_seconds_2_workers_each": [round(x, 1) for x in twos],
        "wall_seconds_1_worker": round(one, 1),
        "wall_seconds_2_workers": round(two, 1),
        "speed_up": round(one / two, 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    print(f"1 worker {one:.1f} s, 2 workers {two:.1f} s: speed-up x{one / two:.2f}")
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"sweep_{place}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "neighbourhood_50k")
