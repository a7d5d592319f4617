"""Compose the app's configuration outside the command line (tests, benchmarks, notebooks).

The CLI composes through Hydra's decorator; everything else that needs the same config
(with the same resolvers and schemas) composes through here.
"""

from __future__ import annotations

from collections.abc import Sequence

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from sim.config.params import Params, validate
from sim.paths import conf_dir


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """The config the CLI would compose for ``overrides`` (not yet validated).

    Parameters
    ----------
    overrides
        Hydra override strings, e.g. ``["place=mnp_250k", "run.replications=3"]``.
    """
    import sim.cli.app  # noqa: F401  (registers the resolvers and schemas the config uses)

    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def compose_params(overrides: Sequence[str] = ()) -> Params:
    """Validated parameters for ``overrides``.

    Raises
    ------
    sim.errors.ConfigError
        For a bad value, as the CLI would report it.
    """
    return validate(compose_config(overrides))
