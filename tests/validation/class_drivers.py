"""Tiny driver processes that put each engine resource class under Poisson load.

The validation tier checks the classes of :mod:`sim.engine` twice: through the queue model
(``test_queueing_theory.py``) and here, directly, with nothing between the class and a
source of Poisson arrivals and exponential services. Each driver returns the resource's own
tallies after the warm-up, so a wrong tally fails as surely as a wrong queue.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence

import numpy as np
import simpy

from sim.engine import Level, Marks, Servers, TimeWeighted
from sim.rng import Streams

Make = Callable[[simpy.Environment, float], Servers]
"""Build the resource under test from the environment and the warm-up."""

Use = Callable[[Servers, int], simpy.Event]
"""Ask the resource for service for a customer of class ``k`` (``request``, ``enrol``...)."""


def _request(resource: Servers, k: int) -> simpy.Event:
    return resource.request(k)


def drive(
    make: Make,
    rates: Sequence[float],
    mu: float,
    *,
    horizon: float,
    warm_up: float,
    seed: int,
    replication: int,
    use: Use = _request,
) -> dict[str, float]:
    """Poisson arrivals of several classes, exponential service, one process per customer.

    Parameters
    ----------
    make
        Builds the resource (given the environment and the warm-up).
    rates
        Arrival rate of each class, class 0 first.
    mu
        Service rate, the same for every class.
    horizon, warm_up
        Run length and the initial period the tallies ignore.
    seed, replication
        Select the named streams (``arrivals``, ``service``, ``class``).
    use
        How a customer asks for service.

    Returns
    -------
    dict
        ``wait_mean`` (pooled) and ``wait_mean_p<k>``, ``wait_probability``, ``loss``
        (refused or timed out), ``present_mean``, ``busy_mean``, ``waiting_mean``,
        ``accepted_rate`` (requests not lost per unit time after the warm-up).
    """
    env = simpy.Environment()
    resource = make(env, warm_up)
    streams = Streams(seed, replication)
    arrivals, services = streams.buffered("arrivals"), streams.buffered("service")
    classes = streams.buffered("class")
    lam = float(sum(rates))
    cum = (np.cumsum(rates) / lam).tolist()

    def customer(k: int, service: float) -> Generator[simpy.Event, None, None]:
        with use(resource, k) as req:
            if (yield req):
                yield env.timeout(service)

    def source() -> Generator[simpy.Event, None, None]:
        while True:
            yield env.timeout(arrivals.exponential(1.0 / lam))
            u = classes.uniform() if len(cum) > 1 else 0.0
            k = next((i for i, c in enumerate(cum) if u < c), len(cum) - 1)
            env.process(customer(k, services.exponential(1.0 / mu)))

    env.process(source())
    env.run(until=horizon)
    return summary(resource, horizon)


def summary(resource: Servers, horizon: float) -> dict[str, float]:
    """The resource's tallies over ``[warm_up, horizon]`` as a flat dict."""
    span = horizon - resource.warm_up
    requested = sum(resource.requested)
    lost = sum(resource.refused) + sum(resource.timed_out)
    granted = sum(resource.wait_count)
    out = {
        "wait_mean": sum(resource.wait_sum) / granted,
        "wait_probability": sum(resource.waited) / granted,
        "loss": lost / requested,
        "present_mean": resource.present_mean(horizon),
        "busy_mean": resource.busy_mean(horizon),
        "waiting_mean": resource.waiting_mean(horizon),
        "accepted_rate": (requested - lost) / span,
    }
    for k, w in enumerate(resource.waits()):
        out[f"wait_mean_p{k}"] = w
    return out


def drive_tandem_with_feedback(
    make: Make,
    lam: float,
    mu: tuple[float, float],
    feedback: float,
    *,
    horizon: float,
    warm_up: float,
    seed: int,
    replication: int,
) -> dict[str, float]:
    """A two-node Jackson network on two resources: external arrivals at node a, then b;
    after b a customer returns to a with probability ``feedback``, else leaves.

    Returns node a's and b's summaries, keys suffixed ``__a`` and ``__b``.
    """
    env = simpy.Environment()
    nodes = (make(env, warm_up), make(env, warm_up))
    streams = Streams(seed, replication)
    arrivals = streams.buffered("arrivals")
    services = (streams.buffered("service/a"), streams.buffered("service/b"))
    routing = streams.buffered("routing")

    def customer() -> Generator[simpy.Event, None, None]:
        while True:
            for i in (0, 1):
                with nodes[i].request() as req:
                    yield req
                    yield env.timeout(services[i].exponential(1.0 / mu[i]))
            if routing.uniform() >= feedback:
                return

    def source() -> Generator[simpy.Event, None, None]:
        while True:
            yield env.timeout(arrivals.exponential(1.0 / lam))
            env.process(customer())

    env.process(source())
    env.run(until=horizon)
    out: dict[str, float] = {}
    for name, node in zip("ab", nodes, strict=True):
        out |= {f"{key}__{name}": v for key, v in summary(node, horizon).items()}
    return out


def drive_infinite_servers(
    lam: float,
    mu: float,
    *,
    horizon: float,
    warm_up: float,
    seed: int,
    replication: int,
    watch: Sequence[int] = (0,),
) -> dict[str, float]:
    """M/M/∞ on ``Servers(math.inf)``, with the number present also kept by an engine
    :class:`~sim.engine.Level` (``add(now, ±1)``, marks at every whole time unit, the warm-up
    and the horizon) and by time-weighted monitors of N² and of each ``N == k`` in ``watch``.

    Returns
    -------
    dict
        The resource's :func:`summary` plus ``present_sq_mean`` (time-average of N²),
        ``p<k>`` (share of time with N = k), ``level_mean`` (the Level's mean over
        ``[warm_up, horizon]``) and ``level_daily_mean`` (the mean of its daily means
        over the same whole days).
    """
    env = simpy.Environment()
    resource = Servers(env, math.inf, warm_up=warm_up)
    marks = Marks(int(horizon), warm_up, horizon)
    level = Level(marks)
    square = TimeWeighted(start=warm_up)
    shares = {k: TimeWeighted(start=warm_up, value=float(k == 0)) for k in watch}
    streams = Streams(seed, replication)
    arrivals, services = streams.buffered("arrivals"), streams.buffered("service")

    def changed(delta: int) -> None:
        now, n = env.now, resource.present
        level.add(now, delta)
        square.update(now, float(n * n))
        for k, monitor in shares.items():
            monitor.update(now, float(n == k))

    def customer(service: float) -> Generator[simpy.Event, None, None]:
        with resource.request() as req:
            yield req
            changed(+1)
            yield env.timeout(service)
        changed(-1)

    def source() -> Generator[simpy.Event, None, None]:
        while True:
            yield env.timeout(arrivals.exponential(1.0 / lam))
            env.process(customer(services.exponential(1.0 / mu)))

    env.process(source())
    env.run(until=horizon)
    first, last = math.ceil(warm_up), int(horizon)
    out = summary(resource, horizon)
    out |= {
        "present_sq_mean": square.mean(horizon),
        "level_mean": level.mean(warm_up, horizon),
        "level_daily_mean": float(level.daily_means(last)[first:].mean()),
        "daily_span_mean": level.mean(float(first), float(last)),
    }
    out |= {f"p{k}": monitor.mean(horizon) for k, monitor in shares.items()}
    return out
