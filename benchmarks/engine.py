"""Benchmark: customers simulated per second for one M/M/5 node at ρ = 0.9, five ways.

(a) the queue model on the engine's resource classes (``sim.engine.Servers``, one process
    per customer), through ``MODELS["queue"].simulate`` exactly as a run calls it: "after";
(b) the same model on the engine it replaced (callback ``ServiceNode``, no process per
    customer; a frozen copy in ``benchmarks/legacy_engine.py``): "before";
(c) textbook SimPy with ``sim.engine.Servers`` in place of ``simpy.Resource``: the
    resource class alone, without the model's visit log;
(d) an idiomatic plain SimPy model (``simpy.Resource``, one generator process per customer);
(e) Ciw, a queueing-network library built for this kind of system.

All simulate the same system (λ = 4.5, μ = 1, c = 5, FIFO) for the same horizon and
warm-up, and each reports the mean wait of customers arriving after the warm-up beside the
Erlang C value 1.525, so the speeds compare like with like. (a) to (d) draw from the same
named streams (service time drawn on arrival), so they simulate the very same sample path
and their mean waits agree to rounding: a check that the engine changes nothing but the
speed. Ciw uses its own random numbers, so its mean differs by sampling noise only.

Each is timed ``--repeats`` times in this process after one untimed warm-up run; the table
shows the best time (the least disturbed by other load) and the JSON keeps every time.
Writes benchmarks/results/engine.json.

``--limits`` times unlimited capacity instead: the same arrivals and services on
``Servers(math.inf)`` (M/M/∞), on ``Servers(10**6)`` (a finite c never reached: the path
every request took before ``math.inf`` was accepted), on ``simpy.Resource(math.inf)``, and
on the M/M/5 ``Servers`` for scale; and zero capacity, ``Servers(0, window=1)`` (every
request times out). Writes benchmarks/results/engine_limits.json.

Usage::

    .venv/bin/python benchmarks/engine.py [--horizon 45000] [--warm-up 1000] [--repeats 3]
    .venv/bin/python benchmarks/engine.py --limits
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import simpy

LAM, MU, SERVERS = 4.5, 1.0, 5
SEED = 20261125
HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "engine.json"
sys.path.insert(0, str(HERE))  # for legacy_engine

# Each runner returns (customers arrived, mean wait after the warm-up, and the waits
# themselves in arrival order where the implementation exposes them, for batch means).
Runner = Callable[[float, float], tuple[int, float, list[float] | None]]
BATCHES = 20  # batch means: 20 batches of ~10,000 customers, far longer than the correlation


def run_engine(horizon: float, warm_up: float) -> tuple[int, float, list[float] | None]:
    """(a) The project's engine, called as the experiment layer calls it."""
    from sim.config.params import validate
    from sim.models import MODELS

    params = validate(
        {
            "model": {
                "kind": "queue",
                "nodes": {"a": {"arrival_rate": LAM, "servers": SERVERS, "service_rate": MU}},
            },
            "run": {"seed": SEED, "horizon": horizon, "warm_up": warm_up, "replications": 1},
            "output": {"event_log": False, "timeseries": False},
        }
    )
    result = MODELS["queue"].simulate(params.model, params.run, params.output, 0)
    return int(result.diagnostics["customers"]), result.metrics["wait_mean__a"], None


def run_legacy(horizon: float, warm_up: float) -> tuple[int, float, list[float] | None]:
    """(b) The same model on the callback engine it had before (frozen copy)."""
    import numpy as np
    from legacy_engine import Network

    from sim.config.params import validate

    params = validate(
        {
            "model": {
                "kind": "queue",
                "nodes": {"a": {"arrival_rate": LAM, "servers": SERVERS, "service_rate": MU}},
            },
            "run": {"seed": SEED, "horizon": horizon, "warm_up": warm_up, "replications": 1},
        }
    )
    net = Network(params.model, params.run, 0)
    net.env.process(net.arrivals(0))
    net.env.run(until=horizon)
    cols = net.log.arrays()
    started = (cols["arrival"] >= warm_up) & ~np.isnan(cols["start"])
    wait = float((cols["start"][started] - cols["arrival"][started]).mean())
    return net.customers, wait, None


def run_servers(horizon: float, warm_up: float) -> tuple[int, float, list[float] | None]:
    """(c) Textbook SimPy as in (d), on ``sim.engine.Servers`` instead of ``simpy.Resource``."""
    from sim.engine import Servers

    return _textbook(lambda env: Servers(env, SERVERS, warm_up=warm_up), horizon, warm_up)


def run_simpy(horizon: float, warm_up: float) -> tuple[int, float, list[float] | None]:
    """(d) Textbook SimPy: a source process and one process per customer on a Resource."""
    return _textbook(lambda env: simpy.Resource(env, capacity=SERVERS), horizon, warm_up)


def _textbook(
    make: Callable[[simpy.Environment], Any], horizon: float, warm_up: float
) -> tuple[int, float, list[float] | None]:
    """A source process and one process per customer on the resource ``make`` builds.

    Random numbers come from the same named streams as the engine's (``arrivals/a``,
    ``service/a``, block-buffered), so the comparison times the simulation structure, not
    the random number generator.
    """
    from sim.rng import Streams

    streams = Streams(SEED, 0)
    arrivals, services = streams.buffered("arrivals/a"), streams.buffered("service/a")
    env = simpy.Environment()
    servers = make(env)
    waits: list[float] = []
    count = 0

    def customer(service: float) -> Generator[simpy.Event, None, None]:
        arrived = env.now
        with servers.request() as request:
            yield request
            if arrived >= warm_up:
                waits.append(env.now - arrived)
            yield env.timeout(service)

    def source() -> Generator[simpy.Event, None, None]:
        nonlocal count
        while True:
            yield env.timeout(arrivals.exponential(1.0 / LAM))
            count += 1
            env.process(customer(services.exponential(1.0 / MU)))

    env.process(source())
    env.run(until=horizon)
    return count, sum(waits) / len(waits), waits


def run_ciw(horizon: float, warm_up: float) -> tuple[int, float, list[float] | None]:
    """(e) Ciw's M/M/c. Ciw seeds its own (global) generators through ``ciw.seed``."""
    import ciw

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAM)],
        service_distributions=[ciw.dists.Exponential(rate=MU)],
        number_of_servers=[SERVERS],
    )
    ciw.seed(SEED % 2**32)
    q = ciw.Simulation(network)
    q.simulate_until_max_time(horizon)
    # Ciw records finished services only, so a customer still in service at the horizon is
    # missing from the mean; with ~5 such customers in 90,000 that changes nothing visible.
    records = sorted(
        (r for r in q.get_all_records() if r.record_type == "service"),
        key=lambda r: r.arrival_date,
    )
    waits = [r.waiting_time for r in records if r.arrival_date >= warm_up]
    return q.nodes[0].number_of_individuals, sum(waits) / len(waits), waits


def _servers(c: float, window: float | None = None) -> Runner:
    """Textbook SimPy on ``Servers(c)`` (a timed-out customer's wait counts as 0 here)."""

    def run(horizon: float, warm_up: float) -> tuple[int, float, list[float] | None]:
        from sim.engine import Servers

        return _textbook(
            lambda env: Servers(env, c, window=window, warm_up=warm_up), horizon, warm_up
        )

    return run


LIMIT_RUNNERS: dict[str, Runner] = {
    "Servers(c=5)": _servers(SERVERS),
    "Servers(c=inf)": _servers(math.inf),
    "Servers(c=10**6)": _servers(10**6),
    "Resource(inf)": lambda h, w: _textbook(lambda env: simpy.Resource(env, math.inf), h, w),
    "Servers(c=0, window=1)": _servers(0, 1.0),
}


def main_limits(horizon: float, warm_up: float, repeats: int) -> None:
    """Time zero and unlimited capacity; print a table and write engine_limits.json."""
    rows = {name: measure(r, horizon, warm_up, repeats) for name, r in LIMIT_RUNNERS.items()}
    for row in rows.values():
        row.pop("wait_mean_ci95_batch_means", None)
    base = rows["Servers(c=10**6)"]["customers_per_second"]
    print(f"λ = {LAM}, μ = {MU}; horizon {horizon:g}; best of {repeats}")
    print(f"{'resource':<26}{'customers':>10}{'wall s':>9}{'cust/s':>10}{'vs c=10**6':>12}")
    for name, row in rows.items():
        print(
            f"{name:<26}{row['customers']:>10,}{row['wall_seconds_best']:>9.2f}"
            f"{row['customers_per_second']:>10,}{row['customers_per_second'] / base:>11.2f}x"
        )
    out = OUT.with_name("engine_limits.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"horizon": horizon, "repeats": repeats, "machine": machine(), "results": rows}
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out}")


ENGINE = "queue model, Servers"
RUNNERS: dict[str, Runner] = {
    ENGINE: run_engine,
    "queue model, old": run_legacy,
    "SimPy + Servers": run_servers,
    "plain SimPy": run_simpy,
    "Ciw": run_ciw,
}


def erlang_c_wait() -> float:
    """Exact mean wait of the benchmarked M/M/5 (Erlang C)."""
    from sim.analysis.theory import mmc

    return mmc(LAM, MU, SERVERS).wait


def measure(runner: Runner, horizon: float, warm_up: float, repeats: int) -> dict[str, object]:
    """Time ``runner`` ``repeats`` times after one untimed run (imports, caches).

    Returns
    -------
    dict
        Customers, mean wait, every wall time and the best time's customers per second.
    """
    runner(min(horizon, 200.0), 0.0)
    walls: list[float] = []
    result: tuple[int, float, list[float] | None] = (0, float("nan"), None)
    for _ in range(repeats):
        start = time.perf_counter()
        result = runner(horizon, warm_up)
        walls.append(time.perf_counter() - start)
    customers, wait, waits = result
    best = min(walls)
    row: dict[str, object] = {
        "customers": customers,
        "wall_seconds_best": round(best, 3),
        "wall_seconds_all": [round(w, 3) for w in walls],
        "customers_per_second": round(customers / best),
        "wait_mean": wait,
    }
    if waits is not None:
        row["wait_mean_ci95_batch_means"] = batch_means_ci(waits)
    return row


def batch_means_ci(waits: list[float]) -> list[float]:
    """95% t-interval of the mean wait from :data:`BATCHES` consecutive batch means.

    Waits of successive customers are strongly correlated at ρ = 0.9, so a plain standard
    error would be far too small; means of long consecutive batches are nearly independent.
    """
    import numpy as np

    from sim.analysis.stats import t_interval

    means = [float(np.mean(b)) for b in np.array_split(np.asarray(waits), BATCHES)]
    _, _, low, high = t_interval(np.asarray(means))
    return [round(low, 4), round(high, 4)]


def machine() -> dict[str, object]:
    """Where the numbers were measured (load matters: the timings are wall-clock)."""
    import ciw
    import numpy

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "simpy": simpy.__version__,
        "ciw": ciw.__version__,
        "numpy": numpy.__version__,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the three implementations, print a table and write the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--horizon", type=float, default=45_000.0)
    parser.add_argument("--warm-up", type=float, default=1_000.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limits", action="store_true", help="time capacities 0 and inf")
    args = parser.parse_args(argv)
    if args.limits:
        main_limits(args.horizon, args.warm_up, args.repeats)
        return
    theory = erlang_c_wait()
    rows = {}
    for name, runner in RUNNERS.items():
        rows[name] = measure(runner, args.horizon, args.warm_up, args.repeats)
        print(f"  {name}: {rows[name]['wall_seconds_all']} s", file=sys.stderr, flush=True)
    base = rows["plain SimPy"]["customers_per_second"]
    print(
        f"\nM/M/{SERVERS}, λ = {LAM}, μ = {MU} (ρ = {LAM / (SERVERS * MU):.2f}); "
        f"horizon {args.horizon:g}, warm-up {args.warm_up:g}; best of {args.repeats}"
    )
    plain = rows["plain SimPy"]
    shared = [name for name in RUNNERS if name != "Ciw"]
    same_path = all(
        math.isclose(rows[name]["wait_mean"], plain["wait_mean"], rel_tol=1e-9) for name in shared
    )
    if same_path:  # every sample path is plain SimPy's, so is every interval
        for name in shared:
            rows[name]["wait_mean_ci95_batch_means"] = plain["wait_mean_ci95_batch_means"]
    print(
        f"{'implementation':<22}{'customers':>10}{'wall s':>9}{'cust/s':>10}{'vs SimPy':>11}"
        f"{'mean wait':>11}{'95% CI (batch means)':>22}  Erlang C {theory:.3f} inside"
    )
    for name, row in rows.items():
        low, high = row.get("wait_mean_ci95_batch_means", (math.nan, math.nan))
        row["erlang_c_inside_ci"] = bool(low <= theory <= high)
        print(
            f"{name:<22}{row['customers']:>10,}{row['wall_seconds_best']:>9.2f}"
            f"{row['customers_per_second']:>10,}{row['customers_per_second'] / base:>10.2f}x"
            f"{row['wait_mean']:>11.4f}{f'[{low:.3f}, {high:.3f}]':>22}  "
            f"{'yes' if row['erlang_c_inside_ci'] else 'NO'}"
        )
    print(
        "all but Ciw share random numbers: same sample path "
        f"({'yes' if same_path else 'NO'}); each row is one long replication, its CI from "
        f"{BATCHES} batch means"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "all_but_ciw_same_sample_path": same_path,
        "system": {"arrival_rate": LAM, "service_rate": MU, "servers": SERVERS, "seed": SEED},
        "horizon": args.horizon,
        "warm_up": args.warm_up,
        "repeats": args.repeats,
        "wait_mean_theory": theory,
        "machine": machine(),
        "results": rows,
    }
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
