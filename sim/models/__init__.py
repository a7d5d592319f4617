"""The model registry: ``model.kind`` selects one :class:`~sim.models.base.ModelSpec`.

Simulation code is imported lazily, so validating a config (and rejecting a bad one)
never pays for importing SimPy and the model modules.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from sim.models.base import ModelSpec
from sim.models.care import params as _care_params
from sim.models.care import schema as _care_schema
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
    ),
}
