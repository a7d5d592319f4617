"""Reading finished results from disk: a run directory, or a sweep of numbered job directories.

This is the analysis layer's only view of a run. It reads tables and Hydra's saved config;
it never imports the model, SimPy or matplotlib, so comparison, reports and notebooks can
load any results folder cheaply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml


@dataclass
class RunData:
    """The saved tables of one run directory (a single run or one job of a sweep)."""

    path: Path
    summary: pd.DataFrame | None
    replications: pd.DataFrame | None
    manifest: dict[str, Any]
    config: dict[str, Any]
    overrides: list[str]
    name: str = ""

    @property
    def finished(self) -> bool:
        """True when the run wrote its manifest, which is written after every table.

        A run stopped while writing its tables can leave ``summary.csv`` without
        ``run.json``; such a run is unfinished, whatever tables it has.
        """
        return self.summary is not None and bool(self.manifest)

    @property
    def warm_up(self) -> float | None:
        """Warm-up length from the manifest or the config."""
        w = self.manifest.get("warm_up", self.config.get("run", {}).get("warm_up"))
        return float(w) if w is not None else None

    @property
    def arrangement(self) -> str | None:
        """The lead-provider arrangement's name, for the care model."""
        lead = self.config.get("lead_provider")
        return str(lead["name"]) if isinstance(lead, dict) and "name" in lead else None

    @property
    def override_values(self) -> dict[str, str]:
        """The run's command-line overrides as ``{key: value}`` (``+`` and ``~`` dropped)."""
        out = {}
        for text in self.overrides:
            key, sep, value = text.partition("=")
            if sep:
                out[key.lstrip("+~")] = value
        return out


def read_csv(path: Path) -> pd.DataFrame | None:
    """A CSV table, or ``None`` when it is missing or unreadable (a job that died mid-write)."""
    try:
        return pd.read_csv(path) if path.is_file() else None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError):
        return None


def read_yaml(path: Path) -> Any:
    """A YAML file loaded safely, or ``None`` when missing or malformed."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (yaml.YAMLError, OSError):
        return None


def load_run(path: Path) -> RunData:
    """Read a run directory's tables; anything missing is ``None`` or empty, never an error.

    Parameters
    ----------
    path
        A run directory (``summary.csv``, ``replications.csv``, ``run.json``, ``.hydra/``).

    Returns
    -------
    RunData
    """
    path = Path(path)
    manifest: dict[str, Any] = {}
    if (path / "run.json").is_file():
        try:
            manifest = json.loads((path / "run.json").read_text(encoding="utf-8"))
        except (json.JSONDecodeError, OSError):
            manifest = {}
    return RunData(
        path=path,
        summary=read_csv(path / "summary.csv"),
        replications=read_csv(path / "replications.csv"),
        manifest=manifest,
        config=read_yaml(path / ".hydra" / "config.yaml") or {},
        overrides=[str(o) for o in (read_yaml(path / ".hydra" / "overrides.yaml") or [])],
    )


def job_dirs(path: Path) -> list[Path]:
    """Numbered job directories of a sweep, in numeric order."""
    jobs = [p for p in Path(path).iterdir() if p.is_dir() and p.name.isdigit()]
    return sorted(jobs, key=lambda p: int(p.name))


def is_sweep(path: Path) -> bool:
    """True for a sweep directory (numbered job directories or ``multirun.yaml``)."""
    path = Path(path)
    if (path / "summary.csv").is_file():
        return False
    return (path / "multirun.yaml").is_file() or bool(job_dirs(path))


def _differing_overrides(runs: Sequence[RunData]) -> dict[Path, str]:
    """Per run, the overrides that are not common to every run, as ``key=value`` text."""
    common = set.intersection(*(set(r.overrides) for r in runs)) if runs else set()
    out = {}
    for r in runs:
        parts = [o for o in r.overrides if o not in common and not o.startswith("lead_provider=")]
        out[r.path] = ", ".join(parts)
    return out


def _strip_group(text: str) -> str:
    # "lead_provider.continuity=0.75" reads as "continuity=0.75"; "+budget=x" as "budget=x"
    text = re.sub(r"(^|, )[+~]", r"\1", text)
    return re.sub(r"(^|, )[a-z_]+\.", r"\1", text)


def name_scenarios(runs: Sequence[RunData]) -> None:
    """Give each run a unique scenario name (in place).

    The arrangement's name when it is unique among the runs; otherwise the arrangement (or
    job number) followed by the overrides that differ, e.g. ``status_quo · continuity=0.75``.
    """
    base = [r.arrangement or f"job {r.path.name}" for r in runs]
    extra = _differing_overrides(runs)
    counts = pd.Series(base).value_counts()
    one_arrangement = len(counts) == 1
    for r, b in zip(runs, base, strict=True):
        tail = _strip_group(extra[r.path])
        if counts[b] == 1:
            r.name = b
        elif one_arrangement and tail:
            # Every job has the same arrangement: the swept values alone tell them apart.
            r.name = tail
        else:
            r.name = f"{b} · {tail or 'job ' + r.path.name}"
