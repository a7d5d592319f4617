"""One run: validated parameters → replications → tables on disk.

The Hydra wrapper in :mod:`sim.cli.app` calls :func:`execute` with the run directory Hydra
made; tests call it directly with any directory.
"""

from __future__ import annotations

import errno
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import io
from sim.analysis import stress_des, warmup
from sim.analysis.replication_number import ReplicationChoice, run_until_precise
from sim.analysis.stats import summarise
from sim.config.params import Params
from sim.models import MODELS
from sim.paths import outputs_root
from sim.run.cache import ReplicationCache, cache_key
from sim.run.manifest import build_manifest, cpu_seconds
from sim.run.replications import (
    diagnostics_table,
    replications_table,
    run_replications,
    stacked_table,
)
from sim.run.storage import (
    RESULT_FILES,
    StorageError,
    check_output_dir,
    holds_results,
    remove_results,
)


@dataclass(frozen=True)
class RunOutcome:
    """What a finished run wrote and its summary table."""

    run_dir: Path
    summary: pd.DataFrame
    verification: pd.DataFrame | None
    warnings: list[warmup.RunWarning]


def verification_table(params: Params, summary: pd.DataFrame) -> pd.DataFrame | None:
    """Simulated mean and 95% CI beside the analytic value, where the model has one."""
    reference = MODELS[params.kind].reference
    theory = reference(params.model) if reference else None
    if theory is None or theory.empty:
        return None
    table = summary.merge(theory, on="metric", how="inner")
    table["theory_within_ci"] = (table["theory"] >= table["ci_low"]) & (
        table["theory"] <= table["ci_high"]
    )
    return table[["metric", "mean", "ci_low", "ci_high", "n", "theory", "theory_within_ci"]]


def execute(
    params: Params, resolved: dict[str, Any], run_dir: Path, overrides: list[str]
) -> RunOutcome:
    """Run every replication and write the run's tables atomically into ``run_dir``.

    Parameters
    ----------
    params
        Validated parameters.
    resolved
        The resolved config as a plain dict (for the manifest's hash).
    run_dir
        Directory to write into (it may already hold Hydra's ``.hydra/``).
    overrides
        The command-line overrides, for the re-run command.
    """
    overwrite = bool(resolved.get("run", {}).get("overwrite", False))
    # Second line of defence after the pre-flight: never mix this run with a finished one.
    in_sweep = (Path(run_dir).parent / "multirun.yaml").is_file()
    check_output_dir(
        run_dir, overwrite=overwrite, key="hydra.sweep.dir" if in_sweep else "hydra.run.dir"
    )
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    cache = (
        ReplicationCache(outputs_root() / "cache", cache_key(resolved))
        if params.run.cache
        else None
    )
    choice = None
    try:
        if params.run.auto:
            results, choice = run_until_precise(params, cache=cache)
        else:
            results = run_replications(params, cache=cache)
    except OSError as exc:
        where = cache.dir if cache is not None else run_dir
        raise StorageError(where, _storage_problem(exc, "storing a finished replication")) from None
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0

    reps = replications_table(results)
    summary = summarise(reps)
    verification = verification_table(params, summary)
    timing = {
        "wall": wall,
        "cpu": cpu,
        "cache_key": cache.dir.name if cache else None,
        "replication_choice": choice,
    }

    # Tables first, manifest last: a run.json means the run finished and its tables exist.
    # Each file is written atomically; if the run is stopped (or the disk fills) between
    # files, the ones already written are removed, so a run directory holds all of its
    # tables or none.
    written: list[Path] = []
    try:
        if overwrite and holds_results(run_dir):
            remove_results(run_dir)  # run.json first: the old run stops counting as finished
        warnings = _write_tables(
            params, resolved, run_dir, overrides, results, (reps, summary, verification),
            timing, written,
        )  # fmt: skip
        # The STRESS-DES report is generated from run.json, so it comes after the manifest.
        written.append(run_dir / "stress_des.md")
        stress_des.write(run_dir, resolved)
    except BaseException as exc:
        _remove_written(run_dir, written)
        if isinstance(exc, OSError):
            raise StorageError(
                run_dir,
                _storage_problem(exc, "writing the tables")
                + f"; removed the {len(written)} file(s) this run had written",
            ) from None
        raise
    return RunOutcome(
        run_dir=run_dir, summary=summary, verification=verification, warnings=warnings
    )


def _remove_written(run_dir: Path, written: list[Path]) -> None:
    """Remove what this run wrote, manifest first, and any temporary file of a write."""
    for path in sorted(written, key=lambda p: p.name != "run.json"):
        path.unlink(missing_ok=True)
    # A signal can land inside atomic_write's own cleanup; sweep up its temporaries too.
    io.remove_temporary_files(run_dir, RESULT_FILES)


def _storage_problem(exc: OSError, doing: str) -> str:
    """One line for a failed write: what the system said, and what to do."""
    code = exc.errno
    if code is None:  # pyarrow's OSError keeps the number only in its text: "[errno 28] ..."
        match = re.search(r"\[errno (\d+)\]", str(exc))
        code = int(match.group(1)) if match else None
    reason = os.strerror(code) if code else (exc.strerror or str(exc) or type(exc).__name__)
    advice = {
        errno.ENOSPC: "free some space (or set NHSIM_OUTPUT_ROOT elsewhere) and run the "
        "same command again",
        errno.EROFS: "the file system is read-only; set NHSIM_OUTPUT_ROOT to a writable place",
        errno.EACCES: "no permission to write there; set NHSIM_OUTPUT_ROOT to a writable place",
    }.get(code or 0, "check the file system, then run the same command again")
    return f"{reason} while {doing}; {advice}"


def _write_tables(
    params: Params,
    resolved: dict[str, Any],
    run_dir: Path,
    overrides: list[str],
    results: list[Any],
    summaries: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None],
    timing: dict[str, Any],
    written: list[Path],
) -> list[warmup.RunWarning]:
    """Write every table, the warnings and finally the manifest, recording each path."""

    def keep(path: Path) -> Path:
        written.append(path)
        return path

    reps, summary, verification = summaries
    io.write_csv(keep(run_dir / "replications.csv"), reps)
    io.write_csv(keep(run_dir / "summary.csv"), summary)
    io.write_csv(keep(run_dir / "diagnostics.csv"), diagnostics_table(results))
    if verification is not None:
        io.write_csv(keep(run_dir / "verification.csv"), verification)
    tables: dict[str, Any] = {"timeseries": None}
    # The daily series and the event log when the output settings ask for them; any other
    # table a model returns (e.g. the care model's practices by quarter) always.
    enabled = {"timeseries": params.output.timeseries, "events": params.output.event_log}
    names = sorted({name for r in results for name in r.tables})
    for name in names:
        if not enabled.get(name, True):
            continue
        tables[name] = stacked_table(results, name)
        if tables[name] is not None:
            io.write_parquet(keep(run_dir / f"{name}.parquet"), tables[name])
    scenario = " ".join(overrides) or "defaults"
    warnings = warmup.run_warnings(
        params.kind, params.model, tables["timeseries"], params.run.warm_up, scenario,
        horizon=params.run.horizon,
    )  # fmt: skip
    choice = timing["replication_choice"]
    if choice is not None and not choice.met:
        warnings.append(precision_warning(choice, scenario))
    document = warmup.warnings_document(warnings, scenario)
    io.write_json(keep(run_dir / warmup.WARNINGS_FILE), document)
    manifest = build_manifest(
        resolved=resolved,
        overrides=overrides,
        wall_seconds=timing["wall"],
        cpu_seconds=timing["cpu"],
        extra={
            "cache_key": timing["cache_key"],
            "meaningful": document["meaningful"],
            "verdict": document["verdict"],
            "replications_auto": choice.record() if choice is not None else None,
        },
    )
    io.write_json(keep(run_dir / "run.json"), manifest)
    return warnings


def precision_warning(choice: ReplicationChoice, scenario: str) -> warmup.RunWarning:
    """A caution that ``run.replications=auto`` hit its cap before the precision target."""
    worst = max(choice.reached, key=lambda k: choice.reached[k])
    return warmup.RunWarning(
        "precision_not_reached", warmup.CAUTION, scenario, worst,
        f"run.max_replications ({choice.maximum}) was reached before every headline KPI's "
        f"95% CI half-width was within {choice.target:.2%} of its mean (worst: {worst}, "
        f"{choice.reached[worst]:.1%}); raise run.max_replications or relax run.precision",
        choice.record(),
    )  # fmt: skip
