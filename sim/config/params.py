"""Validate a composed config and freeze it into parameters, before anything runs."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from sim.config import checks
from sim.config.annotations import as_declared_floats, shape_mismatch
from sim.config.schema import OutputConfig, RootConfig, RunConfig
from sim.errors import ConfigError
from sim.models import MODELS
from sim.models.base import OutputParams, RunParams


@dataclass(frozen=True)
class Params:
    """Everything a run needs, validated and immutable."""

    run: RunParams
    output: OutputParams
    kind: str
    model: Any


def to_container(cfg: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """Resolve interpolations into a plain dict, turning failures into a :class:`ConfigError`."""
    if isinstance(cfg, dict):
        return cfg
    try:
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "config"
        # OmegaConf appends "full_key: ..., object_type=..." lines; one line is enough.
        reason = str(getattr(exc, "msg", None) or exc).strip().splitlines()[0]
        raise ConfigError(key, _raw_value(cfg, key), f"could not be resolved ({reason})") from None


def _raw_value(cfg: DictConfig, key: str) -> Any:
    """The value at dotted ``key`` as written (an unresolved ``${...}``), or ``None``."""
    node: Any = OmegaConf.to_container(cfg, resolve=False)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check_against_schema(data: dict[str, Any], schema: type, prefix: str) -> None:
    """Reject keys the schema does not know and values of the wrong type.

    ``+key=value`` overrides skip Hydra's schema, so the composed dict is merged into the
    structured schema once more here.
    """
    mismatch = shape_mismatch(data, schema)
    if mismatch:
        key, value, expected = mismatch
        raise ConfigError(_join(prefix, key), value, expected)
    try:
        OmegaConf.merge(_template(schema), as_declared_floats(data, schema))
    except ConfigKeyError as exc:
        key = _join(prefix, exc.full_key)
        hint = _unknown_key_hint(schema, exc.full_key)
        raise ConfigError(key, lookup(data, exc.full_key), hint) from None
    except ValidationError as exc:
        key = _join(prefix, exc.full_key)
        expected = getattr(exc, "ref_type", None) or "the schema's type"
        raise ConfigError(
            key,
            lookup(data, exc.full_key),
            f"has the wrong type ({_short(str(exc.msg))}; {expected})",
        ) from None
    except OmegaConfBaseException as exc:
        key = _join(prefix, getattr(exc, "full_key", "") or "")
        raise ConfigError(key or prefix or "config", None, _short(str(exc.msg))) from None


@functools.cache
def _template(schema: type) -> DictConfig:
    """The schema as an OmegaConf node, built once per schema.

    Building it from the dataclass costs about a third as much as the merge that checks a
    config against it, and ``OmegaConf.merge`` copies its first argument, so the cached
    node is never changed.
    """
    node = OmegaConf.structured(schema)
    assert isinstance(node, DictConfig)  # a dataclass always gives a mapping node
    OmegaConf.set_readonly(node, True)  # a stray write raises instead of leaking into later checks
    return node


def build_run(data: dict[str, Any]) -> RunParams:
    """Validate the ``run`` section."""
    horizon = checks.positive("run.horizon", data.get("horizon"))
    warm_up = checks.nonneg("run.warm_up", data.get("warm_up"))
    if warm_up >= horizon:
        raise ConfigError(
            "run.warm_up", data.get("warm_up"), f"must be shorter than run.horizon ({horizon:g})"
        )
    seed = checks.nonneg_int("run.seed", data.get("seed"))
    if seed >= 2**63:
        raise ConfigError("run.seed", seed, "must be below 2**63")
    raw = data.get("replications")
    auto = raw == "auto"
    if not auto and isinstance(raw, str):
        raise ConfigError("run.replications", raw, "must be a whole number of at least 1, or auto")
    precision = checks.positive("run.precision", data.get("precision", 0.05))
    cap = checks.positive_int("run.max_replications", data.get("max_replications", 50))
    if auto and cap < 2:
        raise ConfigError("run.max_replications", cap, "must be at least 2 with replications=auto")
    return RunParams(
        seed=seed,
        replications=cap if auto else checks.positive_int("run.replications", raw),
        auto=auto,
        precision=precision,
        max_replications=cap,
        horizon=horizon,
        warm_up=warm_up,
        workers=checks.positive_int("run.workers", data.get("workers")),
        progress=bool(data.get("progress", True)),
        cache=bool(data.get("cache", True)),
    )


def validate(cfg: DictConfig | dict[str, Any]) -> Params:
    """Turn a composed config into frozen :class:`Params`, or raise :class:`ConfigError`.

    Parameters
    ----------
    cfg
        The composed Hydra config (or the same as a plain dict).
    """
    data = to_container(cfg)
    if not isinstance(data.get("model"), dict):
        raise ConfigError("model", data.get("model"), "must name a model, e.g. model=care")
    kind = data["model"].get("kind")
    spec = MODELS.get(kind)
    if spec is None:
        raise ConfigError("model.kind", kind, "must be one of " + ", ".join(sorted(MODELS)))
    root = {k: v for k, v in data.items() if k not in ("model", "place", "lead_provider")}
    check_against_schema(root, RootConfig, "")
    check_against_schema(data["model"], spec.schema, "model")
    for group, schema in spec.groups.items():
        if not isinstance(data.get(group), dict):
            raise ConfigError(group, data.get(group), f"model={kind} needs the {group} group")
        check_against_schema(data[group], schema, group)
    run = build_run({**_defaults(RunConfig), **data.get("run", {})})
    out = {**_defaults(OutputConfig), **data.get("output", {})}
    output = OutputParams(event_log=bool(out["event_log"]), timeseries=bool(out["timeseries"]))
    return Params(run=run, output=output, kind=kind, model=spec.build(data))


def _defaults(schema: type) -> dict[str, Any]:
    assert is_dataclass(schema)
    return {f.name: getattr(schema(), f.name) for f in fields(schema)}


def _join(prefix: str, key: object) -> str:
    """``prefix.key``, with OmegaConf's list indices (``mix[0]``) written as ``mix.0``.

    Every other message names a list item by its index after a dot, as the command line
    does (``priority_mix.0=...``).
    """
    key = _dotted(key)
    return f"{prefix}.{key}" if prefix and key else (prefix or key)


def _dotted(key: object) -> str:
    """OmegaConf's ``mix[0]`` as ``mix.0``."""
    return re.sub(r"\[(\d+)\]", r".\1", str(key or ""))


def lookup(data: dict[str, Any], dotted: object) -> object:
    """The value at a dotted key (list items by index, ``mix.0`` or ``mix[0]``), or None."""
    node: Any = data
    for part in _dotted(dotted).split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _unknown_key_hint(schema: type, dotted: object) -> str:
    parent = ".".join(str(dotted or "").split(".")[:-1])
    root = OmegaConf.structured(schema)
    node = OmegaConf.select(root, parent) if parent else root
    typed = isinstance(node, DictConfig) and OmegaConf.get_type(node) not in (dict, None)
    if typed:
        return "is not a recognised key; allowed here: " + ", ".join(map(str, node.keys()))
    return "is not a recognised key"


def _short(msg: str) -> str:
    return " ".join(str(msg).split("\n")[0].split())
