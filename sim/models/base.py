"""What every model hands back to the experiment layer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.models.kpi import KpiSet

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


# Memory of the interpreter with the simulator's imports, before any model data (MB).
BASE_MB = 150.0


@dataclass(frozen=True)
class Estimate:
    """Expected peak memory of one replication process and its single-core wall time.

    Attributes
    ----------
    peak_gb, seconds_per_replication
        The estimate, erring on the side of more.
    key, value
        The config key most responsible for the size, and its value, to name in a refusal.
    size
        What is being simulated, in words (``"250,000 people for 1.2 simulated years"``).
    advice
        What to change to make the run smaller.
    """

    peak_gb: float
    seconds_per_replication: float
    key: str
    value: object
    size: str
    advice: str


@dataclass(frozen=True)
class CapacityLink:
    """A finite service, the daily series that shows how full it is, and the KPIs it limits.

    Attributes
    ----------
    service
        Plain name for a room, e.g. ``"End-of-life places"``.
    level, capacity
        Columns of ``timeseries.parquet``: places in use, and places there are.
    constrains
        KPIs that flow through this service: when it is full, their differences say more
        about its capacity than about the arrangements.
    queue
        True when people wait for it in a queue that grows while it is full (beds): pinned on
        nearly every day, the run has no steady state. False for a rationed service whose
        demand goes elsewhere when it is full (a caution only).
    """

    service: str
    level: str
    capacity: str
    constrains: tuple[str, ...] = ()
    queue: bool = False


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
    headline
        The KPIs a planner asks about first: the console, the report's first screen and
        ``run.replications=auto`` read them from here, so generic code names no KPI.
        Written once, as the ``headline`` ranks of the model's :attr:`kpis`.
    baseline
        The scenario every other is compared against when an experiment does not name one
        (``analysis.baseline``); ``None`` where the model has no natural baseline.
    headline_prefixes
        Metric-name prefixes that are headline too, for models whose metric names carry a
        part (``wait_mean__a``): the queueing models name their nodes in config.
    checks
        Optional: warnings that follow from the validated parameters alone, before any data
        (e.g. a queue whose traffic intensity is at least 1): ``checks(model_params, scenario)``
        returns a list of :class:`sim.analysis.warmup.RunWarning`.
    figures
        The report's figures that apply to this model, by name (the report's own registry).
    estimate
        Expected memory and time of one replication, from the validated parameters of a job
        (``estimate(params) -> Estimate``), checked before anything runs.
    capacity
        The model's finite services (:class:`CapacityLink`), for the capacity check and the
        report's notes beside the measures they limit.
    kpis
        Every KPI the model writes, described once (:class:`sim.models.kpi.KpiSet`): labels,
        units, better directions, definitions, sources, headline ranks and input echoes.
    cycle
        Optional: the length, in time units, of the cycle the model's output keeps repeating
        in its steady state (a seasonal year), from the validated parameters, or ``None``
        when the output settles to a stationary level. The warm-up analysis then compares
        whole cycles (:mod:`sim.analysis.warmup`).
    """

    kind: str
    schema: type
    build: Callable[[dict[str, Any]], Any]
    simulate: Callable[[Any, RunParams, OutputParams, int], ReplicationResult]
    groups: dict[str, type] = field(default_factory=dict)
    reference: Callable[[Any], pd.DataFrame | None] | None = None
    headline: tuple[str, ...] = ()
    baseline: str | None = None
    headline_prefixes: tuple[str, ...] = ()
    checks: Callable[[Any, str], list[Any]] | None = None
    figures: tuple[str, ...] = ()
    estimate: Callable[[Any], Estimate] | None = None
    capacity: tuple[CapacityLink, ...] = ()
    kpis: KpiSet = field(default_factory=KpiSet)
    cycle: Callable[[Any], float | None] | None = None

    def headline_metrics(self, metrics: Iterable[str]) -> list[str]:
        """The headline KPIs among ``metrics``, in the model's order, then by prefix."""
        present = list(metrics)
        named = [m for m in self.headline if m in present]
        prefixed = [m for m in present if m not in named and m.startswith(self.headline_prefixes)]
        return named + prefixed if self.headline_prefixes else named
