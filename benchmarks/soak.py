"""Soak: a 10-year run of neighbourhood_50k, checked for memory growth and drift.

Two measurements, each in a fresh interpreter so that peak memory is its own:

* **Memory against horizon.** One replication of 1, 2, 5 and 10 simulated years (event log
  off, the default). Flat memory means peak RSS does not grow with the horizon beyond the
  daily series, which are a few hundred bytes a day.
* **The 10-year run.** RSS is sampled every 50 ms on a thread while the model runs, and the
  daily series are cut into years. For each series the yearly means and a least-squares
  trend (per cent of the first year's mean, per year) are reported beside the registered
  population. The population is open (births, moves in and out, ageing; docs/model.md),
  so the list should stay level and a trend in a count is drift. The registered list is
  counted day by day from the registrations, moves away and deaths that the event tally
  counts (the daily table does not carry the first two).

Writes benchmarks/results/soak.json and prints two tables.

Usage::

    .venv/bin/python benchmarks/soak.py
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "results" / "soak.json"
YEAR = 365.0
WARM_UP = 60.0
HORIZON_YEARS = (1, 2, 5, 10)
# Daily series reported by year: stocks (people in a service) and flows (events a day).
SERIES = (
    "beds_occupied", "delayed_discharge_beds", "ed_in_department", "proactive_caseload",
    "virtual_ward_patients", "eol_caseload", "care_home_residents",
    "gp_appointments", "ed_arrivals", "emergency_admissions", "deaths",
)  # fmt: skip


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def one(years: int, sample: bool) -> dict[str, object]:
    """Run one replication of ``years`` simulated years in this process and measure it."""
    from sim.config.compose import compose_params
    from sim.models import MODELS

    horizon = WARM_UP + years * YEAR
    params = compose_params(
        [
            "model=care",
            "place=neighbourhood_50k",
            "lead_provider=status_quo",
            f"run.horizon={horizon}",
            f"run.warm_up={WARM_UP}",
        ]
    )
    # The model's own imports (SimPy, pandas) are not part of a simulated year: load them
    # first, as a sweep's second and later replications find them loaded.
    import_module("sim.models.care.model")
    import_module("sim.models.care.kpis")
    samples: list[tuple[float, float]] = []
    done = threading.Event()
    start = time.perf_counter()

    def sampler() -> None:
        while not done.wait(0.05):
            samples.append((time.perf_counter() - start, _rss_mb()))

    thread = threading.Thread(target=sampler, daemon=True)
    if sample:
        thread.start()
    rss_before = _rss_mb()
    with _daily_list_changes() as changes:
        result = MODELS["care"].simulate(params.model, params.run, params.output, 0)
    wall = time.perf_counter() - start
    done.set()
    row: dict[str, object] = {
        "years": years,
        "wall_seconds": round(wall, 2),
        "rss_before_run_mb": round(rss_before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if sample:
        thread.join()
        row["rss_samples"] = [(round(t, 2), round(m, 1)) for t, m in samples]
        row["yearly"] = _yearly(result.tables["timeseries"], changes)
    return row


@contextmanager
def _daily_list_changes() -> Iterator[dict[str, Any]]:
    """Registrations and moves away by day, and the starting list, of the replication run
    inside the block: read from the event tally when the daily table is built (the table
    does not carry them), by wrapping :func:`sim.models.care.kpis.timeseries`."""
    from sim.models.care import kpis
    from sim.models.care.records import EVENT

    out: dict[str, Any] = {}
    original = kpis.timeseries

    def timeseries(world: Any) -> Any:
        daily = world.log.tally.daily
        out["start"] = world.pop.n_start
        out["joined"] = daily[EVENT["registration"]].copy()
        out["left"] = daily[EVENT["deregistration"]].copy()
        return original(world)

    kpis.timeseries = timeseries
    try:
        yield out
    finally:
        kpis.timeseries = original


def _yearly(series, changes: dict[str, Any]) -> dict[str, object]:  # noqa: ANN001 (a DataFrame)
    """Yearly means of each daily series after warm-up, the registered list, and trends."""
    import numpy as np

    s = series.sort_values("time_days").reset_index(drop=True)
    # Registered and alive at the end of each day: the list is open (docs/model.md).
    net = changes["joined"] - changes["left"] - s["deaths"].to_numpy()
    s = s.assign(alive=changes["start"] + np.cumsum(net))
    s = s[s["time_days"] >= WARM_UP]
    year = ((s["time_days"] - WARM_UP) // YEAR).astype(int)
    means = s.groupby(year)[[*SERIES, "alive"]].mean()
    years = means.index.to_numpy(dtype=float)
    trends = {}
    for name in [*SERIES, "alive"]:
        y = means[name].to_numpy(dtype=float)
        if y[0] == 0:
            continue
        slope = np.polyfit(years, y, 1)[0]
        per_alive = y / means["alive"].to_numpy() * 1000
        slope_alive = np.polyfit(years, per_alive, 1)[0]
        trends[name] = {
            "trend_pct_per_year": round(100 * slope / y[0], 2),
            "per_1000_alive_trend_pct_per_year": round(100 * slope_alive / per_alive[0], 2),
        }
    return {
        "means": {k: [round(float(v), 3) for v in means[k]] for k in means.columns},
        "trends": trends,
    }


def main() -> None:
    """Run every horizon in its own interpreter and write the JSON summary."""
    rows = []
    for years in HORIZON_YEARS:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(years)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'years':>5}{'wall s':>9}{'RSS before run MB':>19}{'peak RSS MB':>13}")
    for row in rows:
        print(
            f"{row['years']:>5}{row['wall_seconds']:>9}{row['rss_before_run_mb']:>19}"
            f"{row['peak_rss_mb']:>13}"
        )
    longest = rows[-1]
    samples = longest["rss_samples"]
    quarters = [samples[min(len(samples) - 1, int(q * len(samples)))] for q in (0.25, 0.5, 0.75)]
    print("RSS during the 10-year run (wall s, MB): " + ", ".join(f"{t}: {m}" for t, m in quarters))
    print(f"\n{'series (yearly mean)':<26}{'year 1':>9}{'year 10':>9}{'trend %/yr':>11}"
          f"{'per 1,000 alive %/yr':>22}")  # fmt: skip
    yearly = longest["yearly"]
    for name, trend in yearly["trends"].items():
        first, last = yearly["means"][name][0], yearly["means"][name][-1]
        print(
            f"{name:<26}{first:>9.1f}{last:>9.1f}{trend['trend_pct_per_year']:>11}"
            f"{trend['per_1000_alive_trend_pct_per_year']:>22}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {"machine": platform.platform(), "python": platform.python_version(), "runs": rows},
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        years = int(sys.argv[2])
        print(json.dumps(one(years, sample=years == max(HORIZON_YEARS))))
    else:
        main()
