"""Regression baselines: fixed configs whose every KPI must not change unless we mean it to.

Each case is run once, one replication at a time, and each metric compared with the stored
value in ``baselines.json`` to 1e-9 relative (the model is deterministic for a seed, so any
difference is a change in behaviour, not noise). When a change is intended, regenerate the
file and say why in the commit::

    .venv/bin/python tests/regression/test_baselines.py

and review the diff of ``baselines.json``: it shows exactly which KPIs moved and by how much.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from sim.config.compose import compose_params
from sim.models import MODELS

BASELINES = Path(__file__).with_name("baselines.json")
CASES: dict[str, list[str]] = {
    "care_status_quo_50k": [
        "model=care", "place=neighbourhood_50k", "run.horizon=150", "run.warm_up=30",
    ],
    "care_federation_led_50k": [
        "model=care", "place=neighbourhood_50k", "lead_provider=federation_led",
        "run.horizon=150", "run.warm_up=30",
    ],
    "queue_mm5": ["model=queue", "run.horizon=2000", "run.warm_up=200"],
    "queue_jackson3": ["model=jackson3", "run.horizon=2000", "run.warm_up=200"],
}  # fmt: skip
REPLICATIONS = (0, 1)


def simulate(case: str) -> dict[str, dict[str, float]]:
    """``{replication: {metric: value}}`` for one case."""
    params = compose_params([*CASES[case], "run.cache=false", "output.timeseries=false"])
    spec = MODELS[params.kind]
    return {
        str(r): spec.simulate(params.model, params.run, params.output, r).metrics
        for r in REPLICATIONS
    }


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.fixture(scope="module")
def stored() -> dict:
    return json.loads(BASELINES.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", list(CASES))
def test_kpis_match_the_stored_baseline(case: str, stored: dict) -> None:
    """Every KPI of every replication equals its baseline; none appears or disappears."""
    assert case in stored, f"no baseline for {case}: regenerate baselines.json"
    now = simulate(case)
    for rep, metrics in stored[case].items():
        assert set(now[rep]) == set(metrics), (
            f"{case} rep {rep}: KPIs added {sorted(set(now[rep]) - set(metrics))}, "
            f"removed {sorted(set(metrics) - set(now[rep]))}"
        )
        moved = {
            k: (metrics[k], now[rep][k]) for k in metrics if not _same(metrics[k], now[rep][k])
        }
        assert not moved, f"{case} rep {rep}: {len(moved)} KPIs moved (was, now): {moved}"


def main() -> None:
    """Regenerate ``baselines.json`` from the current code."""
    data = {case: simulate(case) for case in CASES}
    BASELINES.write_text(json.dumps(data, indent=1, sort_keys=True, allow_nan=True) + "\n")
    print(f"wrote {BASELINES} ({sum(len(v['0']) for v in data.values())} KPIs per replication)")


if __name__ == "__main__":
    sys.exit(main())
