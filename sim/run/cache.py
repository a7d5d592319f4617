"""Per-replication result cache: resumable sweeps and cheap extension of finished runs.

A replication's results are stored under a key made from the resolved config (less the
settings that cannot change a number: how many replications, how many workers, progress
bars) and a fingerprint of the simulator's source code. Re-running an interrupted sweep
therefore skips every replication that had finished, and raising ``run.replications`` on a
finished run only simulates the new ones. Each entry is written to a temporary directory
and renamed into place, so an interrupted write leaves nothing that looks finished.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from sim.models.base import ReplicationResult
from sim.paths import PACKAGE_DIR

# Settings that decide how a run is executed, never what it computes.
EXECUTION_ONLY = ("replications", "precision", "max_replications", "workers", "progress", "cache")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the simulator's Python sources, so edited code never reuses old results."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(resolved: dict[str, Any]) -> str:
    """Key of a run's replications: its config without execution-only settings, plus the code."""
    config = copy.deepcopy(resolved)
    for name in EXECUTION_ONLY:
        config.get("run", {}).pop(name, None)
    config.pop("analysis", None)  # how results are compared never changes a replication
    text = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256((text + code_fingerprint()).encode()).hexdigest()[:24]


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
        """The cached result of ``replication``, or ``None``."""
        entry = self._entry(replication)
        meta_path = entry / "result.json"
        if not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text())
        tables = {name: pd.read_parquet(entry / f"{name}.parquet") for name in meta["tables"]}
        return ReplicationResult(
            replication=replication,
            metrics={k: float(v) for k, v in meta["metrics"]},
            tables=tables,
            diagnostics={k: float(v) for k, v in meta["diagnostics"]},
        )

    def store(self, result: ReplicationResult) -> None:
        """Write one result atomically (a temporary directory renamed into place)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self._entry(result.replication)
        if final.exists():
            return
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.dir))
        try:
            for name, table in result.tables.items():
                table.to_parquet(tmp / f"{name}.parquet", index=False)
            meta = {
                # Lists of pairs keep the model's metric order, which the tables preserve.
                "metrics": [[k, float(v)] for k, v in result.metrics.items()],
                "diagnostics": [[k, float(v)] for k, v in result.diagnostics.items()],
                "tables": list(result.tables),
            }
            (tmp / "result.json").write_text(json.dumps(meta))
            os.rename(tmp, final)
        except OSError:
            # Another process stored the same replication first: theirs is identical.
            shutil.rmtree(tmp, ignore_errors=True)
            if not final.exists():
                raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
