"""Where a run may write: checks made before anything is written, and clean failures after.

The pre-flight calls :func:`check_output_dir` before Hydra makes the run or sweep
directory, and :func:`sim.run.task.execute` calls it again where it starts writing (a
second line of defence). Each problem is one :class:`sim.errors.ConfigError` line:

* an empty run directory name (it would write into the working directory);
* an output root (``NHSIM_OUTPUT_ROOT``) that is a file, cannot be created, or is not
  writable (permissions, a read-only file system);
* a directory that already holds a finished run or sweep, unless ``run.overwrite=true``.

A file system that fills up while the tables are written is handled by the task: the files
this run wrote are removed and :class:`StorageError` gives one line.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sim.errors import ConfigError
from sim.io import unique_token

# Every file a run writes into its directory, manifest first: removing ``run.json`` first
# means a directory being cleaned never looks finished with tables missing.
RESULT_FILES = (
    "run.json",
    "replications.csv",
    "summary.csv",
    "diagnostics.csv",
    "verification.csv",
    "timeseries.parquet",
    "events.parquet",
    "warnings.json",
    "stress_des.md",
)
# Files the follow-up tools add to a run or sweep directory.
SWEEP_FILES = ("multirun.yaml", "comparison.csv", "report.html", "warmup.csv", "warmup.png")
OVERWRITE_KEY = "run.overwrite"
# Below this much free space a run cannot even write its manifest: refuse up front.
MIN_FREE_BYTES = 64 * 1024
ROOT_VARIABLE = "NHSIM_OUTPUT_ROOT"


class StorageError(ConfigError):
    """A results location that cannot be written, as one line: ``<path>: <problem>``.

    Parameters
    ----------
    path
        The file or directory concerned.
    problem
        What is wrong and what to do about it.
    """

    def __init__(self, path: Path | str, problem: str) -> None:
        self.key = str(path)
        self.value = None
        self.allowed = problem
        ValueError.__init__(self, f"{path}: {problem}")


def check_output_dir(path: Path | str, *, overwrite: bool, key: str = "hydra.run.dir") -> None:
    """Refuse an output directory a run must not write into, before anything is written.

    Parameters
    ----------
    path
        The run (or sweep) directory as configured, before it is resolved: an empty value
        is refused, so pass ``Path(cfg.hydra.run.dir)`` rather than a resolved path.
    overwrite
        ``run.overwrite``: allow replacing a finished run in ``path``.
    key
        The config key that named ``path``, for the message.

    Raises
    ------
    ConfigError
        Naming the directory and what is wrong with it.
    """
    text = str(path)
    if not text.strip() or Path(text).name in ("", ".", ".."):
        raise ConfigError(
            key, text,
            "must name a new directory (an empty name, '.', '..' or '/' would write the run "
            "among other files)",
        )  # fmt: skip
    path = Path(text).expanduser()
    root_text = os.environ.get(ROOT_VARIABLE)
    if root_text:
        check_output_root(Path(root_text))
    _check_writable(path, key)
    if path.is_dir() and holds_results(path) and not overwrite:
        raise ConfigError(
            key, str(path),
            "already holds a finished run; choose another directory, or add "
            f"{OVERWRITE_KEY}=true to replace it",
        )  # fmt: skip


def check_output_root(root: Path) -> None:
    """Refuse an ``NHSIM_OUTPUT_ROOT`` that is a file, unwritable, or whose parent is missing.

    The root itself may be missing (it is created), but not its parent: an unmounted share
    (``/mnt/share/outputs``) must not silently turn into a local folder.

    Raises
    ------
    ConfigError
        Keyed ``NHSIM_OUTPUT_ROOT``.
    """
    root = Path(root).expanduser()
    if root.exists() and not root.is_dir():
        raise ConfigError(ROOT_VARIABLE, str(root), "is a file, not a directory")
    if not root.exists():
        parent = root.parent
        if not parent.is_dir():
            raise ConfigError(
                ROOT_VARIABLE, str(root),
                f"does not exist, nor does its parent {parent}; create it, or point "
                f"{ROOT_VARIABLE} at an existing directory",
            )  # fmt: skip
    _check_writable(root, ROOT_VARIABLE)


def holds_results(path: Path) -> bool:
    """True when ``path`` holds a run's results, or a sweep with at least one finished job."""
    path = Path(path)
    if any((path / name).exists() for name in RESULT_FILES):
        return True
    try:
        jobs = [p for p in path.iterdir() if p.is_dir() and p.name.isdigit()]
    except OSError:
        return False
    return any((job / "run.json").exists() for job in jobs)


def remove_results(path: Path) -> list[Path]:
    """Remove a previous run's result files from ``path`` (manifest first); return them."""
    removed = []
    for name in RESULT_FILES:
        target = Path(path) / name
        if target.is_file():
            target.unlink()
            removed.append(target)
    return removed


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def _check_writable(path: Path, key: str) -> None:
    """Refuse ``path`` when it, or the closest existing folder it would be made in, is a
    file, cannot be written, or is (nearly) full."""
    where = _nearest_existing(path.absolute())
    if not where.is_dir():
        blocker = f"{where} is a file, not a directory"
        raise ConfigError(key, str(path), f"cannot be created: {blocker}")
    probe = where / f".nhsim-probe-{unique_token(4)}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(key, str(path), f"cannot be written ({where}: {reason})") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        return
    if free < MIN_FREE_BYTES:
        raise ConfigError(
            key, str(path), f"the file system holding {where} is full ({free:,} bytes free)"
        )
