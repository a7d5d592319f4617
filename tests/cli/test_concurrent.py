"""Two sweeps started at once in the same outputs folder never write into each other's.

Both use the same outputs root and the same replication cache, and they overlap: seed 2 is in
both, so the two processes race to compute and cache the same replications. Each sweep must
get its own directory holding exactly its own jobs, the shared replications must be
identical in both, and the cache must end with one complete entry per replication.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

COMMON = ["-m", "model=queue", "run.replications=3", "run.horizon=2000", "run.warm_up=200"]
SEEDS = {"first": (1, 2), "second": (2, 3)}


def _overrides(job: Path) -> list[str]:
    return yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text(encoding="utf-8"))


def test_two_sweeps_at_once_keep_to_their_own_directories(tmp_path: Path) -> None:
    root = tmp_path / "outputs"
    env = {**os.environ, "NHSIM_OUTPUT_ROOT": str(root)}
    env.pop("NHSIM_RUN_STAMP", None)
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "sim", *COMMON, "run.seed=" + ",".join(map(str, seeds))],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for name, seeds in SEEDS.items()
    }
    outcomes = {name: (p.communicate(timeout=300), p.returncode) for name, p in procs.items()}
    for name, ((_, err), code) in outcomes.items():
        assert code == 0, f"{name} sweep failed:\n{err[-2000:]}"

    sweeps = sorted((root / "sweeps").iterdir())
    assert len(sweeps) == 2, sweeps
    by_seeds: dict[tuple[int, ...], Path] = {}
    for sweep in sweeps:
        jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit())
        seeds = []
        for job in jobs:
            assert (job / "run.json").is_file(), f"{job} did not finish"
            (seed,) = [o for o in _overrides(job) if o.startswith("run.seed=")]
            seeds.append(int(seed.partition("=")[2]))
        by_seeds[tuple(seeds)] = sweep
    assert set(by_seeds) == set(SEEDS.values()), by_seeds  # each sweep holds only its jobs

    # Seed 2 ran in both sweeps (one of them probably from the other's cache): same tables.
    first, second = by_seeds[SEEDS["first"]] / "1", by_seeds[SEEDS["second"]] / "0"
    pd.testing.assert_frame_equal(
        pd.read_csv(first / "replications.csv"), pd.read_csv(second / "replications.csv")
    )

    # One complete cache entry per (config, replication): 3 seeds x 3 replications.
    entries = list(root.glob("cache/*/*/result.json"))
    assert len(entries) == 9, entries
    leftovers = [p for p in root.rglob("*") if p.name.startswith(".tmp-") or p.suffix == ".tmp"]
    assert not leftovers, leftovers
