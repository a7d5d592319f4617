"""Priors on assumed values: loaded, checked against the shipped configs, and drawn from.

``conf/priors.yaml`` gives each uncertain assumed (or calibrated) value a distribution:
*shared* priors are one draw for every arrangement; *per-arrangement* priors give each
lead-provider arrangement its own prior around its own shipped value (docs/method.md,
"Priors on assumptions"). This module:

- loads the file as plain data (``yaml.safe_load``: no code runs from it) and refuses a bad
  entry in one line naming the key, the value and what is allowed, before anything runs;
- checks that every key exists in each arrangement's composed config, holds a number, and
  that the shipped value lies in the prior's support (a fixed prior must equal it);
- draws ``n`` parameter sets by Latin hypercube sampling, from the named stream
  ``(seed, 0, "priors/latin_hypercube")``, so the same seed gives the same draws anywhere;
- turns a draw into Hydra overrides for one arrangement (``key=value``), which compose and
  validate like any command line.

Usage: ``python -m sim.config.priors`` (or ``nhsim priors``) prints the priors;
``--file F`` checks another priors file; ``--draws N [--seed S]`` also writes the draws
(``priors_draws.csv``, one row per draw, arrangement and key) after checking
that every drawn parameter set composes and validates.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.stats import qmc, triang

from sim.errors import ConfigError
from sim.paths import conf_dir
from sim.rng import generator

PRIORS_FILE = "priors.yaml"
DISTRIBUTIONS = ("fixed", "uniform", "triangular")
SECTIONS = ("shared", "per_arrangement")
STREAM = "priors/latin_hypercube"
SHARED = "*"  # the arrangement column of a shared prior's draws
# A basis is labelled as every basis of the config is (sim/analysis/provenance.py): a graded
# citation, "calibrated ..." or "assumption ..." ("unverified ..." is an assumption too).
GRADED_CITATION = re.compile(r"\[src:[a-z0-9][a-z0-9-]*\] \(grade [ABC]\b")
LABELS = ("assumption", "unverified", "calibrated")


@dataclass(frozen=True)
class Prior:
    """One distribution for one key (and, for a per-arrangement prior, one arrangement).

    Attributes
    ----------
    key
        Dotted key of the composed config, e.g. ``lead_provider.handoffs.separate.loss``.
    arrangement
        The lead-provider arrangement it applies to, or :data:`SHARED` for all of them.
    distribution
        ``fixed``, ``uniform`` or ``triangular``.
    low, mode, high
        The support and (triangular) mode; a fixed prior has all three equal to its value.
    basis
        Where the prior comes from, labelled like any config basis.
    """

    key: str
    arrangement: str
    distribution: str
    low: float
    mode: float
    high: float
    basis: str

    @property
    def drawn(self) -> bool:
        """False for a fixed prior, which keeps its value in every draw."""
        return self.distribution != "fixed"

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The values at probabilities ``u`` (inverse-transform sampling)."""
        u = np.asarray(u, dtype=float)
        if self.distribution == "fixed":
            return np.full(u.shape, self.low)
        if self.distribution == "uniform":
            return self.low + u * (self.high - self.low)
        width = self.high - self.low
        shape = (self.mode - self.low) / width
        return np.asarray(triang.ppf(u, shape, loc=self.low, scale=width), dtype=float)

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the support (equals the value of a fixed prior)."""
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Priors:
    """Every prior of the file, and the arrangements they were checked against."""

    priors: tuple[Prior, ...]
    arrangements: tuple[str, ...]

    def for_arrangement(self, arrangement: str) -> list[Prior]:
        """The priors that apply to ``arrangement``: the shared ones and its own."""
        return [p for p in self.priors if p.arrangement in (SHARED, arrangement)]

    def table(self) -> pd.DataFrame:
        """One row per prior: key, arrangement, distribution, low, mode, high, basis."""
        return pd.DataFrame(
            [
                (
                    p.key,
                    p.arrangement,
                    p.distribution,
                    p.low,
                    p.mode if p.distribution != "uniform" else float("nan"),
                    p.high,
                    p.basis,
                )
                for p in self.priors
            ],  # fmt: skip
            columns=["key", "arrangement", "distribution", "low", "mode", "high", "basis"],
        )


# --------------------------------------------------------------------------- loading
def _number(key: str, field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"priors.{key}.{field}", value, "must be a finite number")
    return float(value)


def parse_prior(key: str, arrangement: str, spec: Any, basis: Any) -> Prior:
    """One prior from its YAML mapping; raises :class:`ConfigError` for a bad entry."""
    where = key if arrangement == SHARED else f"{key}.{arrangement}"
    if not isinstance(spec, Mapping):
        raise ConfigError(f"priors.{where}", spec, "must be a mapping with a distribution")
    dist = spec.get("distribution")
    if dist not in DISTRIBUTIONS:
        raise ConfigError(f"priors.{where}.distribution", dist, f"one of {list(DISTRIBUTIONS)}")
    allowed = {
        "fixed": {"distribution", "value", "basis"},
        "uniform": {"distribution", "low", "high", "basis"},
        "triangular": {"distribution", "low", "mode", "high", "basis"},
    }[dist]
    extra = sorted(set(spec) - allowed)
    if extra:
        raise ConfigError(
            f"priors.{where}.{extra[0]}", spec[extra[0]], f"a {dist} prior takes {sorted(allowed)}"
        )
    labelled = isinstance(basis, str) and (
        basis.strip().lower().startswith(LABELS) or GRADED_CITATION.search(basis) is not None
    )
    if not labelled:
        raise ConfigError(
            f"priors.{where}.basis", basis,
            "a labelled basis: [src:<key>] (grade X), calibrated (...) or assumption: ...",
        )  # fmt: skip
    assert isinstance(basis, str)
    if dist == "fixed":
        value = _number(where, "value", spec.get("value"))
        return Prior(key, arrangement, dist, value, value, value, basis)
    low = _number(where, "low", spec.get("low"))
    high = _number(where, "high", spec.get("high"))
    if not low < high:
        raise ConfigError(f"priors.{where}.high", high, f"greater than low ({low:g})")
    mode = (low + high) / 2
    if dist == "triangular":
        mode = _number(where, "mode", spec.get("mode"))
        if not low <= mode <= high:
            raise ConfigError(
                f"priors.{where}.mode", mode, f"between low ({low:g}) and high ({high:g})"
            )
    return Prior(key, arrangement, dist, low, mode, high, basis)


def parse(data: Any, arrangements: Sequence[str]) -> tuple[Prior, ...]:
    """Every prior of a priors document (already read as plain data)."""
    if not isinstance(data, Mapping):
        raise ConfigError("priors", data, f"a mapping with the sections {list(SECTIONS)}")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(
            f"priors.{unknown[0]}", data[unknown[0]], f"one of the sections {list(SECTIONS)}"
        )
    for section in SECTIONS:
        if not isinstance(data.get(section) or {}, Mapping):
            raise ConfigError(f"priors.{section}", data[section], "a mapping of dotted keys")
    out: list[Prior] = []
    for key, spec in (data.get("shared") or {}).items():
        basis = spec.get("basis") if isinstance(spec, Mapping) else None
        out.append(parse_prior(str(key), SHARED, spec, basis))
    for key, by_arrangement in (data.get("per_arrangement") or {}).items():
        if not isinstance(by_arrangement, Mapping):
            raise ConfigError(
                f"priors.{key}", by_arrangement, "a basis and one prior per arrangement"
            )
        named = sorted(set(by_arrangement) - {"basis"})
        if named != sorted(arrangements):
            missing = sorted(set(arrangements) - set(named))
            odd = sorted(set(named) - set(arrangements))
            raise ConfigError(
                f"priors.{key}", ", ".join(odd or missing) or "nothing",
                f"one prior for each arrangement: {sorted(arrangements)} "
                f"({'unknown' if odd else 'missing'} here)",
            )  # fmt: skip
        for arrangement in named:
            out.append(
                parse_prior(
                    str(key), arrangement, by_arrangement[arrangement], by_arrangement.get("basis")
                )
            )
    keys = [(p.key, p.arrangement) for p in out]
    shared = {p.key for p in out if p.arrangement == SHARED}
    both = sorted({k for k, a in keys if a != SHARED} & shared)
    if both:
        raise ConfigError(f"priors.{both[0]}", "shared and per_arrangement", "one section only")
    return tuple(out)


def arrangement_names() -> tuple[str, ...]:
    """The shipped lead-provider arrangements (``conf/lead_provider/*.yaml``)."""
    folder = conf_dir() / "lead_provider"
    return tuple(sorted(p.stem for p in folder.glob("*.yaml") if not p.stem.endswith("_schema")))


def check_against_configs(priors: Sequence[Prior], arrangements: Sequence[str]) -> None:
    """Every key exists and is a number in each arrangement's config, and the shipped value
    lies in its prior's support; raises :class:`ConfigError` naming the first that does not."""
    from sim.config.compose import compose_config
    from sim.config.params import lookup, to_container

    for arrangement in arrangements:
        config = to_container(compose_config(["model=care", f"lead_provider={arrangement}"]))
        for prior in priors:
            if prior.arrangement not in (SHARED, arrangement):
                continue
            where = f"priors.{prior.key}" + (
                "" if prior.arrangement == SHARED else f".{arrangement}"
            )
            value = lookup(config, prior.key)
            if value is None:
                raise ConfigError(where, prior.key, "a key of the composed config")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(where, value, "a key whose value is a number")
            if not prior.contains(float(value)):
                raise ConfigError(
                    where, f"{prior.low:g}..{prior.high:g}",
                    f"a support that holds {arrangement}'s shipped value {float(value):g}",
                )  # fmt: skip


def load(path: Path | None = None, *, check: bool = True) -> Priors:
    """Read and check ``conf/priors.yaml`` (or ``path``).

    Parameters
    ----------
    path
        A priors file; the shipped one by default.
    check
        Also check each key against the composed config of every arrangement.
    """
    path = path or conf_dir() / PRIORS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, f"valid YAML ({str(exc).splitlines()[0]})") from None
    arrangements = arrangement_names()
    priors = parse(data, arrangements)
    if check:
        check_against_configs(priors, arrangements)
    return Priors(priors, arrangements)


# --------------------------------------------------------------------------- drawing
def draw(priors: Priors, n: int, seed: int) -> pd.DataFrame:
    """``n`` parameter sets by Latin hypercube sampling over every drawn prior.

    Each drawn prior (a shared one, or one arrangement's) is a dimension of the hypercube,
    so each of its ``n`` equal-probability strata holds exactly one draw. Fixed priors keep
    their value.

    Returns
    -------
    pandas.DataFrame
        Long table ``draw, arrangement, key, value`` (``arrangement`` is :data:`SHARED` for
        a shared prior).
    """
    if n < 1:
        raise ConfigError("--draws", n, "at least 1")
    drawn = [p for p in priors.priors if p.drawn]
    rows = []
    if drawn:
        sampler = qmc.LatinHypercube(d=len(drawn), seed=generator(seed, 0, STREAM))
        u = sampler.random(n)
        for j, prior in enumerate(drawn):
            for i, value in enumerate(prior.quantile(u[:, j])):
                rows.append((i, prior.arrangement, prior.key, float(value)))
    for prior in priors.priors:
        if not prior.drawn:
            rows += [(i, prior.arrangement, prior.key, prior.low) for i in range(n)]
    table = pd.DataFrame(rows, columns=["draw", "arrangement", "key", "value"])
    return table.sort_values(["draw", "arrangement", "key"], ignore_index=True)


def overrides(draws: pd.DataFrame, index: int, arrangement: str) -> list[str]:
    """Hydra overrides that set draw ``index`` for ``arrangement`` (shared and its own)."""
    rows = draws[(draws["draw"] == index) & draws["arrangement"].isin([SHARED, arrangement])]
    return [f"{row.key}={row.value!r}" for row in rows.itertuples(index=False)]


def check_draws(draws: pd.DataFrame, arrangements: Sequence[str]) -> None:
    """Compose and validate every drawn parameter set, as the command line's pre-flight
    would; raises :class:`ConfigError` for the first that fails."""
    from sim.config.compose import compose_config
    from sim.config.params import validate

    for index in sorted(draws["draw"].unique()):
        for arrangement in arrangements:
            extra = overrides(draws, int(index), arrangement)
            validate(compose_config(["model=care", f"lead_provider={arrangement}", *extra]))


# --------------------------------------------------------------------------- command line
def main(argv: Sequence[str] | None = None) -> int:
    """Print the priors; with ``--draws``, write checked draws to a CSV."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.config.priors", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--draws", type=int, default=0, help="parameter sets to draw (default none)"
    )
    parser.add_argument("--seed", type=int, default=20261205, help="seed of the Latin hypercube")
    parser.add_argument(
        "--out", type=Path, default=Path("priors_draws.csv"), help="where to write the draws"
    )
    parser.add_argument(
        "--file", type=Path, default=None, help="a priors file to check (default conf/priors.yaml)"
    )
    args = parser.parse_args(argv)
    try:
        if args.file is not None and not args.file.is_file():
            raise ConfigError("--file", str(args.file), "an existing priors file")
        priors = load(args.file)
        table = priors.table()
        with pd.option_context("display.width", 160, "display.max_colwidth", 40):
            print(table.drop(columns="basis").to_string(index=False))
        if args.draws:
            draws = draw(priors, args.draws, args.seed)
            check_draws(draws, priors.arrangements)
            from sim import io

            io.write_csv(args.out, draws)
            print(
                f"\nwrote {args.out}: {args.draws} draws, each composed and validated for "
                f"{len(priors.arrangements)} arrangements"
            )
    except ConfigError as exc:
        print(f"nhsim.priors: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
