"""Warnings that follow from the care model's parameters alone, before any data.

Registered as ``MODELS["care"].checks``; the experiment layer calls it for every run, so
generic code needs no branch on the model kind.
"""

from __future__ import annotations

from typing import Any

from sim.analysis.warmup import CAUTION, RunWarning


def practice_warnings(model: Any, scenario: str = "run") -> list[RunWarning]:
    """A workforce that gives practices no GP appointments is allowed, and said so.

    Parameters
    ----------
    model
        The validated care-model parameters (:class:`sim.models.care.params.CareParams`).
    scenario
        Label for the records.

    Returns
    -------
    list[RunWarning]
        One ``no_gp_capacity`` caution when no practice has GP sessions to give (no GP FTE,
        or no appointments a GP session); nurses and other roles still give appointments.
    """
    wf = model.model.practices.workforce
    per_session = wf.appointments_per_session.get("gp", 0.0)
    if wf.gp_fte_per_10000_weighted > 0 and per_session > 0:
        return []
    return [
        RunWarning(
            "no_gp_capacity", CAUTION, scenario, "gp_gp_delivered_share",
            f"model.practices.workforce gives practices no GP appointments "
            f"(gp_fte_per_10000_weighted = {wf.gp_fte_per_10000_weighted:g}, "
            f"appointments_per_session.gp = {per_session:g}): every appointment is with a "
            f"nurse or another role, and continuity with a usual GP cannot be measured",
            {"gp_fte_per_10000_weighted": wf.gp_fte_per_10000_weighted,
             "gp_per_session": per_session},
        )
    ]  # fmt: skip
