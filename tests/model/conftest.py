"""Helpers for the care-model tests: compose, validate and run one short replication."""

from __future__ import annotations

import functools

import pytest
from hydra import compose, initialize_config_dir

import sim.cli  # noqa: F401  (registers resolvers and schemas, as the CLI does)
from sim.models import MODELS
from sim.models.base import ReplicationResult
from sim.params import validate
from sim.paths import conf_dir

SHORT = ("place=neighbourhood_50k", "run.horizon=150", "run.warm_up=30")


@functools.lru_cache(maxsize=32)
def _run(overrides: tuple[str, ...], replication: int) -> ReplicationResult:
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["model=care", *SHORT, *overrides])
    params = validate(cfg)
    return MODELS["care"].simulate(params.model, params.run, params.output, replication)


@pytest.fixture
def run_care():
    """Run (cached) one replication of the care model on neighbourhood_50k for 150 days."""

    def _call(*overrides: str, replication: int = 0, fresh: bool = False) -> ReplicationResult:
        if fresh:
            return _run.__wrapped__(tuple(overrides), replication)
        return _run(tuple(overrides), replication)

    return _call
