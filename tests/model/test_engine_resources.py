"""The care model queues only on the resource classes the validation tier checks.

Issue 16: "There must be one set of resource classes, used by both models". This walks a
built and run ``World`` (every attribute of every service, into lists, tuples and dicts),
collects every object that behaves as a resource (it can be asked for a place or a server:
``request``/``release`` or ``enrol``), and requires each to be an instance of a class that
``tests/validation/test_engine_classes.py`` checks against queueing theory.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import sim.engine
from sim.config.compose import compose_params
from sim.engine import Servers
from sim.models.care.model import World
from sim.models.care.pathway import urgent_episode

SHORT = ("place=neighbourhood_50k", "run.horizon=150", "run.warm_up=30")

VALIDATION = Path(__file__).parents[1] / "validation" / "test_engine_classes.py"


def _validated_classes() -> set[type]:
    """The sim.engine classes that the validation file imports (and so checks)."""
    tree = ast.parse(VALIDATION.read_text())
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "sim.engine"
        for alias in node.names
    }
    return {getattr(sim.engine, n) for n in names if isinstance(getattr(sim.engine, n), type)}


def _is_resource(obj: Any) -> bool:
    cls = type(obj)
    return (hasattr(cls, "request") and hasattr(cls, "release")) or hasattr(cls, "enrol")


def _resources(root: Any) -> list[Any]:
    """Every resource-like object reachable from ``root`` through attributes and containers
    (not through the SimPy environment, the population arrays or the world itself)."""
    found, seen, stack = [], set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool)) or obj is None:
            continue
        seen.add(id(obj))
        if _is_resource(obj):
            found.append(obj)
            continue
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set)):
            stack.extend(obj)
        elif type(obj).__module__.startswith("sim.models.care"):
            stack.extend(
                v
                for k, v in vars(obj).items()
                if k not in ("w", "env", "pop", "params", "streams", "log")
            )
    return found


def _world() -> World:
    params = compose_params(["model=care", *SHORT])
    world = World(params.model, params.run, 0)
    return world


def test_every_resource_of_the_world_is_a_validated_engine_class():
    """Each resource in the built World (beds, ED clinicians, step-down and virtual-ward
    places, EoL places, care homes, proactive caseloads, UCR rotas) is an instance of a
    class the validation tier checks, and all of those kinds are present."""
    validated = _validated_classes()
    world = _world()
    found = _resources(world)
    # The exact class: a subclass (say a private copy with opening hours) is not validated.
    wrong = sorted({type(r).__qualname__ for r in found if type(r) not in validated})
    assert not wrong, f"resources of classes the validation tier does not check: {wrong}"
    assert all(isinstance(r, Servers) for r in found), [type(r) for r in found]
    # The walk reached every service: at least one resource of each of these.
    h, c, m = world.hospital, world.community, world.mnp
    expected = [
        *h.beds, *h.ed, *c.step_down.pools, *m.virtual_ward.pools, *m.eol, *m.care_homes,
        *c.proactive.places, *(r for area in c.ucr.teams for r in area),
    ]  # fmt: skip
    missing = [r for r in expected if not any(r is f for f in found)]
    assert not missing, f"{len(missing)} resources of the services not reached by the walk"
    assert len(found) >= len(expected), (len(found), len(expected))


def test_the_urgent_pathway_is_a_generator_process():
    """An urgent episode is a generator (a SimPy process), not a callback."""
    world = _world()
    steps = urgent_episode(world, 0, 0, [0.5] * 13)
    assert hasattr(steps, "send") and hasattr(steps, "throw"), type(steps)
