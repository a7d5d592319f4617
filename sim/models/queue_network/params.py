"""Schema and validation for ``model=queue``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.config import checks
from sim.errors import ConfigError

SERVICE_DISTRIBUTIONS = ("exponential", "deterministic", "lognormal")
DISCIPLINES = ("fifo", "priority")


@dataclass
class QueueNodeConfig:
    """One service node. Rates are per unit of model time."""

    arrival_rate: float = 0.0
    servers: int = 1
    service_rate: float = 1.0
    service_distribution: str = "exponential"
    service_cv: float = 1.0
    capacity: int | None = None
    discipline: str = "fifo"
    priority_mix: list[float] = field(default_factory=lambda: [1.0])
    blocked_to: str | None = None
    routing: dict[str, float] = field(default_factory=dict)


@dataclass
class QueueModelConfig:
    """An open network of nodes with external Poisson arrivals and Markov routing."""

    kind: str = "queue"
    nodes: dict[str, QueueNodeConfig] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeParams:
    """A validated node.

    ``capacity`` counts everyone present, waiting or in service; ``None`` is unlimited.
    ``routing`` lists ``(target, probability)``; the remainder leaves the network.
    ``priority_mix`` gives the share of external arrivals in each priority class,
    class 0 served first (non-pre-emptive); a single entry means plain FIFO.
    """

    name: str
    arrival_rate: float
    servers: int
    service_rate: float
    service_distribution: str
    service_cv: float
    capacity: int | None
    discipline: str
    priority_mix: tuple[float, ...]
    blocked_to: str | None
    routing: tuple[tuple[str, float], ...]

    @property
    def service_mean(self) -> float:
        """Mean service time."""
        return 1.0 / self.service_rate


@dataclass(frozen=True)
class QueueModelParams:
    """A validated network; node order is the config's order."""

    nodes: tuple[NodeParams, ...]

    def node(self, name: str) -> NodeParams:
        """The node called ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


def build(data: dict[str, Any]) -> QueueModelParams:
    """Validate ``data["model"]`` into :class:`QueueModelParams`."""
    nodes_cfg = data["model"].get("nodes") or {}
    if not nodes_cfg:
        raise ConfigError("model.nodes", nodes_cfg, "must define at least one node")
    names = list(nodes_cfg)
    nodes = tuple(_build_node(name, nodes_cfg[name] or {}, names) for name in names)
    if sum(n.arrival_rate for n in nodes) <= 0:
        raise ConfigError(
            "model.nodes", "all arrival_rate = 0", "at least one node needs arrival_rate > 0"
        )
    return QueueModelParams(nodes=nodes)


def _build_node(name: str, cfg: dict[str, Any], names: list[str]) -> NodeParams:
    key = f"model.nodes.{name}"
    defaults = QueueNodeConfig()
    get = lambda k: cfg.get(k, getattr(defaults, k))  # noqa: E731
    servers = checks.positive_int(f"{key}.servers", get("servers"))
    capacity = get("capacity")
    if capacity is not None:
        capacity = checks.positive_int(f"{key}.capacity", capacity)
        if capacity < servers:
            raise ConfigError(
                f"{key}.capacity", capacity, f"must be at least the number of servers ({servers})"
            )
    routing = checks.distribution(f"{key}.routing", get("routing") or {}, exact=False)
    for target in routing:
        if target not in names:
            raise ConfigError(
                f"{key}.routing.{target}",
                routing[target],
                "routes to an unknown node; nodes: " + ", ".join(names),
            )
    blocked_to = get("blocked_to")
    if blocked_to is not None and (blocked_to not in names or blocked_to == name):
        raise ConfigError(f"{key}.blocked_to", blocked_to, "must be another node's name or null")
    discipline = checks.one_of(f"{key}.discipline", get("discipline"), DISCIPLINES)
    mix = get("priority_mix") or [1.0]
    mix_row = checks.distribution(f"{key}.priority_mix", {str(i): p for i, p in enumerate(mix)})
    if discipline == "fifo" and len(mix_row) > 1:
        raise ConfigError(
            f"{key}.priority_mix", mix, "needs discipline=priority for more than one class"
        )
    return NodeParams(
        name=name,
        arrival_rate=checks.nonneg(f"{key}.arrival_rate", get("arrival_rate")),
        servers=servers,
        service_rate=checks.positive(f"{key}.service_rate", get("service_rate")),
        service_distribution=checks.one_of(
            f"{key}.service_distribution", get("service_distribution"), SERVICE_DISTRIBUTIONS
        ),
        service_cv=checks.positive(f"{key}.service_cv", get("service_cv")),
        capacity=capacity,
        discipline=discipline,
        priority_mix=tuple(mix_row.values()),
        blocked_to=blocked_to,
        routing=tuple(routing.items()),
    )
