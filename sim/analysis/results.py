"""Reading finished results from disk: a run directory, or a sweep of numbered job directories.

This is the analysis layer's only view of a run. It reads tables and Hydra's saved config;
it never imports the model, SimPy or matplotlib, so comparison, reports and notebooks can
load any results folder cheaply.

Nothing read here is trusted. A table that is binary, malformed or has the wrong columns, a
manifest that is not a JSON object, or a saved config with a YAML tag (``!!python/...``) is
recorded as a problem of its run (:attr:`RunData.problems`): the run counts as unfinished,
and the tools name it. :func:`check_results_dir` turns a bad directory, or a single run with
a problem, into :class:`ResultsError`, which each tool prints as one line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

# Columns each table must have, as the task writes them (sim/run/task.py).
SUMMARY_COLUMNS = ("metric", "mean", "sd", "ci_low", "ci_high", "n")
REPLICATIONS_COLUMNS = ("replication", "metric", "value")
NUMERIC_COLUMNS = ("mean", "sd", "ci_low", "ci_high", "n", "replication", "value")
SNIFF_BYTES = 8192
PARQUET_TABLES = ("timeseries.parquet", "events.parquet")
PARQUET_MAGIC = b"PAR1"


class ResultsError(Exception):
    """A results directory or file the analysis tools cannot use, as one line.

    Parameters
    ----------
    path
        The directory or file concerned.
    problem
        What is wrong with it.
    """

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


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
    errors: list[ResultsError] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """One line per unreadable file, naming it and what is wrong."""
        return [str(e) for e in self.errors]

    @property
    def finished(self) -> bool:
        """True when the run wrote its manifest, which is written after every table, and
        every file read back cleanly.

        A run stopped while writing its tables can leave ``summary.csv`` without
        ``run.json``; such a run is unfinished, whatever tables it has. So is a run with an
        unreadable table or config (see :attr:`problems`).
        """
        return self.summary is not None and bool(self.manifest) and not self.problems

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
        return read_table(path)
    except ResultsError:
        return None


def read_table(path: Path, columns: Sequence[str] = ()) -> pd.DataFrame | None:
    """A CSV table checked for what it must hold, or ``None`` when it is missing.

    Parameters
    ----------
    path
        The CSV file.
    columns
        Columns it must have; those in :data:`NUMERIC_COLUMNS` must hold numbers.

    Raises
    ------
    ResultsError
        When the file is binary, not well-formed CSV, empty, or lacks a column.
    """
    path = Path(path)
    if not path.exists():
        return None
    if not path.is_file():
        raise ResultsError(path, "is a directory, not a CSV table")
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
        if b"\0" in head:
            raise ResultsError(path, "is binary, not a CSV table")
        table = pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError:
        raise ResultsError(path, "is binary (not UTF-8 text), not a CSV table") from None
    except pd.errors.EmptyDataError:
        raise ResultsError(path, "is empty") from None
    except pd.errors.ParserError as exc:
        raise ResultsError(path, f"is not well-formed CSV ({_first_line(exc)})") from None
    except OSError as exc:
        raise ResultsError(path, f"cannot be read ({exc.strerror or exc})") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        found = ", ".join(map(str, table.columns[:8])) or "none"
        raise ResultsError(
            path, f"lacks column(s) {', '.join(missing)} (has: {found}); expected "
            f"{', '.join(columns)}",
        )  # fmt: skip
    for column in columns:
        if column in NUMERIC_COLUMNS and not pd.api.types.is_numeric_dtype(table[column]):
            bad = pd.to_numeric(table[column], errors="coerce").isna() & table[column].notna()
            example = table.loc[bad, column].iloc[0] if bad.any() else table[column].iloc[0]
            raise ResultsError(path, f"column {column} holds a non-number ({example!r})")
    return table


def read_yaml(path: Path) -> Any:
    """A YAML file loaded safely, or ``None`` when missing or malformed."""
    try:
        return load_yaml(path)
    except ResultsError:
        return None


def load_yaml(path: Path) -> Any:
    """A YAML file loaded safely (no tags, no code), or ``None`` when it is missing.

    Raises
    ------
    ResultsError
        When the file is binary, malformed, or uses a tag such as ``!!python/object``.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.safe_load(text)
    except UnicodeDecodeError:
        raise ResultsError(path, "is binary (not UTF-8 text), not YAML") from None
    except yaml.constructor.ConstructorError as exc:
        raise ResultsError(
            path, f"uses the YAML tag {_tag(exc.problem)}, which is not allowed (results "
            "files hold plain values only; nothing was run)",
        ) from None  # fmt: skip
    except yaml.YAMLError as exc:
        raise ResultsError(path, f"is not valid YAML ({_first_line(exc)})") from None
    except OSError as exc:
        raise ResultsError(path, f"cannot be read ({exc.strerror or exc})") from None


def load_manifest(path: Path) -> dict[str, Any]:
    """``run.json`` as a dict, or ``{}`` when it is missing.

    Raises
    ------
    ResultsError
        When it is binary, not JSON, or not a JSON object.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ResultsError(path, "is binary (not UTF-8 text), not JSON") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(path, f"is not valid JSON ({_first_line(exc)})") from None
    except OSError as exc:
        raise ResultsError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not isinstance(data, dict):
        raise ResultsError(path, f"holds a JSON {type(data).__name__}, not an object")
    return data


def load_overrides(path: Path) -> list[str]:
    """Hydra's ``overrides.yaml``: a list of ``key=value`` strings ([] when missing).

    Raises
    ------
    ResultsError
        When it is unreadable, has a YAML tag, or is not a list of strings.
    """
    data = load_yaml(path)
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(o, str) for o in data):
        raise ResultsError(path, f"must be a list of key=value strings, not {_kind(data)}")
    return list(data)


def load_config(path: Path) -> dict[str, Any]:
    """Hydra's saved ``config.yaml`` as a dict ({} when missing).

    Raises
    ------
    ResultsError
        When it is unreadable, has a YAML tag, or is not a mapping.
    """
    data = load_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ResultsError(path, f"must be a mapping of config keys, not {_kind(data)}")
    return data


def load_run(path: Path) -> RunData:
    """Read a run directory's tables; anything missing or unreadable is ``None`` or empty.

    Unreadable files are recorded in :attr:`RunData.problems` (one line each, naming the
    file), which makes the run unfinished; this function itself never raises for them.

    Parameters
    ----------
    path
        A run directory (``summary.csv``, ``replications.csv``, ``run.json``, ``.hydra/``).

    Returns
    -------
    RunData
    """
    path = Path(path)
    errors: list[ResultsError] = []

    def attempt(read: Any, *args: Any) -> Any:
        try:
            return read(*args)
        except ResultsError as exc:
            errors.append(exc)
            return None

    manifest = attempt(load_manifest, path / "run.json") or {}
    summary = attempt(read_table, path / "summary.csv", SUMMARY_COLUMNS)
    replications = attempt(read_table, path / "replications.csv", REPLICATIONS_COLUMNS)
    config = attempt(load_config, path / ".hydra" / "config.yaml") or {}
    overrides = attempt(load_overrides, path / ".hydra" / "overrides.yaml") or []
    for name in PARQUET_TABLES:
        attempt(check_parquet, path / name)
    return RunData(
        path=path,
        summary=summary,
        replications=replications,
        manifest=manifest,
        config=config,
        overrides=[str(o) for o in overrides],
        errors=errors,
    )


def check_results_dir(path: Path, *, run_only: bool = False) -> list[str]:
    """Refuse a directory the tools cannot analyse; return a note per unreadable sweep job.

    Parameters
    ----------
    path
        What the user passed: a run directory or a sweep directory.
    run_only
        Require a single finished run (``python -m sim.analysis.rerun``).

    Returns
    -------
    list of str
        For a sweep, one line per job whose files are unreadable (it is left out as
        unfinished); empty otherwise.

    Raises
    ------
    ResultsError
        When ``path`` is missing or a file, or is a single run with an unreadable file (or,
        with ``run_only``, without ``run.json``).
    """
    path = Path(path)
    if not path.exists():
        raise ResultsError(path, "does not exist")
    if not path.is_dir():
        raise ResultsError(path, "is a file, not a run or sweep directory")
    if not run_only and is_sweep(path):
        notes = []
        for job in job_dirs(path):
            run = load_run(job)
            if run.problems:
                notes.append(f"job {job.name} left out as unfinished: {run.problems[0]}")
        return notes
    run = load_run(path)
    if run.errors:
        raise run.errors[0]
    if run_only and not run.manifest:
        raise ResultsError(path, "has no run.json: not a finished run directory")
    return []


def check_parquet(path: Path) -> None:
    """Refuse a Parquet file without its ``PAR1`` magic at both ends (damaged or truncated).

    Only 8 bytes are read, so every run can be checked cheaply; a missing file is fine.
    """
    path = Path(path)
    if not path.exists():
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 4))
            tail = fh.read(4)
    except OSError as exc:
        raise ResultsError(path, f"cannot be read ({exc.strerror or exc})") from None
    if size < 12 or head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise ResultsError(path, "is not a Parquet file (damaged or truncated)")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _tag(problem: object) -> str:
    """``!!python/object/apply:os.system`` from PyYAML's "could not determine ... 'tag:...'"."""
    match = re.search(r"'([^']+)'", str(problem))
    tag = match.group(1) if match else str(problem)
    return tag.replace("tag:yaml.org,2002:", "!!")


def _first_line(value: object) -> str:
    text = str(value).strip().splitlines()
    return " ".join(text[0].split())[:160] if text else type(value).__name__


def job_dirs(path: Path) -> list[Path]:
    """Numbered job directories of a sweep, in numeric order (none for a file)."""
    path = Path(path)
    if not path.is_dir():
        return []
    jobs = [p for p in path.iterdir() if p.is_dir() and p.name.isdigit()]
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
    # "lead_provider.priority_rule=by_need" reads as "priority_rule=by_need"; "+budget=x" as
    # "budget=x"
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
