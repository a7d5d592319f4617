"""Resume: a sweep killed mid-way and run again ends with the tables of an uninterrupted run.

Nothing that had finished is lost: every replication cached before the kill is reused, byte
for byte, by the second run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

SWEEP = ["-m", "model=queue", "run.replications=6", "run.horizon=4000", "run.seed=1,2"]


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "NHSIM_OUTPUT_ROOT": str(root), "PYTHONHASHSEED": "0"}


def _sweep(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *SWEEP], env=_env(root), capture_output=True, text=True,
        timeout=300, check=True,
    )  # fmt: skip


def _cache_entries(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every cached replication result: its bytes and its modification time (ns).

    A recomputed result would have the same bytes (the run is deterministic) but a new
    modification time, because cache files are replaced atomically; so both are compared.
    """
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.glob("cache/*/*/result.json")
    }


def _tables(root: Path) -> dict[str, pd.DataFrame]:
    (sweep,) = sorted((root / "sweeps").iterdir())[-1:]
    return {
        job.name: pd.read_csv(job / "replications.csv")
        for job in sorted(sweep.iterdir())
        if job.is_dir() and job.name.isdigit()  # jobs, not the report's figures/
    }


def test_a_killed_sweep_resumes_to_identical_tables(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    _sweep(whole)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *SWEEP], env=_env(killed),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        # Kill once some replications of the first job are cached but the sweep is unfinished.
        while time.monotonic() < deadline and len(_cache_entries(killed)) < 3:
            assert proc.poll() is None, "the sweep finished before it could be killed"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = _cache_entries(killed)
    assert 3 <= len(before) < 12, len(before)  # part of the 2 x 6 replications

    _sweep(killed)
    after = _cache_entries(killed)
    assert len(after) == 12
    for name, content in before.items():
        assert after[name] == content, f"{name} was recomputed or changed"

    resumed, reference = _tables(killed), _tables(whole)
    assert set(resumed) == set(reference) == {"0", "1"}
    for job, table in reference.items():
        pd.testing.assert_frame_equal(resumed[job], table, check_exact=True)
