"""Atomic file writes: a crash never leaves a half-written table behind."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` by calling ``write`` on a temporary sibling, then renaming it.

    ``os.replace`` is atomic on POSIX when both names are on one file system, which a
    sibling in the same directory guarantees.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    """Atomically write a text file."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: object) -> Path:
    """Atomically write pretty-printed JSON."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Atomically write a CSV with a fixed float format, so tables compare byte for byte."""
    return atomic_write(path, lambda p: frame.to_csv(p, index=False, float_format="%.10g"))


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    """Atomically write a Parquet file."""
    return atomic_write(path, lambda p: frame.to_parquet(p, index=False))
