"""Structured-config schemas (mutable dataclasses registered in Hydra's ConfigStore).

Schemas stay mutable because a frozen dataclass breaks every Hydra override; the
validated parameters built from them (:mod:`sim.config.params`) are frozen instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore


@dataclass
class RunConfig:
    """How long, how often and how to run. Times are in the model's time unit."""

    seed: int = 20261125
    replications: Any = 5  # a whole number, or "auto" (see sim/analysis/replication_number.py)
    precision: float = 0.05
    max_replications: int = 50
    horizon: float = 365.0
    warm_up: float = 60.0
    workers: int = 1
    progress: bool = True
    cache: bool = True
    # Replace a finished run already in the run directory (sim/run/storage.py); without it
    # such a directory is refused, so no run is ever overwritten silently.
    overwrite: bool = False


@dataclass
class OutputConfig:
    """What each run writes besides the summary tables."""

    event_log: bool = False
    timeseries: bool = True


@dataclass
class AnalysisConfig:
    """How a sweep's results are compared; read by the analysis layer, never by the model."""

    # The scenario every other is compared against. null: the model's own default
    # (ModelSpec.baseline). An experiment declares it once here; compare, the report and every
    # figure read it from the jobs' saved config.
    baseline: str | None = None


@dataclass
class RootConfig:
    """The whole composed config. ``model`` is checked against its own kind's schema."""

    run: RunConfig = field(default_factory=RunConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    model: Any = None
    place: Any = None
    lead_provider: Any = None


def register(store: ConfigStore | None = None) -> None:
    """Register the schemas so YAML files can name them in their defaults lists."""
    from sim.models import MODELS

    store = store or ConfigStore.instance()
    store.store(name="root_schema", node=RootConfig)
    for spec in MODELS.values():
        store.store(group="model", name=f"{spec.kind}_schema", node=spec.schema)
        for group, schema in spec.groups.items():
            store.store(group=group, name=f"{group}_schema", node=schema)
