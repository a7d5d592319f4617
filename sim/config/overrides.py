"""Command-line overrides: size limits, parsing and sweep expansion, through Hydra's public API.

One expansion (:func:`expand_jobs`) serves the pre-flight, the sweeper that launches the
jobs (``sim.cli.sweeper``) and the analysis that reads a sweep back, so all three agree on
every job's override list and on its number.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType, RangeSweep
from hydra.errors import HydraException, OverrideParseException

from sim.errors import ConfigError

# Limits on a command line, checked before anything parses it, so a refusal is immediate
# whatever the input's size. Hydra's parser takes seconds on an override of a few
# thousand list items; no real override comes near these.
MAX_ARGUMENTS = 500
MAX_OVERRIDE_CHARS = 4096
MAX_KEY_CHARS = 200
MAX_SWEEP_JOBS = 10_000
# No config list is longer than 24 items; OmegaConf takes about 1 ms per item to check.
MAX_LIST_ITEMS = 256

# What Hydra raises for a malformed override: its parse error, a lexer error wrapped in a
# HydraException ("run.seed==3"), or a ValueError ("=3", "model=null").
PARSE_ERRORS = (OverrideParseException, HydraException, ValueError)


def value_text(override: Override) -> str:
    """What follows ``=`` in the override as typed (empty when Hydra kept no input line)."""
    return (override.input_line or "").partition("=")[2]


def check_sizes(overrides: Sequence[str]) -> None:
    """Refuse a command line too long to be a real one, in time linear in its length.

    Raises
    ------
    ConfigError
        For too many arguments, or one override (or its key) over the limits above.
    """
    if len(overrides) > MAX_ARGUMENTS:
        raise ConfigError(
            "command line", f"{len(overrides):,} arguments", f"must have at most {MAX_ARGUMENTS}"
        )
    for text in overrides:
        key, _, _ = text.partition("=")
        if len(key) > MAX_KEY_CHARS:
            raise ConfigError(
                "override key", key, f"is longer than the {MAX_KEY_CHARS}-character limit"
            )
        if len(text) > MAX_OVERRIDE_CHARS:
            raise ConfigError(
                key, text.partition("=")[2],
                f"is longer than the {MAX_OVERRIDE_CHARS:,}-character limit for one override;"
                " put long lists in a scenario file",
            )  # fmt: skip


def parse(overrides: Sequence[str], config_loader: Any = None) -> list[Override]:
    """Hydra's parse of ``overrides``, or a :class:`ConfigError` naming the first bad one.

    Parameters
    ----------
    overrides
        Override strings as typed.
    config_loader
        Hydra's config loader, which ``glob()`` sweeps need to list a group's options.
    """
    check_sizes(overrides)
    parser = OverridesParser.create(config_loader=config_loader)
    try:
        parsed = parser.parse_overrides(list(overrides))
    except PARSE_ERRORS as exc:
        raise ConfigError("override", first_bad(overrides), one_line(exc)) from None
    except RecursionError:  # brackets nested thousands deep
        raise ConfigError("override", first_bad(overrides), "is nested too deeply") from None
    for override in parsed:
        if not override.is_sweep_override() and _items(override.value()) > MAX_LIST_ITEMS:
            raise ConfigError(
                override.get_key_element(), value_text(override),
                f"has more than {MAX_LIST_ITEMS} items; no setting takes that many",
            )  # fmt: skip
    return parsed


def _items(value: Any) -> int:
    """How many items a parsed value holds, all levels counted (iteratively)."""
    count, stack = 0, [value]
    while stack and count <= MAX_LIST_ITEMS:
        node = stack.pop()
        if isinstance(node, dict):
            count += len(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            count += len(node)
            stack.extend(node)
    return count


def expand_jobs(overrides: Sequence[Override], max_jobs: int = MAX_SWEEP_JOBS) -> list[list[str]]:
    """Every job's overrides, in launch order: the cartesian product of the sweeps.

    Same rules as Hydra 1.3's basic sweeper: a later override of a key replaces an earlier
    one in the earlier one's place (so a command line wins over an experiment file), and
    a non-sweep value is written back as Hydra's own string of it.

    Raises
    ------
    ConfigError
        For a range or interval sweep (which a grid cannot enumerate), or for more than
        ``max_jobs`` jobs.
    """
    total = 1
    for override in overrides:
        total *= _count(override, max_jobs)
    if total > max_jobs:
        raise ConfigError("sweep", total, f"must have at most {max_jobs:,} jobs")
    by_key: dict[str, list[str]] = {}
    for override in overrides:
        key = override.get_key_element()
        if not override.is_sweep_override():
            by_key[key] = [f"{key}={override.get_value_element_as_str()}"]
        elif override.is_discrete_sweep():
            # At most max_jobs + 1 values: a range(0, 10**12) must be refused, not listed.
            first = itertools.islice(override.sweep_string_iterator(), max_jobs + 1)
            by_key[key] = [f"{key}={v}" for v in first]
        else:
            raise ConfigError(key, override.input_line, "is a sweep type a grid cannot list")
    n_jobs = 1
    for values in by_key.values():
        n_jobs *= len(values)
        if n_jobs > max_jobs:
            raise ConfigError("sweep", f"over {max_jobs:,} jobs", f"must have at most {max_jobs:,}")
    return [list(job) for job in itertools.product(*by_key.values())]


def _count(override: Override, limit: int) -> int:
    """How many values an override takes: exact for ranges, else at most ``limit + 1``."""
    if not override.is_sweep_override():
        return 1
    value = override.value()
    if isinstance(value, RangeSweep) and value.step:
        start, stop = value.start or 0, value.stop or 0
        return max(0, math.ceil((stop - start) / value.step))
    if not override.is_discrete_sweep():
        return 1  # refused with its own message below
    return sum(1 for _ in itertools.islice(override.sweep_string_iterator(), limit + 1))


def swept_keys(overrides: Sequence[Override]) -> list[str]:
    """The keys that take more than one value (the ones that tell jobs apart)."""
    return [o.get_key_element() for o in overrides if o.is_sweep_override()]


def is_plain(override: Override) -> bool:
    """True for ``key=value`` (or ``+key=value``) with plain data (a value, or a list or
    mapping of values): no sweep, deletion, function call, interpolation or Hydra setting."""
    if override.type not in (OverrideType.CHANGE, OverrideType.ADD):
        return False
    if override.is_sweep_override() or override.is_hydra_override():
        return False
    key = override.get_key_element().lstrip("+")
    if any(part in {"_target_", "_partial_", "_args_", "()"} for part in key.split(".")):
        return False
    return _plain_value(override.value())


def _plain_value(value: Any) -> bool:
    """A primitive, or a list or mapping of them, with no interpolation (iteratively)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif item is not None and not isinstance(item, str | int | float | bool):
            return False  # a sweep or function object
        elif "${" in str(item):
            return False
    return True


def first_bad(overrides: Sequence[str]) -> str:
    """The first override Hydra cannot parse (or that names nothing), else all of them."""
    parser = OverridesParser.create()
    for text in overrides:
        try:
            parser.parse_override(text)
            if text.startswith("=") or text.endswith("=null"):
                return text
        except (*PARSE_ERRORS, RecursionError):
            return text
    return " ".join(overrides)


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, with runs of white space collapsed."""
    text = str(getattr(exc, "msg", None) or exc).strip().splitlines()
    return " ".join(text[0].split()) if text else type(exc).__name__
