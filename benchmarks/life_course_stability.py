"""Five-year stability of the open, ageing population (issue 16, item 3).

Runs the care model on a place for ``--years`` years and prints, per year and replication,
deaths, ED attendances, emergency admissions and mean occupied beds as a ratio of year 1,
with the list size at the end. Usage::

    python benchmarks/life_course_stability.py --place mnp_250k --years 5 --replications 2
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim.config.compose import compose_params
from sim.models import MODELS

COLUMNS = ("deaths", "ed_arrivals", "emergency_admissions", "beds_occupied")


def yearly(
    place: str, years: int, replication: int, warm_up: int = 0, overrides: tuple[str, ...] = ()
) -> np.ndarray:
    """Per-year totals (mean for beds) of :data:`COLUMNS`, shape ``(years, 4)``."""
    params = compose_params(
        [
            "model=care",
            f"place={place}",
            f"run.horizon={365 * years + warm_up}",
            f"run.warm_up={warm_up}",
            "output.timeseries=true",
            *overrides,
        ]
    )
    r = MODELS["care"].simulate(params.model, params.run, params.output, replication)
    ts = r.tables["timeseries"].iloc[warm_up:]
    year = np.arange(len(ts)) // 365
    out = np.zeros((years, len(COLUMNS)))
    for j, col in enumerate(COLUMNS):
        v = ts[col].to_numpy()
        agg = np.bincount(year, weights=v, minlength=years)[:years]
        out[:, j] = agg / 365.0 if col == "beds_occupied" else agg
    d = r.diagnostics
    print(
        f"rep {replication}: list {d['list_size_start']:.0f} -> {d['list_size_end']:.0f}, "
        f"joined {d['registrations']:.0f}, left {d['deregistrations']:.0f}, "
        f"died {d['died']:.0f}, wall {d['wall_seconds']:.0f}s"
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--place", default="mnp_250k")
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--replications", type=int, default=2)
    ap.add_argument("--warm-up", type=int, default=0)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. lead_provider=trust")
    a = ap.parse_args()
    t = time.perf_counter()
    runs = np.stack(
        [yearly(a.place, a.years, k, a.warm_up, tuple(a.overrides)) for k in range(a.replications)]
    )
    mean = runs.mean(axis=0)
    print("year  " + "  ".join(f"{c:>22}" for c in COLUMNS))
    for y in range(a.years):
        cells = [f"{mean[y, j]:12.1f} ({mean[y, j] / mean[0, j]:5.3f})" for j in range(4)]
        print(f"{y + 1:4d}  " + "  ".join(f"{c:>22}" for c in cells))
    print(f"total {time.perf_counter() - t:.0f}s")


if __name__ == "__main__":
    main()
