"""Atomic file writes: a crash never leaves a half-written table behind.

Files are created with the usual permissions (``0666`` less the umask, so ``0644`` under the
common umask ``022``): colleagues reading results on shared storage must be able to open
them, which the ``0600`` of :func:`tempfile.mkstemp` would prevent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

TMP_SUFFIX = ".tmp"


def unique_token(nbytes: int) -> str:
    """Hex characters that make a temporary file's name unique between processes.

    Taken from the operating system (``os.urandom``), never from a random stream: it names
    files, it is not part of any simulated number (those come only from :mod:`sim.rng`).
    """
    return os.urandom(nbytes).hex()


def temporary_sibling(path: Path) -> Path:
    """A fresh hidden name beside ``path``: ``.<name>.<random>.tmp``."""
    return path.with_name(f".{path.name}.{unique_token(4)}{TMP_SUFFIX}")


def temporary_files(directory: Path) -> list[Path]:
    """The temporary files :func:`atomic_write` may have left in ``directory`` (after SIGKILL)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return [p for p in directory.glob(f".*{TMP_SUFFIX}") if p.is_file()]


def remove_temporary_files(directory: Path, names: Iterable[str] | None = None) -> None:
    """Delete leftover temporary files of :func:`atomic_write` in ``directory``.

    Parameters
    ----------
    directory
        Where the writes happened.
    names
        Only the temporaries of these target names (default: every temporary).
    """
    wanted = None if names is None else {f".{n}." for n in names}
    for tmp in temporary_files(directory):
        if wanted is None or any(tmp.name.startswith(w) for w in wanted):
            tmp.unlink(missing_ok=True)


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` by calling ``write`` on a temporary sibling, then renaming it.

    ``os.replace`` is atomic on POSIX when both names are on one file system, which a
    sibling in the same directory guarantees. The temporary name is chosen *before* the
    file is created, so an interrupt (Ctrl-C, SIGTERM) landing at any point, even between
    creating the file and entering the ``try``, is followed by its removal.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = temporary_sibling(path)
    try:
        # O_EXCL: never write through someone else's file; mode 0o666 & ~umask.
        os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        write(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    """Atomically write a text file."""

    def write(p: Path) -> None:
        p.write_text(text, encoding="utf-8")

    return atomic_write(path, write)


def write_json(path: Path, data: object) -> Path:
    """Atomically write pretty-printed JSON."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Atomically write a CSV with a fixed float format, so tables compare byte for byte."""
    return atomic_write(path, lambda p: frame.to_csv(p, index=False, float_format="%.10g"))


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    """Atomically write a Parquet file."""
    return atomic_write(path, lambda p: frame.to_parquet(p, index=False))
