"""Where one replication's memory goes: tracemalloc snapshots at each stage of the care model.

One replication of a place (425 days, 60 warm-up, status quo, as ``benchmarks/model.py``)
runs in this process, stage by stage as :func:`sim.models.care.model._simulate` does:
population generation (``World``), demand generation, the run (``env.run``) and the KPIs.
After each stage it prints the traced memory now and the stage's peak, and the top
allocations still alive by source line, and ``ru_maxrss``. tracemalloc slows the run
several times and its own records take resident memory, so ``--rss`` runs without it and
prints only the resident memory after each stage.

Usage::

    .venv/bin/python benchmarks/memory.py [place] [--top N] [--rss]
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

MB = 2**20
TRIM = False  # --trim: return the allocator's free memory after each stage, and say how much
# Functions whose own peak (above the memory at their call) and retained memory are reported:
# the steps that draw the population and the demand up front.
WATCH = (
    "sim.models.care.population:generate",
    "sim.models.care.life_course:derive_rates",
    "sim.models.care.life_course:draw_exact_age",
    "sim.models.care.life_course:draw_joiners",
    "sim.models.care.life_course:draw_segments",
    "sim.models.care.life_course:keep_by_course",
    "sim.models.care.life_course:max_per_person",
    "sim.models.care.demand:generate",
    "sim.models.care.demand:_poisson_events",
    "sim.models.care.demand:draw_matrix",
    "sim.models.care.trajectories:extra_crises",
    "sim.models.care.services.general_practice:GeneralPractice.__init__",
    "sim.models.care.services.hospital:Hospital.__init__",
    "sim.models.care.services.hospital:Hospital.utc_visits",
    "sim.models.care.services.mnp:Mnp.__init__",
    "sim.models.care.services.mnp:Mnp.schedule",
    "sim.models.care.after_discharge:AfterDischarge.__init__",
    "sim.models.care.identification:SurpriseQuestion.__init__",
    "sim.models.care.tallies:EventTally.__init__",
)
_stack: list[list[float]] = []  # [memory at call, peak so far] of each watched call running
_calls: dict[str, list[float]] = {}  # name -> [calls, largest peak above entry, retained]


def _watch(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        now, peak = tracemalloc.get_traced_memory()
        for frame in _stack:
            frame[1] = max(frame[1], peak)
        tracemalloc.reset_peak()
        frame = [float(now), float(now)]
        _stack.append(frame)
        try:
            return fn(*args, **kwargs)
        finally:
            after, peak = tracemalloc.get_traced_memory()
            _stack.pop()
            frame[1] = max(frame[1], peak)
            if _stack:
                _stack[-1][1] = max(_stack[-1][1], frame[1])
            tracemalloc.reset_peak()
            row = _calls.setdefault(name, [0, 0.0, 0.0])
            row[0] += 1
            row[1] = max(row[1], frame[1] - frame[0])
            row[2] += after - frame[0]

    return wrapper


def _install() -> None:
    for dotted in WATCH:
        module_name, qual = dotted.split(":")
        owner: Any = import_module(module_name)
        *path, attr = qual.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, attr, _watch(dotted, getattr(owner, attr)))
    # Modules that imported a watched function by name keep the original: rebind them.
    for module_name in ("sim.models.care.model", "sim.models.care.services.general_practice"):
        module = import_module(module_name)
        for dotted in WATCH:
            mod, qual = dotted.split(":")
            if "." not in qual and getattr(module, qual, None) is not None:
                setattr(module, qual, getattr(import_module(mod), qual))


def _functions(people: int) -> None:
    print(f"\n{'function':<70}{'calls':>6}{'peak MB':>9}{'kept MB':>9}{'peak B/person':>14}")
    for name, (calls, peak, kept) in _calls.items():
        print(f"{name:<70}{calls:>6.0f}{peak / MB:>9.1f}{kept / MB:>9.1f}{peak / people:>14.0f}")


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / MB


def _report(stage: str, start: float, top: int) -> None:
    if not tracemalloc.is_tracing():
        trimmed = ""
        if TRIM:
            # Freed memory that the allocator holds but could return (diagnostic only).
            before = _rss_mb()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            trimmed = f", {before - _rss_mb():,.1f} MB free in the heap"
        print(
            f"== {stage}: RSS now {_rss_mb():,.1f} MB, ru_maxrss "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.1f} MB, "
            f"{time.perf_counter() - start:,.1f} s{trimmed}",
            flush=True,
        )
        return
    now, peak = tracemalloc.get_traced_memory()
    print(
        f"\n== {stage}: traced now {now / MB:,.1f} MB, stage peak {peak / MB:,.1f} MB, "
        f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.1f} MB, "
        f"{time.perf_counter() - start:,.1f} s",
        flush=True,
    )
    if top:
        stats = tracemalloc.take_snapshot().statistics("lineno")
        for stat in stats[:top]:
            frame = stat.traceback[0]
            print(
                f"  {stat.size / MB:9.1f} MB {stat.count:>9} blocks  "
                f"{frame.filename.split('/sim/')[-1]}:{frame.lineno}"
            )
    tracemalloc.reset_peak()


def main(place: str, top: int, trace: bool) -> None:
    """Run one replication of ``place`` stage by stage under tracemalloc."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from model import benchmark_params  # benchmarks/model.py: the same benchmarked run

    params = benchmark_params(place)
    model = import_module("sim.models.care.model")
    kpis = import_module("sim.models.care.kpis")
    p, run = params.model, params.run
    start = time.perf_counter()
    _report("imports and parameters", start, 0)
    if trace:
        _install()
        tracemalloc.start()
    with model._no_cyclic_gc():
        world = model.World(p, run, 0, keep_log=False)
        _report("population and services (World)", start, top)
        cands = model.draw_demand(world, p, run)
        print(f"candidates: {len(cands):,}, people: {world.pop.size:,}", end="")
        print(f", spells: {len(world.pop.spells):,}")
        _report("demand (candidates, UTC visits)", start, top)
        model.start(world, cands)
        world.env.run(until=run.horizon)
        world.log.flush()
        _report("the run", start, top)
        kpis.compute(world)
        kpis.timeseries(world)
        kpis.diagnostics(world, cands)
        _report("KPIs", start, top)
    if trace:
        _functions(world.pop.size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("place", nargs="?", default="mnp_250k")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--rss", action="store_true", help="no tracemalloc: resident memory after each stage"
    )
    parser.add_argument(
        "--trim",
        action="store_true",
        help="with --rss: glibc malloc_trim after each stage, to show the freed memory the "
        "allocator still holds (this changes the later peaks, so it is a diagnostic)",
    )
    args = parser.parse_args()
    TRIM = args.trim
    main(args.place, args.top, not args.rss)
