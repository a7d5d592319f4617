"""Each one-way sensitivity pair brackets the value it varies.

``scenarios/sensitivity/<name>_low.yaml`` and ``<name>_high.yaml`` move an assumed value
either side of the shipped one, for the tornado of ``assumption_sensitivity``. A recalibration
that moves the shipped value must move the pair too: when the council's pathway 1 packages
were re-tuned from 0.43 to 0.50 per 1,000, both files stayed below it, so "LA capacity high"
cut capacity. This test fails on any such pair, in every arrangement.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.analysis.provenance import leaves
from sim.config.compose import compose_config
from sim.config.params import lookup, to_container
from sim.paths import conf_dir, scenarios_dir

SENSITIVITY = scenarios_dir() / "sensitivity"
ARRANGEMENTS = sorted(p.stem for p in (conf_dir() / "lead_provider").glob("*.yaml"))


def _overrides(path: Path) -> dict[str, Any]:
    """Numeric values a sensitivity file sets, by dotted key from the config's root."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {}
    for group, section in data.items():
        for key, value in leaves({k: v for k, v in section.items() if k != "basis"}):
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[f"{group}.{key}"] = float(value)
    return out


def _pairs() -> list[str]:
    lows = {p.stem[: -len("_low")] for p in SENSITIVITY.glob("*_low.yaml")}
    highs = {p.stem[: -len("_high")] for p in SENSITIVITY.glob("*_high.yaml")}
    return sorted(lows & highs)


@functools.cache
def _shipped(arrangement: str) -> dict[str, Any]:
    return to_container(compose_config(["model=care", f"lead_provider={arrangement}"]))


def test_every_low_file_has_a_high_file():
    lows = {p.stem[: -len("_low")] for p in SENSITIVITY.glob("*_low.yaml")}
    highs = {p.stem[: -len("_high")] for p in SENSITIVITY.glob("*_high.yaml")}
    assert lows == highs


@pytest.mark.parametrize("name", _pairs())
def test_the_pair_brackets_the_shipped_value_in_every_arrangement(name):
    low = _overrides(SENSITIVITY / f"{name}_low.yaml")
    high = _overrides(SENSITIVITY / f"{name}_high.yaml")
    keys = set(low) & set(high)
    assert keys, f"{name}: the pair sets no numeric value in common"
    for arrangement in ARRANGEMENTS:
        config = _shipped(arrangement)
        for key in sorted(keys):
            shipped = float(lookup(config, key))
            lo, hi = sorted((low[key], high[key]))
            assert lo <= shipped <= hi, (
                f"{name}: {key} is {shipped:g} in {arrangement}, outside the pair's "
                f"{low[key]:g} (low) and {high[key]:g} (high)"
            )
