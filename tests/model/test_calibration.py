"""Calibration of the status quo on mnp_250k against parameters.md §6 (targets 1-10 and 12).

Slow: five replications of one simulated year after a 60-day warm-up. Run with ``-m slow``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.models.care.calibration import TARGETS, run_calibration


@pytest.mark.slow
def test_status_quo_meets_every_calibration_target():
    """The mean over replications of every required target KPI lies within its tolerance band
    (the split of delayed beds by reason, targets 8b-8e, is tuned towards and reported but
    not required: its replication noise is wider than its band)."""
    table = run_calibration(replications=5)
    required = np.array([t.required for t in TARGETS])
    assert required.sum() == len(TARGETS) - 4, "only the four reason shares may be optional"
    misses = table[~table["within"] & required]
    assert misses.empty, "targets missed:\n" + misses.to_string()
    assert len(table) == len(TARGETS)
    assert np.isfinite(table["mean"]).all(), table
