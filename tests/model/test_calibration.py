"""Calibration of the status quo on mnp_250k against parameters.md §6 (targets 1-10 and 12).

Slow: five replications of one simulated year after a 60-day warm-up. Run with ``-m slow``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.models.care.calibration import TARGETS, run_calibration


@pytest.mark.slow
def test_status_quo_meets_every_calibration_target():
    """The mean over replications of every §6 target KPI lies within its tolerance band."""
    table = run_calibration(replications=5)
    misses = table[~table["within"]]
    assert misses.empty, "targets missed:\n" + misses.to_string()
    assert len(table) == len(TARGETS)
    assert np.isfinite(table["mean"]).all(), table
