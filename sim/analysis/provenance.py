"""Where each config value comes from: the ``basis`` blocks of the config, read as data.

Every ``place``, ``lead_provider`` and care ``model`` file carries a ``basis:`` mapping from
a dotted key (relative to the file's group) to the value's basis. Hydra composes it like any
other key, so it is saved in each run's ``.hydra/config.yaml``; the model never reads it.
A basis is one of three kinds, told apart by how the text starts:

- ``assumption`` (or ``assumption: why``; ``unverified: what it claims`` is an assumption
  too): no checked source;
- ``calibrated (docs/calibration.md): target``: tuned so the status quo hits a target;
- anything naming a source, ``[src:<key>] (grade X): what it says``, with ``key`` an entry of
  docs/sources.md: cited.

A basis given for a mapping covers every value inside it unless a deeper key has its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

BASIS_KEY = "basis"
# Keys that name or wire a group rather than set a mechanism: they need no basis.
STRUCTURAL = frozenset({"name", "kind", "defaults", BASIS_KEY})
# Citation syntax shared by YAML basis strings, YAML comments and prose: [src:<key>].
CITATION = re.compile(r"\[src:([a-z0-9][a-z0-9-]*)\]")
KINDS = ("cited", "calibrated", "assumption")


def cited_keys(text: str) -> list[str]:
    """Source keys cited in ``text`` as ``[src:<key>]``, in order of appearance."""
    return CITATION.findall(text)


def basis_kind(text: str) -> str:
    """``"cited"``, ``"calibrated"`` or ``"assumption"`` for a basis string.

    The first word decides: ``assumption``/``unverified`` -> assumption, ``calibrated`` ->
    calibrated. Otherwise a text citing a source (``[src:<key>]``) is cited; anything else,
    including an empty text, is an assumption (no source means no evidence).
    """
    head = text.strip().lower()
    if not head or head.startswith(("assumption", "unverified")):
        return "assumption"
    if head.startswith("calibrated"):
        return "calibrated"
    return "cited" if CITATION.search(text) else "assumption"


def _declared(section: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
    """``(dotted key, basis)`` for every ``basis`` block in ``section``, keys made absolute."""
    block = section.get(BASIS_KEY)
    if isinstance(block, Mapping):
        for key, text in block.items():
            yield f"{prefix}{key}", str(text)
    for key, value in section.items():
        if key != BASIS_KEY and isinstance(value, Mapping):
            yield from _declared(value, f"{prefix}{key}.")


def leaves(section: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted key, value)`` of every value in ``section`` except structural keys.

    An empty mapping is a value of its own (``alliances: {}`` says "no alliances").
    """
    for key, value in section.items():
        if key in STRUCTURAL:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from leaves(value, f"{path}.")
        else:
            yield path, value


def value_basis(config: Mapping[str, Any]) -> dict[str, str]:
    """The basis of every value of a resolved config that has one, by dotted key.

    Parameters
    ----------
    config
        A resolved config as plain data: a whole run config (keys then start with the group,
        e.g. ``lead_provider.priority_rule``) or one group's section, such as an arrangement
        file read with ``yaml.safe_load`` (keys relative to it, e.g. ``priority_rule``).

    Returns
    -------
    dict[str, str]
        Dotted key -> basis text, for each value whose own key or nearest enclosing key has
        a basis. Values with none are left out, so a missing basis stays visible.
    """
    declared = dict(_declared(config, ""))
    out: dict[str, str] = {}
    for key, _value in leaves(config):
        parts = key.split(".")
        for end in range(len(parts), 0, -1):
            text = declared.get(".".join(parts[:end]))
            if text is not None:
                out[key] = text
                break
    return out


def basis_rows(
    section: Mapping[str, Any], reference: Mapping[str, Any] | None = None
) -> list[tuple[str, Any, str, str]]:
    """Rows ``(key, value, kind, basis)`` for every value of one group's section.

    The shape of the report's assumptions table, one call per arrangement: pass the run's
    ``lead_provider`` section, or an arrangement file read with ``yaml.safe_load`` for an area
    that uses another arrangement. A value with no basis is an assumption with the basis
    ``"no basis given"``.

    Parameters
    ----------
    section
        The group's resolved values, with its ``basis`` block.
    reference
        The same group as its file defines it (optional). A value that differs from the file
        while keeping the file's basis was set for this run without a basis of its own: its
        kind is ``"set for this run"`` and the basis says so. An override that brings its own
        basis (as the sensitivity scenarios do) keeps that basis's kind.
    """
    bases = value_basis(section)
    ref_values = dict(leaves(reference)) if reference is not None else {}
    ref_bases = value_basis(reference) if reference is not None else {}
    rows = []
    for key, value in leaves(section):
        text = bases.get(key, "")
        kind = basis_kind(text)
        if key in ref_values and ref_values[key] != value and ref_bases.get(key, "") == text:
            kind = "set for this run"
            text = f"set for this run (file value {ref_values[key]}); {text or 'no basis given'}"
        rows.append((key, value, kind, text or "no basis given"))
    return rows


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def missing_basis(section: Mapping[str, Any], numeric_only: bool = False) -> list[str]:
    """Dotted keys of values in ``section`` with no basis.

    With ``numeric_only``, only numbers and lists holding numbers count.
    """
    bases = value_basis(section)
    out = []
    for key, value in leaves(section):
        numeric = _is_number(value) or (
            isinstance(value, list) and any(_is_number(v) for v in value)
        )
        if key not in bases and (numeric or not numeric_only):
            out.append(key)
    return out


def unknown_basis_keys(section: Mapping[str, Any]) -> list[str]:
    """Keys of ``section``'s ``basis`` block that name no value (a typo or a stale entry)."""
    block = section.get(BASIS_KEY)
    if not isinstance(block, Mapping):
        return []
    paths = {key for key, _ in leaves(section)}
    prefixes = {".".join(p.split(".")[:i]) for p in paths for i in range(1, p.count(".") + 2)}
    return [str(k) for k in block if str(k) not in prefixes]
