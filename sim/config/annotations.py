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


def item_annotation(declared: Any, key: object) -> Any:
    """The declared type of the item ``key`` of a value declared as ``declared``.

    A field of a schema dataclass, the value type of ``dict[str, X]``, or the item type of
    ``list[X]``; None when the annotation says nothing about it.
    """
    if isinstance(declared, type) and is_dataclass(declared):
        return type_hints(declared).get(str(key))
    origin, args = typing.get_origin(declared), typing.get_args(declared)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin in (list, tuple) and args:
        return args[0]
    return None


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
        return {k: as_declared_floats(v, item_annotation(declared, k)) for k, v in data.items()}
    if isinstance(data, list):
        return [as_declared_floats(v, item_annotation(declared, i)) for i, v in enumerate(data)]
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
    if (is_dataclass(declared) or origin is dict) and isinstance(data, list):
        return key, data, "must be a mapping (key: value), not a list"
    if origin in (list, tuple) and isinstance(data, dict):
        return key, data, "must be a list, not a mapping"
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for k, v in items:
        found = shape_mismatch(v, item_annotation(declared, k), f"{key}.{k}" if key else str(k))
        if found:
            return found
    return None
