"""Validation turns a composed config into frozen parameters, or one clear error."""

from __future__ import annotations

import dataclasses

import pytest

from sim.config.params import validate
from sim.errors import ConfigError


def test_default_queue_config_validates(compose_cfg):
    """The shipped verification config is valid and frozen."""
    params = validate(compose_cfg("model=queue"))
    assert params.kind == "queue"
    assert params.model.node("a").servers == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.run.seed = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("override", "key", "fragment"),
    [
        ("run.warm_up=30000", "run.warm_up", "shorter than run.horizon"),
        ("run.replications=0", "run.replications", "at least 1"),
        ("run.horizon=-5", "run.horizon", "greater than 0"),
        ("model.nodes.a.servers=0", "model.nodes.a.servers", "at least 1"),
        ("model.nodes.a.service_rate=inf", "model.nodes.a.service_rate", "finite"),
        ("model.nodes.a.arrival_rate=-1", "model.nodes.a.arrival_rate", "at least 0"),
        ("model.nodes.a.capacity=3", "model.nodes.a.capacity", "number of servers"),
        ("+model.nodes.a.routing.a=1.5", "model.nodes.a.routing.a", "between 0 and 1"),
        ("+model.nodes.a.routing.zz=0.5", "model.nodes.a.routing.zz", "unknown node"),
        ("model.nodes.a.discipline=lifo", "model.nodes.a.discipline", "fifo, priority"),
        ("+model.nodes.a.speed=2", "model.nodes.a.speed", "not a recognised key"),
        ("+colour=blue", "colour", "not a recognised key"),
    ],
)
def test_bad_values_name_key_value_and_rule(compose_cfg, override, key, fragment):
    """Each bad value raises a ConfigError whose message names the key and what is allowed."""
    with pytest.raises(ConfigError) as info:
        validate(compose_cfg("model=queue", override))
    message = str(info.value)
    assert info.value.key == key, message
    assert fragment in message, message
    assert "\n" not in message, message


def test_routing_rows_must_sum_to_at_most_one(compose_cfg):
    """Routing probabilities above 1 in total are rejected, naming the row and its sum."""
    cfg = compose_cfg("model=jackson3", "model.nodes.a.routing.b=0.8")
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    assert info.value.key == "model.nodes.a.routing"
    assert "sum to 1.1" in str(info.value), str(info.value)
