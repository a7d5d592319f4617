"""The ``distributed`` tier: checks that need a cluster runtime (Ray) and its extra.

They run only when asked for by marker: ``pytest -m distributed``, in an environment with
``pip install -e ".[dev,ray]"``. The marker is registered in pyproject.toml; the tests are
deselected here when no ``-m`` expression is given at all, so the tier stays out of a plain
``pytest`` run.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.option.markexpr:  # an explicit -m (or addopts' -m) decides
        return
    chosen, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("distributed") else chosen).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = chosen
