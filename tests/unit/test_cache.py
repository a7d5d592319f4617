"""The replication cache: exact round trips, keys that ignore only execution settings."""

from __future__ import annotations

import pandas as pd

from sim.models.base import ReplicationResult
from sim.run.cache import ReplicationCache, cache_key


def test_round_trip_is_exact(tmp_path):
    """A stored result loads back with identical metrics (bit for bit), order and tables."""
    table = pd.DataFrame({"time_days": [0.0, 1.0], "beds": [3.0, 4.0]})
    result = ReplicationResult(
        replication=3,
        metrics={"b": 0.1 + 0.2, "a": 1 / 3},
        tables={"timeseries": table},
        diagnostics={"events": 10.0},
    )
    cache = ReplicationCache(tmp_path, "k")
    assert cache.load(3) is None
    cache.store(result)
    loaded = cache.load(3)
    assert loaded is not None
    assert list(loaded.metrics.items()) == list(result.metrics.items())
    pd.testing.assert_frame_equal(loaded.tables["timeseries"], table)
    assert not [p for p in (tmp_path / "k").iterdir() if p.name.startswith(".tmp")]


def test_key_ignores_execution_settings_only():
    """Replications, workers, progress and cache flags do not change the key; a seed does."""
    base = {"run": {"seed": 1, "replications": 5, "workers": 1, "progress": True}, "model": {}}
    same = {"run": {"seed": 1, "replications": 50, "workers": 2, "progress": False}, "model": {}}
    other = {"run": {"seed": 2, "replications": 5, "workers": 1, "progress": True}, "model": {}}
    assert cache_key(base) == cache_key(same)
    assert cache_key(base) != cache_key(other)
