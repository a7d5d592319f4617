"""Run replications, serially or in worker processes, with identical results either way."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd

from sim import progress
from sim.config.params import Params
from sim.models import MODELS
from sim.models.base import ReplicationResult
from sim.run.cache import ReplicationCache


def run_replication(params: Params, replication: int) -> ReplicationResult:
    """Simulate one replication of the model that ``params`` describes."""
    spec = MODELS[params.kind]
    return spec.simulate(params.model, params.run, params.output, replication)


def _results(
    params: Params, replications: Sequence[int], workers: int
) -> Iterator[ReplicationResult]:
    if workers <= 1 or len(replications) <= 1:
        for r in replications:
            yield run_replication(params, r)
        return
    from joblib import Parallel, delayed

    # Every replication seeds its own named streams from (seed, replication, name), so the
    # process that runs it and the order they finish in cannot change a single number.
    parallel = Parallel(n_jobs=min(workers, len(replications)), return_as="generator_unordered")
    yield from parallel(delayed(run_replication)(params, r) for r in replications)


def run_replications(
    params: Params,
    replications: Sequence[int] | None = None,
    *,
    cache: ReplicationCache | None = None,
    desc: str = "replications",
) -> list[ReplicationResult]:
    """Run the given replications (default: all of ``params.run.replications``).

    Replications found in ``cache`` are loaded instead of simulated, and every newly
    finished one is stored at once, so an interrupted run loses nothing that had finished.
    Returns results sorted by replication index. A progress bar shows on a terminal only.
    """
    reps = list(range(params.run.replications)) if replications is None else list(replications)
    done = {r: hit for r in reps if cache and (hit := cache.load(r)) is not None}
    todo = [r for r in reps if r not in done]
    with progress.bar(len(todo), desc, "rep", enabled=params.run.progress) as shown:
        for result in _results(params, todo, params.run.workers):
            if cache is not None:
                cache.store(result)
            done[result.replication] = result
            shown.update()
    return [done[r] for r in sorted(done)]


def replications_table(results: Sequence[ReplicationResult]) -> pd.DataFrame:
    """Long table ``replication, metric, value`` in replication order, metrics in model order."""
    rows = [(r.replication, m, float(v)) for r in results for m, v in r.metrics.items()]
    return pd.DataFrame(rows, columns=["replication", "metric", "value"])


def stacked_table(results: Sequence[ReplicationResult], name: str) -> pd.DataFrame | None:
    """One model table (e.g. ``"timeseries"``) from every replication, with a replication column."""
    parts = []
    for r in results:
        frame = r.tables.get(name)
        if frame is not None:
            parts.append(frame.assign(replication=r.replication))
    if not parts:
        return None
    table = pd.concat(parts, ignore_index=True)
    return table[["replication", *[c for c in table.columns if c != "replication"]]]


def diagnostics_table(results: Sequence[ReplicationResult]) -> pd.DataFrame:
    """Long table ``replication, diagnostic, value``."""
    rows = [(r.replication, k, float(v)) for r in results for k, v in r.diagnostics.items()]
    return pd.DataFrame(rows, columns=["replication", "diagnostic", "value"])
