"""Per-replication result cache: resumable sweeps and cheap extension of finished runs.

A replication's results are stored under a key made from the resolved config (less the
settings that cannot change a number: how many replications, how many workers, progress
bars), a fingerprint of the simulator's source code and the versions of the libraries
that compute the numbers. Re-running an interrupted sweep therefore skips every replication
that had finished, and raising ``run.replications`` on a finished run only simulates the
new ones.

The cache never returns a result it cannot vouch for. Each entry records the SHA-256 of
every file it holds and a checksum of its own metrics; an entry that is truncated, altered
(even by one digit) or otherwise unreadable is discarded with one line on stderr and
recomputed. Each entry is written to a temporary directory and renamed into place, so an
interrupted write leaves nothing that looks finished, and when two processes store the same
entry the first rename wins and the other copy is dropped.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import shutil
import sys
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from sim.io import unique_token
from sim.models.base import ReplicationResult
from sim.paths import PACKAGE_DIR

# Settings that decide how a run is executed, never what it computes.
EXECUTION_ONLY = (
    "replications", "precision", "max_replications", "workers", "progress", "cache", "overwrite",
)  # fmt: skip
# Libraries whose version can change a simulated number (random streams, arithmetic,
# statistics, how a table is stored and read back).
RESULT_LIBRARIES = ("numpy", "simpy", "pandas", "scipy", "pyarrow")
ENTRY_FORMAT = 2  # bumped whenever the layout of an entry changes


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the simulator's Python sources, so edited code never reuses old results."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def library_versions() -> tuple[tuple[str, str], ...]:
    """Python's and each result-affecting library's version, part of every cache key."""
    found = [("python", platform.python_version())]
    for name in RESULT_LIBRARIES:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            found.append((name, "absent"))
    return tuple(found)


def cache_key(
    resolved: dict[str, Any], libraries: tuple[tuple[str, str], ...] | None = None
) -> str:
    """Key of a run's replications: config without execution-only settings, code, libraries.

    Parameters
    ----------
    resolved
        The resolved config.
    libraries
        ``(name, version)`` pairs; default: those installed (:func:`library_versions`).
    """
    config = copy.deepcopy(resolved)
    for name in EXECUTION_ONLY:
        config.get("run", {}).pop(name, None)
    config.pop("analysis", None)  # how results are compared never changes a replication
    text = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    versions = json.dumps(libraries or library_versions(), separators=(",", ":"))
    material = f"{text}|{code_fingerprint()}|{versions}|{ENTRY_FORMAT}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


class CorruptEntry(Exception):
    """A cache entry that cannot be trusted; the message says why."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _meta_checksum(meta: dict[str, Any]) -> str:
    """SHA-256 of an entry's record without its own checksum field."""
    body = {k: v for k, v in meta.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class ReplicationCache:
    """Finished replications of one configuration, on disk.

    Parameters
    ----------
    root
        Cache root (e.g. ``outputs/cache``).
    key
        From :func:`cache_key`.
    """

    def __init__(self, root: Path, key: str) -> None:
        self.dir = Path(root) / key

    def _entry(self, replication: int) -> Path:
        return self.dir / f"rep-{replication:06d}"

    def load(self, replication: int) -> ReplicationResult | None:
        """The cached result of ``replication``, or ``None`` (missing, or corrupt and discarded).

        A corrupt entry is removed with one line on stderr, so the replication is simulated
        again and stored afresh; it is never returned.
        """
        entry = self._entry(replication)
        if not entry.exists():
            return None
        try:
            return self._read(entry, replication)
        except CorruptEntry as exc:
            print(
                f"nhsim: cache: discarded replication {replication} in {entry} ({exc}); "
                "simulating it again",
                file=sys.stderr,
            )
            self.discard(entry)
            return None

    def _read(self, entry: Path, replication: int) -> ReplicationResult:
        """Read and verify one entry, or raise :class:`CorruptEntry`."""
        meta_path = entry / "result.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorruptEntry("result.json is missing") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptEntry(f"result.json is unreadable: {_short(exc)}") from None
        if not isinstance(meta, dict) or meta.get("format") != ENTRY_FORMAT:
            raise CorruptEntry("result.json is not an entry of this cache format")
        if meta.get("checksum") != _meta_checksum(meta):
            raise CorruptEntry("result.json does not match its checksum (altered or damaged)")
        files = meta.get("files", {})
        tables = {}
        try:
            for name in meta["tables"]:
                path = entry / f"{name}.parquet"
                if not path.is_file():
                    raise CorruptEntry(f"{path.name} is missing")
                if _sha256(path) != files.get(path.name):
                    raise CorruptEntry(f"{path.name} does not match its checksum")
                tables[name] = pd.read_parquet(path)
            return ReplicationResult(
                replication=replication,
                metrics={str(k): float(v) for k, v in meta["metrics"]},
                tables=tables,
                diagnostics={str(k): float(v) for k, v in meta["diagnostics"]},
            )
        except CorruptEntry:
            raise
        except Exception as exc:  # noqa: BLE001  (any failure to read means: do not trust it)
            raise CorruptEntry(f"unreadable: {_short(exc)}") from None

    def discard(self, entry: Path) -> None:
        """Remove an entry: renamed aside first, so no reader sees it half-deleted."""
        aside = self.dir / f".trash-{unique_token(4)}"
        try:
            os.rename(entry, aside)
        except OSError:
            return  # already gone (another process discarded or replaced it)
        if aside.is_dir():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.unlink(missing_ok=True)

    def store(self, result: ReplicationResult) -> None:
        """Write one result atomically (a temporary directory renamed into place)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self._entry(result.replication)
        if final.exists():
            return
        tmp = self.dir / f".tmp-{unique_token(6)}"
        try:
            tmp.mkdir()  # 0o777 less the umask, like any directory the user makes
            files = {}
            for name, table in result.tables.items():
                path = tmp / f"{name}.parquet"
                table.to_parquet(path, index=False)
                files[path.name] = _sha256(path)
            meta: dict[str, Any] = {
                "format": ENTRY_FORMAT,
                # Lists of pairs keep the model's metric order, which the tables preserve.
                "metrics": [[k, float(v)] for k, v in result.metrics.items()],
                "diagnostics": [[k, float(v)] for k, v in result.diagnostics.items()],
                "tables": list(result.tables),
                "files": files,
            }
            meta["checksum"] = _meta_checksum(meta)
            (tmp / "result.json").write_text(json.dumps(meta), encoding="utf-8")
            os.rename(tmp, final)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            # Another process stored the same replication first: theirs is identical.
            if not final.exists():
                raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _short(exc: BaseException) -> str:
    """The first line of an exception's message, with its type when the message is empty."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:120]}" if text else type(exc).__name__
