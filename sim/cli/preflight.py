"""Validate every configuration a command line asks for, before Hydra makes a directory.

Hydra creates the run (or sweep) directory before the task function runs, so validating
inside the task would leave an empty results directory behind for a bad value. Instead the
CLI composes each configuration of the sweep here with Hydra's compose API, validates it,
and only then hands over to the Hydra app. Every command line passes through here, whatever
its flags: :func:`split_argv` refuses the flags that would load a config from outside the
project, and :mod:`sim.cli.safety` the settings a config file may not make.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim import progress
from sim.cli import safety
from sim.config.overrides import (
    MAX_SWEEP_JOBS,
    check_sizes,
    expand_jobs,
    first_bad,
    one_line,
    parse,
)
from sim.config.params import validate
from sim.errors import ConfigError, shorten
from sim.paths import conf_dir
from sim.run.cost import check_memory, duration_note

__all__ = ["MAX_SWEEP_JOBS", "Command", "check", "compose_config", "split_argv"]

MULTIRUN_FLAGS = {"-m", "--multirun"}
# Flags Hydra handles that neither run anything nor make a directory. The config is still
# composed and validated first, so they show only what would run.
SHOW_FLAGS = {"-c": 1, "--cfg": 1, "-p": 1, "--package": 1, "--resolve": 0, "-i": 0, "--info": 0}
INFO_CHOICES = {"all", "config", "defaults", "defaults-tree", "plugins", "searchpath"}
QUIET_FLAGS = {"-r", "--run", "--hydra-help"}
# Flags that would make Hydra load a config (or a pickled run) from outside the project.
OUTSIDE_FLAGS = {
    "-cp": "--config-path", "--config-path": "--config-path",
    "-cn": "--config-name", "--config-name": "--config-name",
    "-cd": "--config-dir", "--config-dir": "--config-dir",
    "--experimental-rerun": "--experimental-rerun",
}  # fmt: skip
# What Hydra raises for a malformed override or a failed composition.
COMPOSE_ERRORS = (HydraException, OmegaConfBaseException, ValueError)


@dataclass
class Command:
    """A command line, split: sweep or not, overrides, and flags passed on to Hydra."""

    multirun: bool = False
    overrides: list[str] = field(default_factory=list)
    hydra_flags: list[str] = field(default_factory=list)


def split_argv(argv: Sequence[str]) -> Command:
    """Sort a command line into a :class:`Command`, refusing flags nhsim does not allow.

    Only exact flag names are accepted: Hydra's argument parser would also take an
    abbreviation (``--config-d``), so anything else that starts with ``-`` is refused.

    Raises
    ------
    ConfigError
        For a flag that loads a config from outside the project, or an unknown flag.
    """
    cmd = Command()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, _ = arg.partition("=")
        if not arg.startswith("-"):
            cmd.overrides.append(arg)
        elif arg in MULTIRUN_FLAGS:
            cmd.multirun = True
        elif arg in QUIET_FLAGS:
            cmd.hydra_flags.append(arg)
        elif name in SHOW_FLAGS:
            takes = SHOW_FLAGS[name]
            has_next = i + 1 < len(args)
            optional = name in ("-i", "--info") and has_next and args[i + 1] in INFO_CHOICES
            if not eq and (takes or optional):
                if not has_next:
                    raise ConfigError(name, None, "needs a value")
                cmd.hydra_flags.extend([arg, args[i + 1]])
                i += 1
            else:
                cmd.hydra_flags.append(arg)
        elif name in OUTSIDE_FLAGS:
            raise ConfigError(
                OUTSIDE_FLAGS[name], arg.partition("=")[2] or next(iter(args[i + 1:i + 2]), None),
                "would load a config from outside the project, which nhsim does not allow; "
                "put the file in scenarios/experiment/ and use +experiment=<name>",
            )  # fmt: skip
        else:
            raise ConfigError("option", shorten(arg), "is not an nhsim option (see nhsim --help)")
        i += 1
    return cmd


def check(argv: Sequence[str], notes: list[str] | None = None) -> int:
    """Compose and validate every job of the command line; return how many were checked.

    Each job must also fit in memory (:func:`sim.run.cost.check_memory`). When the whole
    command is expected to take more than an hour, a notice is appended to ``notes``.

    Parameters
    ----------
    argv
        The command line's arguments (without the program name).
    notes
        If given, receives notices to print before the run starts.

    Raises
    ------
    ConfigError
        For a refused flag, a config file that does more than set values, or the first
        configuration that is invalid or too large for this machine.
    """
    cmd = split_argv(argv)
    check_sizes(cmd.overrides)
    parsed = parse(cmd.overrides)
    if not cmd.multirun:
        for override, text in zip(parsed, cmd.overrides, strict=True):
            if override.is_sweep_override():
                raise ConfigError(
                    override.get_key_element(), text.partition("=")[2],
                    "is a sweep; add -m (multirun) to run one job per value",
                )  # fmt: skip
    safety.check_command_line(parsed)
    safety.check_files()
    hydra_part = [t for o, t in zip(parsed, cmd.overrides, strict=True) if o.is_hydra_override()]
    fixed = [t for o, t in zip(parsed, cmd.overrides, strict=True) if not o.is_sweep_override()]
    seconds, replications = 0.0, 0
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3", job_name="nhsim"):
        base = compose_config(fixed, with_hydra=True)
        safety.check_hydra(base, lambda extra: _reference(hydra_part, extra))
        safety.check_output_dirs(base, cmd.multirun)
        declared = base.hydra.sweeper.get("params") or {}
        safety.check_sweep_params(parse([f"{k}={v}" for k, v in declared.items()]))
        jobs = _jobs(cmd, parsed, base)
        with progress.bar(len(jobs), "checking", "job", enabled=len(jobs) > 1) as shown:
            for job in jobs:
                if cmd.multirun:
                    cfg = compose_config([*hydra_part, *job], labels=[*fixed, *job])
                else:
                    cfg = _without_hydra(base)  # one run: the base was composed from its overrides
                params = validate(cfg)
                cost = check_memory(params)
                n = params.run.max_replications if params.run.auto else params.run.replications
                seconds += cost.seconds_per_replication * n
                replications += n
                shown.update()
    note = duration_note(seconds, replications)
    if note and notes is not None:
        notes.append(note)
    return len(jobs)


def _jobs(cmd: Command, parsed: list, base: DictConfig) -> list[list[str]]:  # noqa: ANN001
    """Every job's task overrides, exactly as :class:`sim.cli.sweeper.NhsimSweeper` lists them."""
    if not cmd.multirun:
        return [list(cmd.overrides)]
    declared = base.hydra.sweeper.get("params") or {}
    task = [t for o, t in zip(parsed, cmd.overrides, strict=True) if not o.is_hydra_override()]
    texts = [f"{k}={v}" for k, v in declared.items()] + task
    loader = GlobalHydra.instance().config_loader()  # glob() sweeps list a group's options
    return expand_jobs(parse(texts, loader))


def _reference(hydra_part: list[str], extra: list[str]) -> DictConfig:
    """The config with only the command line's Hydra overrides (and ``extra``)."""
    return compose_config([*hydra_part, *extra], with_hydra=True)


def _without_hydra(cfg: DictConfig) -> DictConfig:
    """What ``compose`` returns for the same overrides without ``return_hydra_config``.

    In place: a copy costs a third of a care model's check, and the base is not needed after.
    """
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def compose_config(
    overrides: list[str], labels: list[str] | None = None, with_hydra: bool = False
) -> DictConfig:
    """Compose the config for one job, turning Hydra's errors into :class:`ConfigError`.

    ``labels`` are the overrides a message quotes (default: ``overrides``): the command
    line's own words, when ``overrides`` are the sweeper's rewriting of them.
    """
    labels = overrides if labels is None else labels
    try:
        return compose(config_name="config", overrides=overrides, return_hydra_config=with_hydra)
    except MissingConfigException as exc:
        raise _missing_option(exc, labels) from None
    except OverrideParseException as exc:
        raise ConfigError("override", first_bad(labels), one_line(exc)) from None
    except COMPOSE_ERRORS as exc:
        raise _composition_error(exc, labels) from None
    except Exception as exc:  # a YAML file Hydra cannot read (tags, syntax)
        raise ConfigError("config file", None, one_line(exc)) from None


def _override_value(key: str, overrides: list[str]) -> str | None:
    for text in overrides:
        name, _, value = text.lstrip("+~").partition("=")
        if name == key:
            return value
    return None


def _full_key_line(message: str) -> str | None:
    """OmegaConf's ``full_key: a.b`` line, which Hydra keeps only in its message for errors
    raised while merging a file (there is no ``__cause__`` to read it from)."""
    _, found, rest = message.partition("full_key: ")
    return rest.split()[0] if found and rest.split() else None


def _key_in_message(message: str, overrides: list[str]) -> str | None:
    """The key of the first override that the message names."""
    for text in overrides:
        name = text.lstrip("+~").partition("=")[0]
        if name and name in message:
            return name
    return None


def _composition_error(exc: Exception, overrides: list[str]) -> ConfigError:
    if isinstance(exc, ValueError) and not isinstance(exc, OmegaConfBaseException):
        return ConfigError("override", first_bad(overrides), one_line(exc))  # "=3", "model=null"
    cause = exc.__cause__ or exc
    key = (
        getattr(cause, "full_key", None)
        or _full_key_line(str(exc))
        or _key_in_message(str(exc), overrides)
        or "override"
    )
    value = _override_value(str(key), overrides)
    text = str(cause)
    if "not in struct" in text or "Key '" in text and "not" in text:
        return ConfigError(
            str(key),
            value,
            "is not a recognised key (check the spelling; to add an entry to a mapping such as"
            " nodes or routing, start the override with +)",
        )
    message = one_line(cause)
    if "could not be converted" in message or "Value '" in message:
        return ConfigError(str(key), value, f"has the wrong type: {message}")
    return ConfigError(str(key), value, message)


def _missing_option(exc: MissingConfigException, overrides: list[str]) -> ConfigError:
    """``<group> = <option>: must be one of ...`` from Hydra's own record of what is missing."""
    missing = str(exc.missing_cfg_file or "")
    group = missing.rpartition("/")[0] if "/" in missing else None
    options = [o for o in (exc.options or []) if not str(o).endswith("_schema")]
    key = group or "config"
    value = _override_value(key, overrides) if group else missing or None
    allowed = "must be one of " + ", ".join(map(str, options)) if options else one_line(exc)
    return ConfigError(key, value, allowed)
