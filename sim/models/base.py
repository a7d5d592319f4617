"""What every model hands back to the experiment layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only annotations here; the parent CLI process need not import pandas
    import pandas as pd


@dataclass(frozen=True)
class RunParams:
    """Validated run settings (see :class:`sim.config.schema.RunConfig`)."""

    seed: int
    replications: int
    horizon: float
    warm_up: float
    workers: int = 1
    progress: bool = True
    cache: bool = True
    auto: bool = False
    precision: float = 0.05
    max_replications: int = 50


@dataclass(frozen=True)
class OutputParams:
    """Validated output switches."""

    event_log: bool = False
    timeseries: bool = True


@dataclass
class ReplicationResult:
    """The outcome of one replication.

    Attributes
    ----------
    replication
        Replication index, from 0.
    metrics
        KPI name to value, measured after warm-up. Names follow ``<kpi>__<part>``.
    tables
        Optional tables, e.g. ``"timeseries"`` (daily series) or ``"events"`` (event log).
        Each gets a ``replication`` column added by the experiment layer.
    diagnostics
        Counts that describe the run itself (events processed, people still in service)
        rather than the system; they are reported but are not KPIs.
    """

    replication: int
    metrics: dict[str, float]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    diagnostics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    """How the experiment layer finds, validates and runs one kind of model.

    Attributes
    ----------
    kind
        The value of ``model.kind`` that selects this model.
    schema
        Structured-config dataclass for the ``model`` group.
    build
        Turns the whole resolved config (a plain dict) into frozen model parameters,
        raising :class:`sim.errors.ConfigError` for values that make no sense.
    simulate
        Runs one replication: ``simulate(model_params, run, output, replication)``.
    groups
        Further top-level config groups this model reads (e.g. ``place``), each with the
        structured-config dataclass that checks it.
    reference
        Optional: analytic values for the model's metrics (a table ``metric, theory``),
        or ``None`` where no exact result exists. Used to verify the engine.
    """

    kind: str
    schema: type
    build: Callable[[dict[str, Any]], Any]
    simulate: Callable[[Any, RunParams, OutputParams, int], ReplicationResult]
    groups: dict[str, type] = field(default_factory=dict)
    reference: Callable[[Any], pd.DataFrame | None] | None = None
