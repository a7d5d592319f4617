"""Reading the schemas' type annotations: what a config value is declared to be."""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import is_dataclass
from typing import Any


@functools.cache
def type_hints(schema: type) -> dict[str, Any]:
    """The resolved annotations of a schema dataclass (cached: validation asks often)."""
    return typing.get_type_hints(schema)


def without_none(annotation: Any) -> Any:
    """``X`` from ``X | None`` (or ``Optional[X]``); any other annotation unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else None
    return annotation


def as_declared_floats(data: Any, annotation: Any) -> Any:
    """A copy of ``data`` with whole numbers made floats wherever ``annotation`` wants a float.

    OmegaConf 2.3 accepts ``0`` for a ``float`` field but refuses it inside a row of rows
    (``Dict[str, Dict[str, float]]``), so ``care_home: 0`` would be "the wrong type" while
    ``care_home: 0.0`` is fine. Converting first makes the two mean the same; anything else
    (strings, lists where numbers belong) is left for the schema to refuse.
    """
    declared = without_none(annotation)
    if declared is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if isinstance(data, dict):
        if is_dataclass(declared):
            hints = type_hints(declared)
            return {k: as_declared_floats(v, hints.get(k)) for k, v in data.items()}
        args = typing.get_args(declared)
        if typing.get_origin(declared) is dict and len(args) == 2:
            return {k: as_declared_floats(v, args[1]) for k, v in data.items()}
    if isinstance(data, list):
        args = typing.get_args(declared)
        if typing.get_origin(declared) in (list, tuple) and args:
            return [as_declared_floats(v, args[0]) for v in data]
    return data


def shape_mismatch(data: Any, annotation: Any, key: str = "") -> tuple[str, Any, str] | None:
    """The first place where ``data`` has a list for a mapping or a mapping for a list.

    OmegaConf reports such a value as "Cannot merge DictConfig with ListConfig" with no key;
    finding it first lets the message name the key and the value.

    Returns
    -------
    tuple or None
        ``(dotted key, value, what is expected)``, or None when the shapes agree.
    """
    declared = without_none(annotation)
    origin = typing.get_origin(declared)
    wants_mapping = is_dataclass(declared) or origin is dict
    wants_list = origin in (list, tuple)
    if wants_mapping and isinstance(data, list):
        return key, data, "must be a mapping (key: value), not a list"
    if wants_list and isinstance(data, dict):
        return key, data, "must be a list, not a mapping"
    if isinstance(data, dict) and wants_mapping:
        if is_dataclass(declared):
            hints = type_hints(declared)
            items = [(k, v, hints.get(k)) for k, v in data.items()]
        else:
            inner = typing.get_args(declared)[1] if len(typing.get_args(declared)) == 2 else None
            items = [(k, v, inner) for k, v in data.items()]
        for k, v, ann in items:
            found = shape_mismatch(v, ann, f"{key}.{k}" if key else str(k))
            if found:
                return found
    if isinstance(data, list) and wants_list and typing.get_args(declared):
        for i, v in enumerate(data):
            found = shape_mismatch(v, typing.get_args(declared)[0], f"{key}.{i}")
            if found:
                return found
    return None
