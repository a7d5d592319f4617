"""Validate every configuration a command line asks for, before Hydra makes a directory.

Hydra creates the run (or sweep) directory before the task function runs, so validating
inside the task would leave an empty results directory behind for a bad value. Instead the
CLI composes each configuration of the sweep here with Hydra's compose API, validates it,
and only then hands over to the Hydra app.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence

from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ValueType
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from hydra.types import RunMode
from omegaconf import OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.config.params import validate
from sim.errors import ConfigError
from sim.paths import conf_dir
from sim.run.cost import check_memory, duration_note

MULTIRUN_FLAGS = {"-m", "--multirun"}
# Hydra instantiates every ``_target_`` it finds in its own settings (callbacks, launchers,
# sweepers). A scenario file must never make it import and run arbitrary code, so only our
# callbacks and Hydra's own plugins may be named.
TRUSTED_TARGETS = ("sim.cli.callbacks.", "hydra._internal.", "hydra_plugins.")
MAX_SWEEP_JOBS = 10_000
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


# What Hydra raises for a malformed override: its parse error, a lexer error wrapped in a
# HydraException ("run.seed==3"), or a ValueError ("=3", "model=null").
PARSE_ERRORS = (OverrideParseException, HydraException, ValueError)


class PreflightSkipped(Exception):
    """The command line asks Hydra for something other than a run (help, --cfg, ...)."""


def split_argv(argv: Sequence[str]) -> tuple[bool, list[str]]:
    """``(multirun, overrides)`` from a command line, or :class:`PreflightSkipped`."""
    multirun = False
    overrides = []
    for arg in argv:
        if arg in MULTIRUN_FLAGS:
            multirun = True
        elif arg.startswith("-"):
            raise PreflightSkipped(arg)
        else:
            overrides.append(arg)
    return multirun, overrides


def expand(overrides: list[str], multirun: bool) -> Iterator[list[str]]:
    """Every job's override list that a (possibly sweeping) command line produces."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except PARSE_ERRORS as exc:
        raise ConfigError("override", _first_bad(overrides), _line(exc)) from None
    choices: list[list[str]] = []
    for text, override in zip(overrides, parsed, strict=True):
        if not override.is_sweep_override():
            choices.append([text])
            continue
        if not multirun:
            raise ConfigError(
                override.get_key_element(), text.partition("=")[2],
                "is a sweep; add -m (multirun) to run one job per value",
            )  # fmt: skip
        try:
            values = list(override.sweep_string_iterator())
        except Exception:  # glob() sweeps need Hydra's config loader; the job validates them
            choices.append([])
            continue
        choices.append([f"{override.get_key_element()}={v}" for v in values])
    n_jobs = 1
    for c in choices:
        n_jobs *= max(1, len(c))
    if n_jobs > MAX_SWEEP_JOBS:
        raise ConfigError("sweep", n_jobs, f"must have at most {MAX_SWEEP_JOBS:,} jobs")
    for combo in itertools.product(*[c or [None] for c in choices]):
        yield [c for c in combo if c is not None]


def check(
    argv: Sequence[str],
    notes: list[str] | None = None,
    composed: set[tuple[str, ...]] | None = None,
) -> int:
    """Compose and validate every job of the command line; return how many were checked.

    Each job must also fit in memory (:func:`sim.run.cost.check_memory`). When the whole
    command is expected to take more than an hour, a notice is appended to ``notes``.

    Parameters
    ----------
    argv
        The command line's arguments (without the program name).
    notes
        If given, receives notices to print before the run starts.
    composed
        If given, receives every override list that was composed and validated, exactly
        as passed to Hydra's composition. For a sweep these are the lists Hydra's basic
        sweeper will compose once more before launching, so it may skip them (see
        :mod:`sim.cli.app`).

    Raises
    ------
    ConfigError
        For the first configuration that is invalid, or too large for this machine.
    PreflightSkipped
        When the command line asks Hydra for help or information instead of a run.
    """
    multirun, overrides = split_argv(argv)
    jobs = 0
    seconds, replications = 0.0, 0
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3", job_name="nhsim"):
        base = _compose_base(overrides)
        expanded = _with_config_sweeps(overrides, base) if multirun else overrides
        _check_targets(base)
        for job, labels in _jobs(overrides, expanded, multirun, base):
            if not multirun and base is not None and job == _fixed(overrides):
                cfg = _without_hydra(base)  # one run: the base was composed from its overrides
            else:
                cfg = compose_config(job, labels)
            params = validate(cfg)
            cost = check_memory(params)
            n = params.run.max_replications if params.run.auto else params.run.replications
            seconds += cost.seconds_per_replication * n
            replications += n
            jobs += 1
            if composed is not None:
                composed.add(tuple(job))
    note = duration_note(seconds, replications)
    if note and notes is not None:
        notes.append(note)
    return jobs


def _jobs(
    overrides: list[str], expanded: list[str], multirun: bool, base
) -> Iterator[tuple[list[str], list[str]]]:  # noqa: ANN001  (base: a DictConfig, or None)
    """``(overrides to compose, overrides to name in a message)`` for every job.

    A sweep's jobs are composed exactly as Hydra's sweeper will compose them, so the
    pre-flight validates what will run; messages still quote the command line's own words
    for its fixed overrides. When Hydra's lists cannot be predicted, :func:`expand` gives
    the jobs.
    """
    own_jobs = expand(expanded, multirun)
    if not multirun:
        yield from ((job, job) for job in own_jobs)
        return
    count = sum(1 for _ in own_jobs)  # first, so expand's checks (syntax, size) come first
    sweeper_jobs = sweeper_overrides(overrides, base)
    if sweeper_jobs is None or len(sweeper_jobs) != count:
        yield from ((job, job) for job in expand(expanded, multirun))
        return
    yield from ((job, [*_fixed(overrides), *job]) for job in sweeper_jobs)


def sweeper_overrides(overrides: list[str], base) -> list[list[str]] | None:  # noqa: ANN001
    """Every job's override list exactly as Hydra 1.3's basic sweeper composes it, or None.

    Hydra's ``multirun`` records the command line's Hydra overrides, then
    ``hydra.mode=MULTIRUN`` unless the config already says so, and its basic sweeper
    expands ``hydra.sweeper.params`` followed by the other overrides
    (``BasicSweeper.split_arguments``); each job is composed from the Hydra overrides
    followed by the job's own. None when that cannot be predicted here: no base config,
    another sweeper, or a ``glob()`` sweep (which needs Hydra's config loader).

    Parameters
    ----------
    overrides
        The command line's overrides, without the sweeps an experiment file declares.
    base
        The config composed from the non-sweep overrides, with Hydra's own config.
    """
    if base is None or base.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
        return None
    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(overrides)
        hydra_part = [o.input_line for o in parsed if o.is_hydra_override()]
        task = [o.input_line for o in parsed if not o.is_hydra_override()]
        declared = base.hydra.sweeper.get("params") or {}
        sweep = parser.parse_overrides([*(f"{k}={v}" for k, v in declared.items()), *task])
        if any(o.value_type == ValueType.GLOB_CHOICE_SWEEP for o in sweep):
            return None
        batches = BasicSweeper.split_arguments(sweep, base.hydra.sweeper.get("max_batch_size"))
    except (*PARSE_ERRORS, OmegaConfBaseException):
        return None  # expand() reports a bad override in the command line's own words
    if base.hydra.get("mode") != RunMode.MULTIRUN:
        hydra_part.append("hydra.mode=MULTIRUN")
    return [[*hydra_part, *job] for batch in batches for job in batch]


def find_targets(node: object, path: str = "") -> list[tuple[str, str]]:
    """Every ``(key, _target_ value)`` in a (plain) config tree."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "_target_":
                found.append((where, str(value)))
            else:
                found.extend(find_targets(value, where))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(find_targets(value, f"{path}[{i}]"))
    return found


def _compose_base(overrides: list[str]):  # noqa: ANN202  (an omegaconf DictConfig, or None)
    """The config with its non-sweep overrides and Hydra's own config, or None if it fails.

    Composed once: it is both where an experiment file declares its sweeps and where a
    ``_target_`` could hide. A failure here is left to the per-job composition, which
    reports it precisely.
    """
    try:
        return compose(config_name="config", overrides=_fixed(overrides), return_hydra_config=True)
    except (*PARSE_ERRORS, OmegaConfBaseException):
        return None


def _fixed(overrides: list[str]) -> list[str]:
    """The overrides that are not sweeps (raises Hydra's parse errors)."""
    parser = OverridesParser.create()
    return [t for t in overrides if not parser.parse_override(t).is_sweep_override()]


def _without_hydra(cfg):  # noqa: ANN001, ANN202  (omegaconf DictConfigs)
    """What ``compose`` returns for the same overrides without ``return_hydra_config``."""
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def _check_targets(base) -> None:  # noqa: ANN001  (an omegaconf DictConfig, or None)
    """Refuse any ``_target_`` outside :data:`TRUSTED_TARGETS`, in the job or Hydra config."""
    if base is None:
        return
    tree = OmegaConf.to_container(base, resolve=False)
    for key, target in find_targets(tree):
        if not target.startswith(TRUSTED_TARGETS):
            raise ConfigError(
                key,
                target,
                "names code to import; only sim.cli.callbacks.* and Hydra plugins are allowed",
            )


def _with_config_sweeps(overrides: list[str], base) -> list[str]:  # noqa: ANN001
    """Add the sweeps an experiment file declares (``hydra.sweeper.params`` of ``base``).

    As in Hydra's basic sweeper, a key swept on the command line wins over the file.
    """
    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(overrides)
    except PARSE_ERRORS as exc:
        raise ConfigError("override", _first_bad(overrides), _line(exc)) from None
    if base is None:
        return overrides  # the per-job composition below reports the error precisely
    declared = base.hydra.sweeper.get("params") or {}
    on_cli = {o.get_key_element().lstrip("+~") for o in parsed}
    extra = [f"{k}={v}" for k, v in declared.items() if str(k).lstrip("+~") not in on_cli]
    return [*overrides, *extra]


def compose_config(overrides: list[str], labels: list[str] | None = None):  # noqa: ANN201
    """Compose the config for one job, turning Hydra's errors into :class:`ConfigError`.

    ``labels`` are the overrides a message quotes (default: ``overrides``): the command
    line's own words, when ``overrides`` are Hydra's rewriting of them.
    """
    labels = overrides if labels is None else labels
    try:
        return compose(config_name="config", overrides=overrides)
    except MissingConfigException as exc:
        raise _missing_option(exc, labels) from None
    except OverrideParseException as exc:
        raise ConfigError("override", _first_bad(labels), _line(exc)) from None
    except (HydraException, OmegaConfBaseException) as exc:
        raise _composition_error(exc, labels) from None
    except ValueError as exc:  # e.g. "=3" or "model=null": Hydra's own ValueError
        raise ConfigError("override", _first_bad(labels), _line(exc)) from None


def _override_value(key: str, overrides: list[str]) -> str | None:
    for text in overrides:
        name, _, value = text.lstrip("+~").partition("=")
        if name == key:
            return value
    return None


def _composition_error(exc: Exception, overrides: list[str]) -> ConfigError:
    cause = exc.__cause__ or exc
    key = getattr(cause, "full_key", None)
    if not key:
        match = re.search(r"full_key: (\S+)", str(exc))
        key = match.group(1) if match else None
    if not key:
        match = re.search(r"override '?([^'=\s]+)", str(exc))
        key = match.group(1) if match else "override"
    value = _override_value(str(key), overrides)
    if "not in struct" in str(cause) or "Key '" in str(cause) and "not" in str(cause):
        return ConfigError(
            str(key),
            value,
            "is not a recognised key (check the spelling; to add an entry to a mapping such as"
            " nodes or routing, start the override with +)",
        )
    message = _line(cause)
    if "could not be converted" in message or "Value '" in message:
        return ConfigError(str(key), value, f"has the wrong type: {message}")
    return ConfigError(str(key), value, message)


def _missing_option(exc: MissingConfigException, overrides: list[str]) -> ConfigError:
    text = str(exc)
    group = None
    match = re.search(r"Could not find '([^']+)/([^']+)'", text) or re.search(
        r"In '[^']+': Could not find '([^']+)/([^']+)'", text
    )
    if match:
        group = match.group(1)
    listing = text.split("Available options", 1)[-1].split("Config search path", 1)[0]
    options = [
        line.strip()
        for line in listing.splitlines()
        if line.startswith("\t") and not line.strip().endswith("_schema")
    ]
    key = group or "config"
    value = _override_value(key, overrides) if group else None
    allowed = "must be one of " + ", ".join(options) if options else _line(exc)
    return ConfigError(key, value, allowed)


def _first_bad(overrides: list[str]) -> str:
    parser = OverridesParser.create()
    for text in overrides:
        try:
            parser.parse_override(text)
            if text.startswith("=") or text.endswith("=null"):
                return text
        except PARSE_ERRORS:
            return text
    return " ".join(overrides)


def _line(exc: BaseException) -> str:
    text = str(getattr(exc, "msg", None) or exc).strip().splitlines()
    return " ".join(text[0].split()) if text else type(exc).__name__
