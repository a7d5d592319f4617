"""Configs are data: what a scenario file, an experiment file or a command line may set.

A config file may set the values its schema declares, and a few Hydra settings
(:data:`FILE_HYDRA_KEYS`). It may not configure logging (handlers can open and truncate any
file; a ``()`` factory runs any callable), name code (``_target_``, ``_partial_``), set
environment variables, change where configs are searched for, or carry YAML tags. The
command line may in addition choose and tune the launcher (:data:`CLI_HYDRA_KEYS`), since
the person typing it already runs code on the machine.

Hydra's own settings are checked as a difference: the composed ``hydra`` section is compared
with the one the command line alone gives, so every setting a file made is found, wherever
in the defaults list it came from.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from hydra.core.override_parser.types import Override, OverrideType
from omegaconf import DictConfig, OmegaConf

from sim.config.overrides import MAX_LIST_ITEMS, value_text
from sim.errors import ConfigError
from sim.paths import conf_dir, scenarios_dir
from sim.run.storage import check_output_dir

# Hydra settings a config file may make (patterns over dotted keys).
FILE_HYDRA_KEYS = (
    "hydra.run.dir",
    "hydra.sweep.dir",
    "hydra.sweeper.params",
    "hydra.sweeper.params.*",
    "hydra.sweeper.max_batch_size",
    "hydra.launcher.n_jobs",
    "hydra.verbose",
    "hydra.job.chdir",
    "hydra.mode",
)
# ... and the command line, besides: the launcher (choice and settings) and the summary.
CLI_HYDRA_KEYS = (
    *FILE_HYDRA_KEYS,
    "hydra/launcher",
    "hydra.launcher.*",
    "hydra/hydra_logging",
    "hydra/job_logging",
    "hydra.callbacks.sweep_summary",
)
# Never in a file: these run code or change the environment.
NEVER = ("*._target_", "*._partial_", "*._args_", "*.()", "*.setup", "*.env_vars*", "*env_set*")
# Never on the command line either: keys that name code. (A launcher's ``setup`` lines or
# Ray's ``env_vars``, which docs/distributed.md uses, are the typist's own choice.)
NEVER_CLI = ("*._target_", "*._partial_", "*._args_", "*.()")
# Launchers a config may choose (Hydra's own, and the documented plugins).
LAUNCHERS = ("basic", "joblib", "ray", "submitit_local", "submitit_slurm")
# Hydra's own logging configs, which the command line may choose (e.g. hydra/hydra_logging=
# default to see the launcher's log); none of them writes outside the run directory.
LOGGING = ("default", "disabled", "none", "stdout")
# Parts of the hydra section that Hydra fills in from the command line itself.
DERIVED = (
    "hydra.runtime.*",
    "hydra.overrides.*",
    "hydra.job.name",
    "hydra.job.override_dirname",
    "hydra.job.id",
    "hydra.job.num",
    "hydra.job.config_name",
)
# Keys no config may use anywhere, for they make OmegaConf or Hydra call code.
CODE_KEYS = {"_target_", "_partial_", "_args_", "_recursive_", "_convert_", "()"}
# A config file larger than this is not a scenario (checked before YAML reads it). Hydra and
# OmegaConf take about 1 ms per value, so size is bounded in values too: the largest shipped
# file (conf/model/care.yaml) has 556 values and no list longer than 24 items.
MAX_FILE_BYTES = 256_000
MAX_FILE_VALUES = 2_000


def _matches(key: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


def check_command_line(parsed: list[Override]) -> None:
    """Refuse Hydra settings on the command line beyond :data:`CLI_HYDRA_KEYS`."""
    for override in parsed:
        key = override.get_key_element().lstrip("+~")
        text = value_text(override)
        if any(part in CODE_KEYS for part in key.split(".")):
            raise ConfigError(key, text, _NAMES_CODE)
        if "." not in key and ("/" in text or "\\" in text):
            raise ConfigError(key, text, _OUTSIDE)  # a group option is a plain name
        if not override.is_hydra_override() and not key.startswith("hydra/"):
            continue
        deleting = override.type == OverrideType.DEL
        if deleting and key != "hydra.callbacks.sweep_summary":
            raise ConfigError(key, None, "is a Hydra setting nhsim needs; it cannot be removed")
        if not _matches(key, CLI_HYDRA_KEYS) or _matches(key, NEVER_CLI):
            raise ConfigError(key, value_text(override), _HYDRA_ALLOWED)
        if key == "hydra/launcher" and str(override.value()) not in LAUNCHERS:
            raise ConfigError(key, override.value(), "must be one of " + ", ".join(LAUNCHERS))
        if key.endswith("_logging") and str(override.value()) not in LOGGING:
            raise ConfigError(key, override.value(), "must be one of " + ", ".join(LOGGING))


def check_sweep_params(declared: list[Override]) -> None:
    """A file's ``hydra.sweeper.params`` may sweep values, never Hydra's own settings.

    Each job's overrides are applied to its Hydra config too, so a swept ``hydra.*`` key
    would escape the rules above.
    """
    for override in declared:
        key = override.get_key_element().lstrip("+~")
        if override.is_hydra_override() or key.startswith("hydra/"):
            raise ConfigError(
                f"hydra.sweeper.params.{key}", value_text(override),
                "a sweep may not set Hydra's own settings",
            )  # fmt: skip
    check_command_line(declared)  # group options that are paths, keys that name code


def check_files(roots: tuple[Path, ...] | None = None) -> None:
    """Refuse YAML tags, and files too large to be configs, in the config and scenario trees.

    Tags (``!!python/object``, ``!!binary``, ``!custom``) ask the YAML reader to build
    something other than plain data. Every file is scanned (not parsed), in linear time.
    """
    for root in roots or (conf_dir(), _scenarios_root()):
        for path in sorted(Path(root).rglob("*.yaml")):
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise ConfigError(
                    str(path), f"{size:,} bytes", f"is larger than {MAX_FILE_BYTES:,} bytes"
                )
            text = path.read_text(errors="replace")
            try:
                tags = [t for t in yaml.scan(text, Loader=_LOADER) if isinstance(t, yaml.TagToken)]
                node = yaml.compose(text, Loader=_LOADER) if not tags else None
            except yaml.YAMLError as exc:
                raise ConfigError(str(path), None, "is not valid YAML: " + _first(exc)) from None
            if not tags:
                _check_shape(path, node)
                continue
            if tags:
                handle, suffix = tags[0].value
                raise ConfigError(
                    str(path), f"{handle or ''}{suffix}",
                    "YAML tags are not allowed in config files (plain values only)",
                )  # fmt: skip


def _check_shape(path: Path, root: yaml.Node | None) -> None:
    """Refuse a file with more values, or a longer list, than any config needs (iterative)."""
    values, stack = 0, [root] if root is not None else []
    while stack:
        node = stack.pop()
        values += 1
        if isinstance(node, yaml.SequenceNode):
            if len(node.value) > MAX_LIST_ITEMS:
                raise ConfigError(
                    str(path), f"a list of {len(node.value):,} items",
                    f"is longer than the {MAX_LIST_ITEMS}-item limit for a list in a config file",
                )  # fmt: skip
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            pairs = node.value
            stack.extend(v for _, v in pairs)
            top_level = pairs if node is root else []
            for key, value in top_level:
                if key.value == "defaults":
                    _check_defaults(path, value)
        if values > MAX_FILE_VALUES:
            raise ConfigError(
                str(path), f"over {MAX_FILE_VALUES:,} values",
                f"is larger than the {MAX_FILE_VALUES:,}-value limit for a config file",
            )  # fmt: skip


def _check_defaults(path: Path, node: yaml.Node) -> None:
    """A defaults list may name configs of the project only: no ``..`` in any entry."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, yaml.ScalarNode) and (".." in item.value or "\\" in item.value):
            raise ConfigError(f"{path}: defaults", item.value, _OUTSIDE)
        if isinstance(item, yaml.SequenceNode):
            stack.extend(item.value)
        elif isinstance(item, yaml.MappingNode):
            for key, value in item.value:
                stack.extend((key, value))


def _scenarios_root() -> Path:
    """The scenarios tree Hydra searches (``NHSIM_SCENARIOS_DIR``, set by sim.cli.app)."""
    return Path(os.environ.get("NHSIM_SCENARIOS_DIR") or scenarios_dir())


def check_hydra(base: DictConfig, reference: Callable[[list[str]], DictConfig]) -> None:
    """Refuse Hydra settings that config files made beyond :data:`FILE_HYDRA_KEYS`.

    Parameters
    ----------
    base
        The composed config, with its ``hydra`` section.
    reference
        Composes the config with only the command line's Hydra overrides plus the given
        extra ones (a launcher chosen by a file is allowed, so the reference uses it too).
    """
    tree = OmegaConf.to_container(base, resolve=False)
    for key, value in _code_keys(tree):
        raise ConfigError(key, value, _NAMES_CODE)
    ref_cfg = reference([])
    launcher = OmegaConf.select(base, "hydra.runtime.choices.hydra/launcher")
    if launcher != OmegaConf.select(ref_cfg, "hydra.runtime.choices.hydra/launcher"):
        if launcher not in LAUNCHERS:
            raise ConfigError("hydra/launcher", launcher, "must be one of " + ", ".join(LAUNCHERS))
        ref_cfg = reference([f"hydra/launcher={launcher}"])
    ref = dict(_leaves(OmegaConf.to_container(ref_cfg.hydra, resolve=False), "hydra"))
    hydra_tree = tree.get("hydra") if isinstance(tree, dict) else None
    got = dict(_leaves(hydra_tree, "hydra"))
    for key, value in got.items():
        if _matches(key, DERIVED) or (key in ref and ref[key] == value):
            continue
        if not _matches(key, FILE_HYDRA_KEYS) or _matches(key, NEVER):
            raise ConfigError(key, value, _HYDRA_ALLOWED)
    for key in ref.keys() - got.keys():
        if not _matches(key, DERIVED) and not key.startswith("hydra.callbacks.sweep_summary"):
            if not _matches(key, ("hydra.sweeper.params",)):
                raise ConfigError(key, None, "is a Hydra setting nhsim needs; it cannot be removed")


def check_output_dirs(base: DictConfig, multirun: bool) -> None:
    """Refuse an empty run or sweep directory, and one the storage check refuses."""
    for key in ("hydra.run.dir", "hydra.sweep.dir"):
        try:
            value = OmegaConf.select(base, key)
        except Exception as exc:  # noqa: BLE001  (an interpolation that cannot resolve)
            raise ConfigError(key, None, "could not be resolved: " + _first(exc)) from None
        if value is None or not str(value).strip():
            raise ConfigError(key, value, "must name a directory (an empty one would write here)")
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    path = Path(str(OmegaConf.select(base, key)))
    overwrite = bool(OmegaConf.select(base, "run.overwrite", default=False))
    check_output_dir(path, overwrite=overwrite, key=key)


def check_run_overrides(overrides: list[Any]) -> list[str]:
    """The saved overrides of a run directory, if every one is a plain ``key=value``.

    Raises
    ------
    ConfigError
        For anything else: a Hydra setting, a deletion, a sweep, a function call, an
        interpolation, a key that names code, or an entry that is not a string.
    """
    from sim.config.overrides import is_plain, parse

    texts = []
    for i, item in enumerate(overrides):
        if not isinstance(item, str) or item.startswith("-"):
            raise ConfigError(f"overrides.yaml item {i}", item, "must be a key=value string")
        texts.append(item)
    for override, text in zip(parse(texts), texts, strict=True):
        if not is_plain(override):
            raise ConfigError(
                "overrides.yaml", text,
                "a run directory may only replay plain key=value overrides (no Hydra settings,"
                " sweeps, deletions, interpolations or code)",
            )  # fmt: skip
    return texts


def _code_keys(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every key that names code, outside the few places Hydra's own config uses them."""
    for key, value in _items(node):
        where = f"{path}.{key}" if path else str(key)
        if str(key) in CODE_KEYS and not _hydra_own(where, value):
            yield where, value
        yield from _code_keys(value, where)


def _hydra_own(where: str, value: Any) -> bool:
    """``_target_`` of Hydra's sweeper, launcher and our sweep summary callback."""
    if where == "hydra.callbacks.sweep_summary._target_":
        return value == "sim.cli.callbacks.SweepSummary"
    if where in ("hydra.sweeper._target_", "hydra.launcher._target_"):
        return True  # compared with the reference config in check_hydra
    return False


def _items(node: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(node, dict):
        yield from node.items()
    elif isinstance(node, list):
        yield from enumerate(node)


def _leaves(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    children = list(_items(node))
    if not children:
        yield path, node
    for key, value in children:
        yield from _leaves(value, f"{path}.{key}")


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return " ".join(lines[0].split()) if lines else type(exc).__name__


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster
_OUTSIDE = "must name a config of the project, not a path (configs outside it are not allowed)"
_NAMES_CODE = "names code to run; a config may hold plain values only"
_HYDRA_ALLOWED = (
    "is a Hydra setting a config may not make; allowed: run and sweep dirs, sweeper params, "
    "the launcher and its n_jobs, verbosity and job.chdir (see docs/reliability.md)"
)
