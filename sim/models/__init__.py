"""The model registry: ``model.kind`` selects one :class:`~sim.models.base.ModelSpec`.

Simulation code is imported lazily, so validating a config (and rejecting a bad one)
never pays for importing SimPy and the model modules.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from sim.models.base import ModelSpec
from sim.models.care import estimate as _care_estimate
from sim.models.care import params as _care_params
from sim.models.care import schema as _care_schema
from sim.models.queue_network import estimate as _queue_estimate
from sim.models.queue_network import params as _queue_params


def _lazy(module: str, attr: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(module), attr)(*args, **kwargs)

    call.__qualname__ = f"{module}.{attr}"
    return call


MODELS: dict[str, ModelSpec] = {
    "queue": ModelSpec(
        kind="queue",
        schema=_queue_params.QueueModelConfig,
        build=_queue_params.build,
        simulate=_lazy("sim.models.queue_network.simulate", "simulate"),
        reference=_lazy("sim.models.queue_network.theory", "theory_table"),
        headline_prefixes=("wait_mean__", "sojourn_mean__"),
        estimate=_queue_estimate.estimate,
    ),
    "care": ModelSpec(
        kind="care",
        schema=_care_schema.CareModelConfig,
        build=_care_params.build,
        simulate=_lazy("sim.models.care.model", "simulate"),
        groups={
            "place": _care_schema.PlaceSchema,
            "lead_provider": _care_schema.LeadProviderSchema,
        },
        headline=(
            "emergency_admissions_per_1000",
            "bed_occupancy_mean",
            "delayed_discharge_bed_days_per_1000",
            "gp_routine_wait_mean_days",
            "gp_continuity_upc",
            "death_place_home_share",
            "emergency_admissions_ratio_q5_q1",
            "cost_per_capita",
        ),
        baseline="status_quo",
        estimate=_care_estimate.estimate,
    ),
}
