"""Storage faults: each gives one line and a non-zero exit, never a half-written run.

Faults are real, not simulated: a full disk is a 2 MB tmpfs filled with a ballast file and
a read-only disk is a tmpfs remounted read-only (both need root; the tests say so and skip
otherwise). Re-using a run directory goes through the real CLI. The checks of
:func:`sim.run.storage.check_output_dir` are exercised directly, as the pre-flight calls it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim import io
from sim.errors import ConfigError
from sim.run.storage import check_output_dir, check_output_root, holds_results

QUEUE = ("model=queue", "run.replications=2", "run.horizon=300", "run.warm_up=30")
# An event log of this run is about 600 KB: more than a nearly full 2 MB disk can take.
BIG = ("model=queue", "run.replications=2", "run.horizon=2000", "run.warm_up=50",
       "output.event_log=true")  # fmt: skip


def _cli(args: tuple[str, ...] | list[str], root: Path, cwd: Path, **env: str):
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env={**os.environ, "NHSIM_OUTPUT_ROOT": str(root), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_error_line(done: subprocess.CompletedProcess) -> str:
    """The single ``nhsim: error:`` line of a failed command (asserting there is one)."""
    assert done.returncode != 0, f"exit 0; stderr: {done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("nhsim: error:")]
    assert len(errors) == 1 and len(lines) == 1, lines
    return errors[0]


def _leftovers(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.name.endswith(".tmp") or p.name.startswith((".tmp-", ".nhsim-probe"))
    )


# --------------------------------------------------------------------------- tmpfs
@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A fresh 2 MB tmpfs (root only), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _read_only(mnt: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True, capture_output=True)


def _fill(mnt: Path, leave: int) -> None:
    """Leave about ``leave`` bytes free on the tmpfs."""
    free = shutil.disk_usage(mnt).free
    with open(mnt / "ballast", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


# --------------------------------------------------------------------------- checks
@pytest.mark.parametrize("name", ["", ".", "..", "/"])
def test_an_empty_run_directory_name_is_refused(name):
    """An empty name, ``.``, ``..`` or ``/`` would write a run among other files."""
    with pytest.raises(ConfigError) as caught:
        check_output_dir(name, overwrite=False)
    assert caught.value.key == "hydra.run.dir" and "must name a new directory" in str(
        caught.value
    ), str(caught.value)


def test_a_run_directory_inside_a_file_is_refused(tmp_path):
    """A run directory whose parent is a file names the file."""
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError) as caught:
        check_output_dir(tmp_path / "afile" / "run", overwrite=False)
    assert "afile is a file, not a directory" in str(caught.value), str(caught.value)


def test_a_run_directory_that_is_a_file_is_refused(tmp_path):
    """A run directory that exists as a file is refused."""
    (tmp_path / "run").write_text("x")
    with pytest.raises(ConfigError) as caught:
        check_output_dir(tmp_path / "run", overwrite=False)
    assert "is a file, not a directory" in str(caught.value), str(caught.value)


def test_a_finished_run_is_refused_unless_overwrite(tmp_path):
    """A directory with ``run.json`` is refused, naming run.overwrite; allowed with it."""
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("{}")
    with pytest.raises(ConfigError) as caught:
        check_output_dir(tmp_path / "run", overwrite=False)
    assert "already holds a finished run" in str(caught.value), str(caught.value)
    assert "run.overwrite=true" in str(caught.value), str(caught.value)
    check_output_dir(tmp_path / "run", overwrite=True)


def test_a_stale_table_without_manifest_also_counts_as_results(tmp_path):
    """A directory holding only an old ``summary.csv`` would mix runs: it is refused too."""
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "summary.csv").write_text("metric,mean\n")
    with pytest.raises(ConfigError):
        check_output_dir(tmp_path / "run", overwrite=False)


def test_a_sweep_with_a_finished_job_is_refused(tmp_path):
    """A sweep directory with one finished job counts as results."""
    (tmp_path / "sweep" / "0").mkdir(parents=True)
    (tmp_path / "sweep" / "0" / "run.json").write_text("{}")
    assert holds_results(tmp_path / "sweep")
    with pytest.raises(ConfigError):
        check_output_dir(tmp_path / "sweep", overwrite=False, key="hydra.sweep.dir")


def test_a_fresh_or_hydra_only_directory_is_accepted(tmp_path):
    """A missing directory, or one holding only Hydra's ``.hydra/`` (the task's view), is
    fine, and the check leaves no probe file behind."""
    check_output_dir(tmp_path / "new" / "run", overwrite=False)
    (tmp_path / "hydra_only" / ".hydra").mkdir(parents=True)
    check_output_dir(tmp_path / "hydra_only", overwrite=False)
    assert _leftovers(tmp_path) == [], _leftovers(tmp_path)
    assert not (tmp_path / "new").exists(), "the check must not create anything"


def test_an_output_root_that_is_a_file_is_refused(tmp_path):
    """NHSIM_OUTPUT_ROOT pointing at a file is named as such."""
    (tmp_path / "root").write_text("x")
    with pytest.raises(ConfigError) as caught:
        check_output_root(tmp_path / "root")
    assert caught.value.key == "NHSIM_OUTPUT_ROOT" and "is a file" in str(caught.value)


def test_an_output_root_whose_parent_is_missing_is_refused(tmp_path):
    """An unmounted share (the root's parent missing) is refused, not created locally."""
    with pytest.raises(ConfigError) as caught:
        check_output_root(tmp_path / "share" / "outputs")
    assert "nor does its parent" in str(caught.value), str(caught.value)
    assert not (tmp_path / "share").exists()


def test_a_missing_output_root_with_a_parent_is_accepted(tmp_path):
    """The root itself may be missing: it is created on the first run."""
    check_output_root(tmp_path / "outputs")


def test_the_output_root_is_checked_for_any_run_directory(tmp_path, monkeypatch):
    """check_output_dir also checks NHSIM_OUTPUT_ROOT (the cache lives there)."""
    (tmp_path / "root").write_text("x")
    monkeypatch.setenv("NHSIM_OUTPUT_ROOT", str(tmp_path / "root"))
    with pytest.raises(ConfigError) as caught:
        check_output_dir(tmp_path / "elsewhere", overwrite=False)
    assert caught.value.key == "NHSIM_OUTPUT_ROOT", str(caught.value)


def test_a_read_only_file_system_is_refused(tmpfs):
    """A read-only file system is refused up front, with the system's reason."""
    _read_only(tmpfs)
    with pytest.raises(ConfigError) as caught:
        check_output_dir(tmpfs / "runs" / "x", overwrite=False)
    assert "Read-only file system" in str(caught.value), str(caught.value)
    with pytest.raises(ConfigError):
        check_output_root(tmpfs / "outputs")


def test_a_full_file_system_is_refused_up_front(tmpfs):
    """A disk with (almost) no space left is refused before a run starts."""
    _fill(tmpfs, leave=4096)
    with pytest.raises(ConfigError) as caught:
        check_output_dir(tmpfs / "runs" / "x", overwrite=False)
    assert "is full" in str(caught.value), str(caught.value)


# --------------------------------------------------------------------------- atomic writes
def test_an_interrupt_right_after_creating_the_temporary_leaves_nothing(tmp_path, monkeypatch):
    """A signal landing just after the temporary file is created (the window between
    ``mkstemp`` and the ``try`` that flaked the interrupt test) still removes it."""
    real_close = os.close

    def close_then_interrupt(fd: int) -> None:
        real_close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(io.os, "close", close_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        io.write_text(tmp_path / "summary.csv", "a,b\n")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == [], list(tmp_path.iterdir())


def test_leftover_temporaries_are_swept_up(tmp_path):
    """``remove_temporary_files`` removes only the named tables' temporaries."""
    for name in (".summary.csv.ab12cd34.tmp", ".other.txt.ab12cd34.tmp", "summary.csv"):
        (tmp_path / name).write_text("x")
    io.remove_temporary_files(tmp_path, ["summary.csv"])
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == [".other.txt.ab12cd34.tmp", "summary.csv"], remaining


@pytest.mark.parametrize(("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755),
                                                              (0o002, 0o664, 0o775)])  # fmt: skip
def test_files_respect_the_umask(tmp_path, umask, file_mode, dir_mode):
    """Every file and directory a run writes has the umask's usual mode (0644 under 022,
    group-writable under 002), so colleagues on shared storage can read results."""
    root = tmp_path / "outputs"
    done = subprocess.run(
        [sys.executable, "-m", "sim", *QUEUE, f"hydra.run.dir={root}/runs/x"],
        cwd=tmp_path,
        env={**os.environ, "NHSIM_OUTPUT_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(umask),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modes = {
        str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode)
        for p in root.rglob("*")
        if not p.name.endswith(".log")
    }
    files = {k: oct(v) for k, v in modes.items() if (root / k).is_file() and v != file_mode}
    dirs = {k: oct(v) for k, v in modes.items() if (root / k).is_dir() and v != dir_mode}
    assert not files, f"files not {oct(file_mode)}: {files}"
    assert not dirs, f"directories not {oct(dir_mode)}: {dirs}"
    assert any(k.startswith("cache") for k in modes), sorted(modes)


# --------------------------------------------------------------------------- through the CLI
def test_reusing_a_run_directory_is_refused_and_keeps_the_first_run(tmp_path):
    """The same ``hydra.run.dir`` twice with different seeds: the second exits non-zero
    with one line naming run.overwrite, and the first run's tables are untouched."""
    root, run = tmp_path / "outputs", tmp_path / "outputs" / "runs" / "x"
    first = _cli([*QUEUE, "run.seed=1", f"hydra.run.dir={run}"], root, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    second = _cli([*QUEUE, "run.seed=2", f"hydra.run.dir={run}"], root, tmp_path)
    line = _one_error_line(second)
    assert "already holds a finished run" in line and "run.overwrite=true" in line, line
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert after == before, sorted(set(after) ^ set(before))
    assert json.loads((run / "run.json").read_text())["seed"] == 1


def test_overwrite_replaces_a_run_without_stale_tables(tmp_path):
    """With run.overwrite=true the second run replaces the first, and a table the second
    run does not write (the first run's event log) is gone, not left beside it."""
    root, run = tmp_path / "outputs", tmp_path / "outputs" / "runs" / "x"
    first = _cli([*QUEUE, "run.seed=1", "output.event_log=true", f"hydra.run.dir={run}"],
                 root, tmp_path)  # fmt: skip
    assert first.returncode == 0 and (run / "events.parquet").is_file(), first.stderr[-2000:]
    second = _cli([*QUEUE, "run.seed=2", "run.overwrite=true", f"hydra.run.dir={run}"],
                  root, tmp_path)  # fmt: skip
    assert second.returncode == 0, second.stderr[-2000:]
    assert json.loads((run / "run.json").read_text())["seed"] == 2
    assert not (run / "events.parquet").exists(), sorted(p.name for p in run.iterdir())


def test_a_disk_that_fills_while_writing_tables_leaves_no_run(tmpfs, tmp_path):
    """ENOSPC while writing the event log: one line saying so, a non-zero exit, the tables
    written before it removed, no temporary file and no run directory left behind."""
    root = tmpfs / "outputs"
    _fill(tmpfs, leave=300_000)
    done = _cli([*BIG, "run.cache=false"], root, tmp_path)
    line = _one_error_line(done)
    assert "No space left on device while writing the tables" in line, line
    assert "removed the" in line, line
    runs = root / "runs"
    left = sorted(str(p.relative_to(root)) for p in runs.rglob("*")) if runs.exists() else []
    assert left == [], f"left behind: {left}"
    assert _leftovers(tmpfs) == [], _leftovers(tmpfs)


def test_a_disk_that_fills_while_caching_leaves_no_run(tmpfs, tmp_path):
    """ENOSPC while storing a replication in the cache: one line naming the cache, no run
    directory and no half-written cache entry."""
    root = tmpfs / "outputs"
    _fill(tmpfs, leave=300_000)
    done = _cli(BIG, root, tmp_path)
    line = _one_error_line(done)
    assert "No space left on device while storing a finished replication" in line, line
    runs = root / "runs"
    left = sorted(str(p.relative_to(root)) for p in runs.rglob("*")) if runs.exists() else []
    assert left == [], f"left behind: {left}"
    assert _leftovers(tmpfs) == [], _leftovers(tmpfs)


def test_a_full_disk_then_freed_runs_and_matches(tmpfs, tmp_path):
    """After the disk is freed, the same command succeeds: nothing a failed run left
    (cache included) gets in the way."""
    root = tmpfs / "outputs"
    _fill(tmpfs, leave=300_000)
    assert _cli(BIG, root, tmp_path).returncode != 0
    (tmpfs / "ballast").unlink()
    again = _cli(BIG, root, tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    (run,) = (root / "runs").iterdir()
    assert (run / "run.json").is_file() and (run / "events.parquet").is_file()


@pytest.mark.parametrize("fault", ["file", "missing_parent", "read_only"])
def test_a_bad_output_root_gives_one_line_and_no_directory(tmp_path, fault):
    """NHSIM_OUTPUT_ROOT that is a file, whose parent is missing, or on a read-only file
    system: one line naming NHSIM_OUTPUT_ROOT, a non-zero exit, nothing created."""
    if fault == "file":
        root = tmp_path / "root"
        root.write_text("x")
    elif fault == "missing_parent":
        root = tmp_path / "share" / "outputs"
    else:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)]).returncode:
            pytest.skip("cannot mount a tmpfs here")
        _read_only(mnt)
        root = mnt / "outputs"
    try:
        before = sorted(p.name for p in tmp_path.iterdir())
        line = _one_error_line(_cli(QUEUE, root, tmp_path))
        assert "NHSIM_OUTPUT_ROOT" in line, line
        assert sorted(p.name for p in tmp_path.iterdir()) == before
    finally:
        if fault == "read_only":
            subprocess.run(["umount", "-l", str(tmp_path / "mnt")], capture_output=True)


@pytest.mark.parametrize("name", ["''", "."])
def test_an_empty_run_directory_name_is_refused_by_the_cli(tmp_path, name):
    """``hydra.run.dir=''`` (or ``.``) would write into the working directory: one line,
    exit non-zero, no result file there."""
    line = _one_error_line(_cli([*QUEUE, f"hydra.run.dir={name}"], tmp_path / "outputs", tmp_path))
    assert "hydra.run.dir" in line and "must name a" in line, line
    results = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert results == [], results


def test_reusing_a_sweep_directory_is_refused_and_keeps_its_jobs(tmp_path):
    """The same ``hydra.sweep.dir`` twice: the second sweep exits non-zero, each error line
    names hydra.sweep.dir and run.overwrite, and the first sweep's jobs are untouched."""
    root, sweep = tmp_path / "outputs", tmp_path / "outputs" / "sweeps" / "s"
    args = ["-m", *QUEUE, "run.seed=1,2", f"hydra.sweep.dir={sweep}"]
    first = _cli(args, root, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    before = {str(p.relative_to(sweep)): p.read_bytes() for p in sweep.glob("*/*.csv")}
    second = _cli(args, root, tmp_path)
    assert second.returncode != 0 and "Traceback" not in second.stderr, second.stderr[-2000:]
    errors = [line for line in second.stderr.splitlines() if line.startswith("nhsim: error:")]
    assert errors and all("hydra.sweep.dir" in e and "run.overwrite=true" in e for e in errors), (
        errors
    )
    after = {str(p.relative_to(sweep)): p.read_bytes() for p in sweep.glob("*/*.csv")}
    assert after == before and len(before) >= 6, sorted(after)
