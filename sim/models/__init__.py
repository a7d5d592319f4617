"""The model registry: ``model.kind`` selects one :class:`~sim.models.base.ModelSpec`.

Simulation code is imported lazily, so validating a config (and rejecting a bad one)
never pays for importing SimPy and the model modules.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from sim.models.base import CapacityLink, ModelSpec
from sim.models.care import estimate as _care_estimate
from sim.models.care import kpi_registry as _care_kpis
from sim.models.care import params as _care_params
from sim.models.care import schema as _care_schema
from sim.models.queue_network import estimate as _queue_estimate
from sim.models.queue_network import kpi_registry as _queue_kpis
from sim.models.queue_network import params as _queue_params


def _lazy(module: str, attr: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(module), attr)(*args, **kwargs)

    call.__qualname__ = f"{module}.{attr}"
    return call


_ADMISSIONS = ("emergency_admissions_per_1000", "emergency_admissions_ratio_q5_q1")
_BEDS = ("bed_occupancy_mean", "delayed_discharge_bed_days_per_1000", "los_mean_days")
# The care model's finite services and the KPIs that flow through each (see docs/model.md).
_CARE_CAPACITY = (
    CapacityLink(
        "Hospital beds", "beds_occupied", "bed_capacity",
        (*_ADMISSIONS, *_BEDS, "ed_within_4h_share", "cost_per_capita"), queue=True,
    ),
    CapacityLink(
        "Step-down places", "step_down_patients", "step_down_patients_capacity", _BEDS,
    ),
    CapacityLink(
        "Virtual-ward places", "virtual_ward_patients", "virtual_ward_patients_capacity",
        (*_BEDS, *_ADMISSIONS),
    ),
    CapacityLink(
        "Care-home places", "care_home_residents", "care_home_residents_capacity",
        (*_BEDS, "death_place_care_home_share"),
    ),
    CapacityLink(
        "End-of-life places", "eol_caseload", "eol_caseload_capacity",
        ("death_place_home_share", "death_place_hospital_share", "emergency_admissions_per_1000"),
    ),
    CapacityLink(
        "ED clinicians", "ed_clinicians_busy", "ed_clinicians_capacity",
        ("ed_within_4h_share", "ed_type1_within_4h_share", "ed_time_in_department_mean_hours"),
        queue=True,
    ),
    CapacityLink(
        "UCR teams", "ucr_teams_busy", "ucr_teams_capacity",
        ("ucr_within_2h_share", "ucr_escalated_per_1000", "ed_attendances_per_1000"),
    ),
    CapacityLink(
        "Proactive-care places", "proactive_caseload", "proactive_caseload_capacity",
        (*_ADMISSIONS, "proactive_caseload_mean"),
    ),
)  # fmt: skip

MODELS: dict[str, ModelSpec] = {
    "queue": ModelSpec(
        kind="queue",
        schema=_queue_params.QueueModelConfig,
        build=_queue_params.build,
        simulate=_lazy("sim.models.queue_network.simulate", "simulate"),
        reference=_lazy("sim.models.queue_network.theory", "theory_table"),
        headline_prefixes=("wait_mean__", "sojourn_mean__"),
        estimate=_queue_estimate.estimate,
        checks=_lazy("sim.models.queue_network.checks", "stability_warnings"),
        figures=("forest", "dashboard"),
        kpis=_queue_kpis.KPIS,
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
        headline=_care_kpis.KPIS.headline,
        baseline="status_quo",
        estimate=_care_estimate.estimate,
        checks=_lazy("sim.models.care.checks", "practice_warnings"),
        capacity=_CARE_CAPACITY,
        cycle=_care_params.output_cycle,
        figures=(
            "forest",
            "dashboard",
            "areas",
            "hospital_pressure",
            "gp_access",
            "end_of_life",
            "equity",
            "money",
            "tornado",
            "flows",
            "practice_differences",
            "practice_margins",
            "practice_flows",
        ),  # fmt: skip
        kpis=_care_kpis.KPIS,
    ),
}
