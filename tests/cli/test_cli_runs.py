"""The CLI as a user runs it: a verified result, reproducible tables, sweeps, re-runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

SHORT = ("model=queue", "run.horizon=3000", "run.warm_up=300", "run.replications=4")


def _only_dir(root: Path) -> Path:
    dirs = [p for p in root.iterdir() if p.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_run_writes_every_table_and_checks_theory(run_cli, tmp_path):
    """A queue run from any directory writes its tables under the output root, with theory."""
    result = run_cli(*SHORT, "run.cache=false", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run_dir = _only_dir(run_cli.outputs / "runs")
    for name in ("replications.csv", "summary.csv", "verification.csv", "run.json", ".hydra"):
        assert (run_dir / name).exists(), name
    reps = pd.read_csv(run_dir / "replications.csv")
    assert list(reps.columns) == ["replication", "metric", "value"]
    assert sorted(reps["replication"].unique()) == [0, 1, 2, 3]
    summary = pd.read_csv(run_dir / "summary.csv")
    assert list(summary.columns) == ["metric", "mean", "sd", "ci_low", "ci_high", "n"]
    verification = pd.read_csv(run_dir / "verification.csv")
    assert "wait_mean__a" in set(verification["metric"]), verification
    manifest = json.loads((run_dir / "run.json").read_text())
    for key in ("package_version", "git", "versions", "config_hash", "seed", "wall_seconds",
                "cpu_model", "command_line", "rerun_command"):  # fmt: skip
        assert key in manifest, key
    assert "wait_mean__a" in result.stdout


def test_serial_and_parallel_tables_are_byte_identical(run_cli):
    """The same seed gives byte-identical replications.csv with 1 or 2 worker processes."""
    serial = run_cli(*SHORT, "run.cache=false", "run.workers=1")
    parallel = run_cli(*SHORT, "run.cache=false", "run.workers=2")
    assert serial.returncode == 0 and parallel.returncode == 0, serial.stderr + parallel.stderr
    a, b = sorted((run_cli.outputs / "runs").iterdir())
    assert (a / "replications.csv").read_bytes() == (b / "replications.csv").read_bytes()


def test_cached_replications_extend_a_run_without_changing_it(run_cli):
    """Raising N reuses the finished replications and gives the same rows for them."""
    first = run_cli(*SHORT[:-1], "run.replications=2")
    second = run_cli(*SHORT[:-1], "run.replications=4")
    fresh = run_cli(*SHORT[:-1], "run.replications=4", "run.cache=false")
    assert first.returncode == second.returncode == fresh.returncode == 0
    runs = sorted((run_cli.outputs / "runs").iterdir())
    assert (runs[1] / "replications.csv").read_bytes() == (
        runs[2] / "replications.csv"
    ).read_bytes()


def test_basic_and_joblib_sweeps_give_identical_tables(run_cli):
    """A 2-job sweep gives the same tables with the basic and the joblib launcher."""
    args = ("-m", *SHORT, "run.cache=false", "model.nodes.a.servers=5,6")
    basic = run_cli(*args)
    joblib = run_cli(*args, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert basic.returncode == 0, basic.stderr
    assert joblib.returncode == 0, joblib.stderr
    sweeps = sorted((run_cli.outputs / "sweeps").iterdir())
    assert len(sweeps) == 2, sweeps
    for job in ("0", "1"):
        a = (sweeps[0] / job / "replications.csv").read_bytes()
        b = (sweeps[1] / job / "replications.csv").read_bytes()
        assert a == b, job


def test_rerun_reproduces_a_run(run_cli):
    """python -m sim.analysis.rerun replays a finished run and finds every table identical."""
    assert run_cli(*SHORT).returncode == 0
    run_dir = _only_dir(run_cli.outputs / "runs")
    done = subprocess.run(
        [sys.executable, "-m", "sim.analysis.rerun", str(run_dir)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "replications.csv     identical" in done.stdout, done.stdout
