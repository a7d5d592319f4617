"""Run-specific STRESS-DES items: inputs listed with their basis, never the basis as an input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.analysis import stress_des


def _run_dir(path: Path) -> Path:
    path.mkdir()
    (path / "run.json").write_text(json.dumps({"model": "care"}), encoding="utf-8")
    pd.DataFrame(
        {"metric": ["deaths_per_1000"], "mean": [9.0], "ci_low": [8.5], "ci_high": [9.5]}
    ).to_csv(path / "summary.csv", index=False)
    return path


def test_input_parameters_carry_their_basis(tmp_path: Path) -> None:
    """Item 3.3 lists every value with the basis its config gives, and no ``basis`` row."""
    config = {
        "run": {"seed": 1, "horizon": 425.0, "warm_up": 60.0},
        "lead_provider": {
            "continuity": 0.61,
            "governance_overhead": 0.05,
            "basis": {"continuity": "[src:barker-2017] (grade B): UPC 0.61"},
        },
    }
    text = stress_des.render(_run_dir(tmp_path / "run"), resolved=config)
    section = text.split("## 3.3 Input parameters")[1].split("## 4.1")[0]
    assert "| `lead_provider.continuity` | `0.61` | [src:barker-2017]" in section, section
    assert "| `lead_provider.governance_overhead` | `0.05` |  |" in section, section
    assert "basis." not in section.replace("| basis |", ""), section
