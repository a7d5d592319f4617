"""A failed or interrupted run leaves no half-written results.

A small queue sweep is started through the real CLI with its outputs root in a temporary
directory and interrupted (SIGINT, and separately SIGTERM; SIGKILL if it does not stop) while
its second job is simulating, just after the first job wrote ``run.json``. Then:

* the command stops with one line and no traceback, with exit status 128 + the signal;
* every job directory either holds a complete, readable set of tables (``run.json`` and
  parseable CSVs) or none at all besides Hydra's ``.hydra/`` (and logs);
* no temporary file of :func:`sim.io.atomic_write` (``.<name>.<random>.tmp``) or of the
  replication cache (``.tmp-<random>/``) is left behind;
* ``python -m sim.analysis.compare <sweep_dir>`` still compares the jobs that finished and
  names every job that did not.

The atomic-write guarantee itself is also checked in-process: a writer interrupted half-way
leaves neither the target nor a temporary file, and never damages an existing target.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from sim import io

SWEEP = ("-m", "model=queue", "run.replications=2", "run.seed=1,2,3,4")
N_JOBS = 4
TABLES = ("replications.csv", "summary.csv", "diagnostics.csv", "verification.csv")
RESULT_SUFFIXES = {".csv", ".parquet", ".json", ".md", ".html", ".png"}
START_TIMEOUT = 60.0  # seconds for the first job to finish (about 7 s on an idle machine)
STOP_TIMEOUT = 15.0  # seconds allowed after SIGINT before SIGKILL


@dataclass
class Interrupted:
    """The outcome of an interrupted sweep."""

    outputs: Path
    sweep_dir: Path
    returncode: int
    stderr: str
    hard_killed: bool
    signal: signal.Signals


def _env(outputs: Path) -> dict[str, str]:
    return {**os.environ, "NHSIM_OUTPUT_ROOT": str(outputs)}


def _default_sigint() -> None:
    """Let the child hear SIGINT even when this test runs as a background job.

    A shell starts background jobs with SIGINT ignored, children inherit that, and Python
    then never installs its Ctrl-C handler, so the interrupt would not arrive at all.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(pattern: str, root: Path, proc: subprocess.Popen, timeout: float) -> Path | None:
    """The first path matching ``pattern`` under ``root``, polling until ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hits = sorted(root.glob(pattern))
        if hits:
            return hits[0]
        if proc.poll() is not None:
            return None
        time.sleep(0.02)
    return None


JOBLIB = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
RUNS = [
    (signal.SIGINT, ()),
    (signal.SIGTERM, ()),
    (signal.SIGINT, JOBLIB),
    (signal.SIGTERM, JOBLIB),
]


@pytest.fixture(
    scope="module",
    params=RUNS,
    ids=["SIGINT", "SIGTERM", "SIGINT-joblib", "SIGTERM-joblib"],
)
def interrupted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Interrupted:
    """Run the sweep and interrupt it while job 1 simulates (per signal and launcher)."""
    sig, launcher = request.param
    base = tmp_path_factory.mktemp("interrupt")
    outputs = base / "outputs"
    log = base / "stderr.txt"  # a file, not a pipe: a full pipe would stall the sweep
    hard_killed = False
    with log.open("w", encoding="utf-8") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", *SWEEP, *launcher],
            cwd=base,
            env=_env(outputs),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            preexec_fn=_default_sigint,
        )
        try:
            first = _wait_for("sweeps/*/0/run.json", outputs, proc, START_TIMEOUT)
            if first is None:
                proc.kill()
                proc.wait()
                tail = log.read_text(encoding="utf-8")[-3000:]
                pytest.fail(f"job 0 never finished (exit {proc.returncode}):\n{tail}")
            # Let job 1 start simulating, so the interrupt lands inside a job.
            _wait_for("sweeps/*/1/.hydra/overrides.yaml", outputs, proc, 10.0)
            time.sleep(0.3)
            proc.send_signal(sig)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                hard_killed = True
                proc.kill()
                proc.wait()
        finally:
            if proc.poll() is None:  # never leave our child running
                proc.kill()
                proc.wait()
    sweeps = sorted((outputs / "sweeps").iterdir())
    assert len(sweeps) == 1, sweeps
    err = log.read_text(encoding="utf-8")
    return Interrupted(outputs, sweeps[0], proc.returncode, err, hard_killed, sig)


def _job_dirs(sweep_dir: Path) -> list[Path]:
    return sorted((p for p in sweep_dir.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))


def _finished(job: Path) -> bool:
    return (job / "run.json").is_file()


def _result_files(job: Path) -> list[Path]:
    """Files in a job directory that are results (not Hydra's .hydra/ or a log)."""
    return [
        p
        for p in job.rglob("*")
        if p.is_file() and ".hydra" not in p.relative_to(job).parts and p.suffix != ".log"
    ]


def test_sweep_was_really_interrupted(interrupted: Interrupted) -> None:
    """The sweep stopped early: job 0 finished, and at least one job did not."""
    assert interrupted.returncode != 0, interrupted.stderr[-2000:]
    jobs = _job_dirs(interrupted.sweep_dir)
    assert jobs and _finished(jobs[0]), [p.name for p in jobs]
    assert sum(_finished(j) for j in jobs) < N_JOBS, "every job finished: nothing interrupted"


def test_the_command_stops_cleanly_with_one_line(interrupted: Interrupted) -> None:
    """No traceback: one line saying what is kept, and the shell's 128 + signal status."""
    assert not interrupted.hard_killed, "the sweep ignored the signal and had to be killed"
    assert interrupted.returncode == 128 + interrupted.signal, interrupted.stderr[-2000:]
    assert "Traceback" not in interrupted.stderr, interrupted.stderr[-3000:]
    lines = [ln for ln in interrupted.stderr.splitlines() if ln.startswith("nhsim: interrupted")]
    assert lines == [
        f"nhsim: interrupted ({interrupted.signal.name}): finished jobs and cached replications "
        "are kept; run the same command again to resume without re-running them"
    ], interrupted.stderr[-2000:]


def test_only_the_documented_line_is_printed(interrupted: Interrupted) -> None:
    """Nothing else on stderr: no "leaked semaphore" warning from joblib's resource tracker."""
    others = [
        ln
        for ln in interrupted.stderr.splitlines()
        if ln.strip() and not ln.startswith("nhsim: interrupted")
    ]
    assert others == [], interrupted.stderr[-3000:]


def test_each_job_is_complete_or_holds_no_tables(interrupted: Interrupted) -> None:
    """A job directory has a readable run.json and every table, or no result file at all."""
    for job in _job_dirs(interrupted.sweep_dir):
        if _finished(job):
            manifest = json.loads((job / "run.json").read_text(encoding="utf-8"))
            assert isinstance(manifest, dict) and manifest, job
            for name in TABLES:
                frame = pd.read_csv(job / name)
                assert len(frame) > 0, f"{job.name}/{name} is empty"
            assert {"metric", "mean"} <= set(pd.read_csv(job / "summary.csv").columns)
        else:
            leftovers = [p.relative_to(job).as_posix() for p in _result_files(job)]
            assert not leftovers, f"unfinished job {job.name} left {leftovers}"


def test_no_temporary_files_are_left(interrupted: Interrupted) -> None:
    """No atomic-write temporary (``*.tmp``) or cache staging directory (``.tmp-*``) remains.

    After SIGKILL a temporary may survive by design, but it is hidden and never carries a
    table's name, so nothing that looks finished can be half-written.
    """
    root = interrupted.outputs
    temps = [p for p in root.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp-")]
    if interrupted.hard_killed:
        assert all(p.name.startswith(".") for p in temps), temps
    else:
        assert not temps, temps
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in RESULT_SUFFIXES and path.suffix != ".md":
            assert path.stat().st_size > 0, f"empty result file {path}"


def test_compare_works_on_the_partial_sweep_and_names_missing_jobs(
    interrupted: Interrupted,
) -> None:
    """``sim.analysis.compare`` compares the finished jobs and names each unfinished one."""
    sweep = interrupted.sweep_dir
    result = subprocess.run(
        [sys.executable, "-m", "sim.analysis.compare", str(sweep)],
        cwd=sweep.parent,
        env=_env(interrupted.outputs),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    finished = {int(j.name) for j in _job_dirs(sweep) if _finished(j)}
    missing = sorted(set(range(N_JOBS)) - finished)
    assert missing
    assert "partial sweep" in result.stderr, result.stderr
    for i in missing:
        assert f"job {i} (" in result.stderr, (i, result.stderr)
    for i in finished:
        assert f"job {i} (" not in result.stderr, (i, result.stderr)
    table = pd.read_csv(sweep / "comparison.csv")
    assert set(table["job"]) == finished, sorted(set(table["job"]))


def _interrupt_first_write(outputs: Path) -> Path:
    """Run a small sweep, SIGINT it as job 0's first table appears; return job 0's folder."""
    outputs.mkdir(parents=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "-m", "model=queue", "run.replications=2", "run.seed=1,2"],
        cwd=outputs,
        env=_env(outputs),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            if any(outputs.glob("sweeps/*/0/replications.csv")):
                break
            time.sleep(0.001)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (job,) = outputs.glob("sweeps/*/0")
    return job


WRITE_WINDOW_ATTEMPTS = 5


def test_interrupt_while_writing_tables_leaves_all_or_nothing(tmp_path: Path) -> None:
    """SIGINT just after a job's first table appears: all of its tables, or none.

    The interrupt races the writer, so it is tried up to WRITE_WINDOW_ATTEMPTS times until
    one lands inside the write window (job 0 without run.json); every attempt that finished
    must be complete anyway. Skipped only if every attempt missed the window.
    """
    for attempt in range(WRITE_WINDOW_ATTEMPTS):
        job = _interrupt_first_write(tmp_path / f"attempt{attempt}")
        if not _finished(job):
            leftovers = [p.relative_to(job).as_posix() for p in _result_files(job)]
            assert not leftovers, f"job 0 was interrupted and left {leftovers} without run.json"
            return
        for name in TABLES:
            assert (job / name).is_file(), f"finished job 0 lacks {name}"
    pytest.skip(f"all {WRITE_WINDOW_ATTEMPTS} interrupts arrived after job 0 finished writing")


# ------------------------------------------------------------------------ atomic writes
class _Stop(BaseException):
    """Stands in for KeyboardInterrupt without upsetting the test runner."""


def _half_write(path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("metric,mean\nwait,")
        fh.flush()
        raise _Stop


def test_interrupted_atomic_write_leaves_nothing(tmp_path: Path) -> None:
    """A write interrupted half-way leaves neither the target nor a temporary file."""
    target = tmp_path / "summary.csv"
    with pytest.raises(_Stop):
        io.atomic_write(target, _half_write)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_interrupted_atomic_write_keeps_the_old_file(tmp_path: Path) -> None:
    """Interrupting a rewrite keeps the previous complete file byte for byte."""
    target = tmp_path / "summary.csv"
    io.write_csv(target, pd.DataFrame({"metric": ["wait"], "mean": [1.5]}))
    before = target.read_bytes()
    with pytest.raises(_Stop):
        io.atomic_write(target, _half_write)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]


def test_atomic_writers_leave_only_the_finished_file(tmp_path: Path) -> None:
    """CSV, Parquet and JSON writers leave exactly their file, readable, and no temporary."""
    frame = pd.DataFrame({"metric": ["wait", "sojourn"], "mean": [1.25, 2.5]})
    io.write_csv(tmp_path / "a.csv", frame)
    io.write_parquet(tmp_path / "b.parquet", frame)
    io.write_json(tmp_path / "c.json", {"finished": True})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.parquet", "c.json"]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), frame)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "b.parquet"), frame)
    assert json.loads((tmp_path / "c.json").read_text(encoding="utf-8")) == {"finished": True}
