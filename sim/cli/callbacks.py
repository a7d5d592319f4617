"""Hydra callbacks: what happens when a sweep ends.

Hydra 1.3.8 skips ``on_multirun_end`` when any job fails, so everything done here can also
be done by hand: ``python -m sim.analysis.compare <sweep_dir>`` and
``python -m sim.report <sweep_dir>``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class SweepSummary(Callback):
    """After a sweep: paired comparison across its jobs, then figures and the report."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Write ``comparison.csv`` (and the report, when available) into the sweep directory."""
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            from sim.analysis import compare

            compare.main([str(sweep_dir)])
        except Exception as exc:  # a summary must never turn a finished sweep into a failure
            print(f"nhsim: comparison skipped: {exc}", file=sys.stderr)
            return
        try:
            from sim.report import build as report

            report.main([str(sweep_dir)])
        except Exception as exc:
            print(f"nhsim: report skipped: {exc}", file=sys.stderr)
