"""One run: validated parameters → replications → tables on disk.

The Hydra wrapper in :mod:`sim.cli.app` calls :func:`execute` with the run directory Hydra
made; tests call it directly with any directory.
"""

from __future__ import annotations

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
from sim.run.manifest import build_manifest
from sim.run.replications import (
    diagnostics_table,
    replications_table,
    run_replications,
    stacked_table,
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
    wall0, cpu0 = time.perf_counter(), time.process_time()
    cache = (
        ReplicationCache(outputs_root() / "cache", cache_key(resolved))
        if params.run.cache
        else None
    )
    choice = None
    if params.run.auto:
        results, choice = run_until_precise(params, cache=cache)
    else:
        results = run_replications(params, cache=cache)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0

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
    # Each file is written atomically; if the run is stopped between files, the ones
    # already written are removed, so a run directory holds all of its tables or none.
    written: list[Path] = []
    try:
        warnings = _write_tables(
            params, resolved, run_dir, overrides, results, (reps, summary, verification),
            timing, written,
        )  # fmt: skip
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    # The STRESS-DES report is generated from run.json, so it comes after the manifest.
    stress_des.write(run_dir, resolved)
    return RunOutcome(
        run_dir=run_dir, summary=summary, verification=verification, warnings=warnings
    )


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
    tables = {}
    for name, enabled in (
        ("timeseries", params.output.timeseries),
        ("events", params.output.event_log),
    ):
        tables[name] = stacked_table(results, name) if enabled else None
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
    io.write_json(run_dir / "run.json", manifest)
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
