"""Benchmark: how long the real CLI takes to refuse bad input of every size, and how it says so.

Each case runs ``python -m sim`` in a subprocess (imports included, as a user sees it) with
its outputs root in a temporary directory, and records the wall time, the exit status, the
number of stderr lines and the length of the error line. The target is under 2 s and one
line of bounded length for every case. Writes benchmarks/results/refusals.json.

Usage::

    .venv/bin/python benchmarks/refusals.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CARE = ("model=care", "place=neighbourhood_50k")
CASES: dict[str, tuple[str, ...]] = {
    "valid value, bad range": (*CARE, "run.seed=-1"),
    "list of 10,000 items": ("model=queue", "run.seed=[" + ",".join(["1"] * 10_000) + "]"),
    "list of 300 items for a list key": (
        *CARE,
        "model.urgent.hour_weights=[" + ",".join(["1"] * 300) + "]",
    ),
    "value of 100,000 characters": ("model=queue", "run.seed=" + "9" * 100_000),
    "key of 5,000 characters": ("model=queue", "k" * 5000 + "=1"),
    "group option of 4,000 characters": ("model=" + "q" * 4000,),
    "sweep of 10**12 jobs": ("-m", "model=queue", "run.seed=range(0,1000000000000)"),
    "3e9 people": (*CARE, "place.areas.neighbourhood.population=3000000000"),
    "config dir flag": ("--config-dir", "/tmp"),
    "logging handler on the command line": ("model=queue", "hydra/job_logging=hydra_debug"),
}


def measure(argv: tuple[str, ...], root: Path) -> dict[str, float | int]:
    """One refusal: wall time, exit status, stderr lines and the longest line's length."""
    env = {**os.environ, "NHSIM_OUTPUT_ROOT": str(root / "outputs")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sim", *argv], env=env, cwd=root, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    return {
        "seconds": seconds,
        "status": done.returncode,
        "lines": len(lines),
        "chars": max((len(x) for x in lines), default=0),
        "wrote": int((root / "outputs").exists()),
    }


def main() -> None:
    """Run every case ``--repeats`` times; print the best time and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = {}
    print(f"{'case':<36} {'best s':>7} {'exit':>5} {'lines':>6} {'chars':>6}")
    for name, argv in CASES.items():
        runs = []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(measure(argv, Path(tmp)))
        best = min(runs, key=lambda r: r["seconds"])
        results[name] = {"best": best, "runs": runs}
        print(
            f"{name:<36} {best['seconds']:>7.2f} {best['status']:>5} {best['lines']:>6} "
            f"{best['chars']:>6}"
        )
    out = HERE / "results" / "refusals.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {out}")


if __name__ == "__main__":
    main()
