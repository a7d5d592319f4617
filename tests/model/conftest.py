"""Helpers for the care-model tests: compose, validate and run one short replication."""

from __future__ import annotations

import functools

import pytest

from sim.config.compose import compose_params
from sim.models import MODELS
from sim.models.base import ReplicationResult

SHORT = ("place=neighbourhood_50k", "run.horizon=150", "run.warm_up=30")


@functools.lru_cache(maxsize=32)
def _run(overrides: tuple[str, ...], replication: int) -> ReplicationResult:
    params = compose_params(["model=care", *SHORT, *overrides])
    return MODELS["care"].simulate(params.model, params.run, params.output, replication)


@pytest.fixture
def run_care():
    """Run (cached) one replication of the care model on neighbourhood_50k for 150 days."""

    def _call(*overrides: str, replication: int = 0, fresh: bool = False) -> ReplicationResult:
        if fresh:
            return _run.__wrapped__(tuple(overrides), replication)
        return _run(tuple(overrides), replication)

    return _call
