"""Bad-input fuzz tier: hundreds of invalid inputs, each refused with one readable line.

Every case is something the validator is documented to reject (``sim/config/checks.py``,
``sim/config/params.py``, ``sim/models/*/params.py``, ``sim/cli/preflight.py``). For each one
the test asserts that validation raises :class:`sim.errors.ConfigError` whose message is one line,
``<key> = <value>: <what is allowed>``, naming the offending dotted key and the bad value.

Layers:

* Leaf cases. The default configs (``model=queue``, ``model=jackson3``, and ``model=care``
  with every ``place`` and ``lead_provider``) are composed once; each numeric leaf is
  replaced by values wrong for its kind (negative, NaN, infinity, a probability above 1, 0
  where a value must be positive, a fraction where a count is needed, a string, a list,
  null) and the plain dict goes through :func:`sim.config.params.validate`. Queue leaves get every
  bad value of their kind; a care validation costs 0.2-0.3 s, so each care (and jackson3)
  leaf family (a scalar, or one open row of age bands, quintiles or hours) gets one leaf
  and one bad value, picked by a hash of the family's name.
* Rule cases: cross-field rules (warm-up at least the horizon, rows not summing to 1,
  capacity below servers, unknown routing targets, budgets that do not fit...).
* Command-line cases through :func:`sim.cli.preflight.check`: unknown keys and group options,
  malformed override syntax, sweeps in which only one job is bad.
* Valid neighbours: boundary values next to the bad ones (probability 0 and 1, warm-up 0,
  capacity equal to servers...) must be accepted, so the tier fails if validation becomes
  too strict.
* Hypothesis: garbage strings and out-of-range numbers on a sample of queue keys
  (derandomised, so every run sees the same examples).
* A subprocess sample through the real CLI: exit code 2, exactly one stderr line starting
  ``nhsim: error:``, no traceback, nothing created under the outputs root.

The in-process outcomes are computed once for the module on forked worker processes
(``NHSIM_FUZZ_WORKERS``, default 2; 1 runs them in this process).

A bug this file finds and that is not fixed at once is added as a case marked
``pytest.mark.xfail(strict=True, raises=AssertionError, reason=...)``, so the suite reports
it until it is fixed; fixed bugs stay as regular cases in ``FIXED_CASES``. None is open now.
"""

from __future__ import annotations

import copy
import fnmatch
import math
import multiprocessing
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, is_dataclass
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from hydra import compose, initialize_config_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

import sim.cli.app  # noqa: F401  (registers resolvers and schemas, as the CLI does)
from sim.cli.preflight import check
from sim.config.params import validate
from sim.config.schema import OutputConfig, RunConfig
from sim.errors import ConfigError
from sim.models.care import schema as care_schema
from sim.models.queue_network.params import QueueModelConfig
from sim.paths import conf_dir

NAN, INF = math.nan, math.inf
DELETE = "<delete>"  # a Case value that removes the key instead of setting it

# ------------------------------------------------------------------------ base configs
BASES: dict[str, tuple[str, ...]] = {
    "queue": ("model=queue",),
    "jackson3": ("model=jackson3",),
    "care": ("model=care", "place=neighbourhood_50k", "lead_provider=status_quo"),
    "care@mnp_250k": ("model=care", "place=mnp_250k", "lead_provider=status_quo"),
    "care@sel_1_9m": ("model=care", "place=sel_1_9m", "lead_provider=status_quo"),
    "care+alliance": ("model=care", "place=neighbourhood_50k", "lead_provider=alliance"),
    "care+federation_led": (
        "model=care",
        "place=neighbourhood_50k",
        "lead_provider=federation_led",
    ),
    "care+trust_led": ("model=care", "place=neighbourhood_50k", "lead_provider=trust_led"),
}


@cache
def composed(base: str) -> dict[str, Any]:
    """The resolved default config of ``base`` as a plain dict (compose once, then copy)."""
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(BASES[base]))
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


def leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``(dotted path, value)`` leaf of a plain config tree; list items by index."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaves(value, f"{path}.{i}")
    else:
        yield path, node


def with_change(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with ``path`` set to ``value`` (or removed, for DELETE).

    Path parts that are digits index lists; missing mapping levels are created, as a
    ``+key=value`` override would.
    """
    out = copy.deepcopy(data)
    node: Any = out
    parts = path.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif isinstance(value, str) and value == DELETE:
        del node[last]
    else:
        node[last] = value
    return out


# ------------------------------------------------------------------------ leaf kinds
# Documented rules, from sim/models/care/params.py and sim/models/queue_network/params.py.
# First matching pattern wins; every other number is "nonneg" (_all_finite_nonneg).
KIND_PATTERNS: tuple[tuple[str, str], ...] = (
    ("*.continuity_effect_per_0_2_upc", "signed"),
    ("run.seed", "seed"),
    ("run.warm_up", "nonneg"),
    ("run.horizon", "positive"),
    ("run.replications", "count"),
    ("run.workers", "count"),
    ("run.progress", "bool"),
    ("run.cache", "bool"),
    ("run.overwrite", "bool"),
    ("output.*", "bool"),
    ("model.nodes.*.servers", "count"),
    ("model.nodes.*.capacity", "capacity"),
    ("model.nodes.*.service_rate", "positive"),
    ("model.nodes.*.service_cv", "positive"),
    ("model.nodes.*.arrival_rate", "nonneg"),
    ("model.nodes.*.routing.*", "prob"),
    ("model.nodes.*.priority_mix.*", "prob"),
    ("model.general_practice.booking_window_days", "count"),
    ("model.proactive.min_ltc", "int0"),
    ("model.urgent.headroom", "headroom"),
    ("model.care_home_refill_days", "nonneg_or_inf"),
    ("model.ucr.open_hour", "hour"),
    ("model.ucr.close_hour", "hour"),
    ("place.list_size_m*", "count"),
    ("place.areas.*.population", "count"),
    ("place.areas.*.neighbourhoods", "count"),
    # checks.positive
    ("model.general_practice.routine_planned_lead_mean_days", "positive"),
    ("model.ucr.visit_hours_mean", "positive"),
    ("model.ed.treatment_*", "positive"),
    ("model.ed.utc_*", "positive"),
    ("model.hospital.los_cv", "positive"),
    ("model.step_down.stay_*", "positive"),
    ("model.virtual_ward.stay_*", "positive"),
    ("model.eol.phase_days", "positive"),
    ("model.eol.terminal_lead_days_mean", "positive"),
    ("model.costs.annual_cost_per_place.*", "positive"),
    # checks.probability, alone or inside checks.distribution
    ("model.population.male_share", "prob"),
    ("model.population.frailty_shares.*", "prob"),
    ("model.population.care_home_share.*", "prob"),
    ("model.population.care_home_frailty_shares.*", "prob"),
    ("model.general_practice.*_share", "prob"),
    ("model.general_practice.continuity_reference", "prob"),
    ("model.general_practice.outcome_shares.*", "prob"),
    ("model.general_practice.overflow_shares.*", "prob"),
    ("model.urgent.minor_shares.*", "prob"),
    ("model.urgent.*_share", "prob"),
    ("model.ucr.*_share", "prob"),
    ("model.proactive.crisis_rate_ratio", "prob"),
    ("model.proactive.base_case_finding", "prob"),
    ("model.ed.admit_crisis.*", "prob"),
    ("model.ed.admit_minor", "prob"),
    ("model.hospital.elective_bed_share", "prob"),
    ("model.social_care.pathway_shares.*", "prob"),
    ("model.social_care.p1_virtual_ward_share", "prob"),
    ("model.eol.*_share", "prob"),
    ("model.eol.terminal_event_share.*", "prob"),
    ("model.eol.place_*", "prob"),
    ("model.care_home_vacancy_share", "prob"),
    ("place.age_shares.*", "prob"),
    ("place.areas.*.deprivation_shares.*", "prob"),
    ("place.areas.*.age_shares.*", "prob"),
    ("lead_provider.handoffs.*.loss", "prob"),
    ("lead_provider.budget.allocation.*", "prob"),
    ("lead_provider.*_share", "prob"),
    ("lead_provider.practices.autonomy", "prob"),
    ("lead_provider.practices.enhanced_services_moved_out_share", "prob"),
)
TYPE_BAD: tuple[Any, ...] = ("abc", [1], None)
BAD_BY_KIND: dict[str, tuple[Any, ...]] = {
    "prob": (1.5, -0.1, NAN, INF, -INF, 2.0, *TYPE_BAD),
    "nonneg": (-1, NAN, INF, -0.5, -INF, *TYPE_BAD),
    "positive": (0, -1, NAN, INF, -0.5, -INF, *TYPE_BAD),
    "count": (0, -1, 2.5, *TYPE_BAD, True),
    "capacity": (0, -1, 2.5, "abc", [1], True),
    "int0": (-1, 2.5, *TYPE_BAD),
    "seed": (-1, 2**63, 2.5, -4, *TYPE_BAD, True),
    "signed": (NAN, INF, -INF, *TYPE_BAD),
    "nonneg_or_inf": (-1, NAN, -INF, -0.5, *TYPE_BAD),
    "headroom": (0.5, 0, -1, NAN, *TYPE_BAD),
    "hour": (-1, NAN, INF, *TYPE_BAD),
    "bool": ("abc", [1], None, "maybe"),
}
POOLED = re.compile(r"^(place\.areas|lead_provider\.handoffs)\.[^.]+\.")


def kind_of(path: str, value: Any) -> str | None:
    """The documented kind of a leaf, or ``None`` for leaves not fuzzed by value."""
    if ".basis." in path:  # provenance text (sim.analysis.provenance), not a model value
        return None
    for pattern, kind in KIND_PATTERNS:
        if fnmatch.fnmatchcase(path, pattern):
            return kind
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # names and words are covered by the rule cases
    return "nonneg"


# ------------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    """One input: a base config with one change, or a command line.

    ``key`` is the dotted key the error must name (default: ``path``, or an ancestor of it
    up to two levels up, for row sums and typed rows); ``shown`` is the text the message
    must contain for the bad value (default: a rendering of ``value``).
    """

    ident: str
    base: str = ""
    path: str = ""
    value: Any = None
    argv: tuple[str, ...] = ()
    key: str | None = None
    shown: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What validating a case did: ``kind`` is ``accepted``, ``ConfigError`` or a crash."""

    kind: str
    key: str | None = None
    message: str = ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _schema_for(section: str, base: str) -> type:
    if section == "run":
        return RunConfig
    if section == "output":
        return OutputConfig
    if section == "place":
        return care_schema.PlaceSchema
    if section == "lead_provider":
        return care_schema.LeadProviderSchema
    return care_schema.CareModelConfig if base.startswith("care") else QueueModelConfig


def in_open_row(path: str, schema: type) -> bool:
    """True when ``path`` lies inside a ``dict[...]``/``list[...]`` of plain values.

    OmegaConf 2.3 checks a scalar field's type, but not whether an item of a typed mapping
    or list is itself a container, so a list there is left to the value checks.
    """
    node: Any = schema
    parts = path.split(".")[1:]
    i = 0
    while i < len(parts):
        if not is_dataclass(node):
            return False
        hint = get_type_hints(node).get(parts[i])
        if get_origin(hint) in (Union, UnionType):  # Optional[X] -> X
            hint = next(a for a in get_args(hint) if a is not type(None))
        if get_origin(hint) in (dict, list):
            element = get_args(hint)[-1]
            if is_dataclass(element):
                node, i = element, i + 2
                continue
            return True
        node, i = hint, i + 1
    return False


def family(path: str, schema: type) -> str:
    """A leaf's family: its open row (``...los_mean_days.*``) or itself.

    Areas and handoff boundaries are pooled (``place.areas.*.population``).
    """
    path = POOLED.sub(r"\1.*.", path)
    parts = path.split(".")
    for i in range(2, len(parts)):
        prefix = ".".join(parts[:i])
        if in_open_row(prefix + ".x", schema):
            return prefix + ".*"
    return path


def leaf_cases() -> list[Any]:
    """Bad values for the numeric (and boolean) leaves of every base config.

    Queue leaves get every bad value of their kind. Care and jackson3 leaves are grouped in
    families (a scalar, or one open row such as ``los_mean_days.*``; areas and the files of
    the place and lead_provider groups are pooled) and each family gets one leaf and one bad
    value, both picked by a hash of the family's name so that a new key elsewhere never
    changes which case a family gets.
    """
    out: list[Any] = []

    def add(base: str, section: str, path: str, kind: str, pick: int | None = None) -> None:
        bad = BAD_BY_KIND[kind]
        if pick is not None:
            bad = (bad[pick % len(bad)],)
        for b in bad:
            case = Case(f"{base}:{path}={_short(b)}", base, path, b)
            out.append(pytest.param(case, id=case.ident))

    for section in ("run", "output", "model"):
        for path, value in leaves(composed("queue")[section], section):
            kind = kind_of(path, value)
            if kind is not None:
                add("queue", section, path, kind)
    groups = (
        ("model", ("jackson3",)),
        ("run", ("care",)),
        ("model", ("care",)),
        ("place", ("care", "care@mnp_250k", "care@sel_1_9m")),
        ("lead_provider", ("care", "care+alliance", "care+federation_led", "care+trust_led")),
    )
    for section, bases in groups:
        families: dict[str, list[tuple[str, str, Any]]] = {}
        for base in bases:
            for path, value in leaves(composed(base)[section], section):
                if kind_of(path, value) is not None:
                    fam = family(path, _schema_for(section, base))
                    families.setdefault(fam, []).append((base, path, value))
        for fam, members in families.items():
            pick = zlib.crc32(fam.encode())
            base, path, value = members[pick % len(members)]
            add(base, section, path, kind_of(path, value) or "nonneg", pick // 7)
    return out


def _rule(base: str, path: str, value: Any, key: str | None = None, **kw: Any) -> Case:
    """A case that sets ``path`` of ``base`` to ``value``."""
    return Case(f"{base}:{path}={_short(value)}", base, path, value, key=key, **kw)


def rule_cases() -> list[Any]:
    """Cross-field and structural rules, each with the key the error must name."""
    q, j, c = "queue", "jackson3", "care"
    nodes = "model.nodes"
    cases: list[Any] = [
        # run section
        _rule(q, "run.warm_up", 20000.0),
        _rule(q, "run.warm_up", 20001),
        _rule(q, "run.warm_up", 1e9),
        _rule(c, "run.horizon", 60.0, key="run.warm_up", shown="60"),
        _rule(q, "run.horizon", 999.0, key="run.warm_up", shown="1000"),
        _rule(q, "run.seed", 2**64),
        _rule(q, "run.replications", 10**3 + 0.5),
        _rule(q, "run.nonsense", 1),
        _rule(q, "output.colour", "blue"),
        _rule(q, "colour", "blue"),
        _rule(q, "model.kind", "bogus"),
        _rule(c, "model.kind", "queue", key="model.population", shown="allowed here: kind"),
        _rule(q, "model", None),
        _rule(q, "model", "queue"),
        # queue network
        _rule(q, nodes, {}),
        _rule(q, "model.nodes.a.servrs", 3),
        _rule(q, "model.nodes.a.speed", 2),
        _rule(q, "model.nodes.a.capacity", 4),
        _rule(j, "model.nodes.a.capacity", 1),
        _rule(j, "model.nodes.c.capacity", 2),
        _rule(q, "model.nodes.a.service_distribution", "gamma"),
        _rule(q, "model.nodes.a.service_distribution", "Exponential"),
        _rule(q, "model.nodes.a.service_distribution", ""),
        _rule(q, "model.nodes.a.discipline", "lifo"),
        _rule(q, "model.nodes.a.discipline", "FIFO"),
        _rule(q, "model.nodes.a.discipline", None),
        _rule(q, "model.nodes.a.blocked_to", "a"),
        _rule(q, "model.nodes.a.blocked_to", "zz"),
        _rule(j, "model.nodes.b.blocked_to", "b"),
        _rule(j, "model.nodes.b.blocked_to", "d"),
        _rule(q, "model.nodes.a.routing.a", 1.5),
        _rule(q, "model.nodes.a.routing.zz", 0.5),
        _rule(q, "model.nodes.a.routing.a", -0.1),
        _rule(q, "model.nodes.a.routing.a", NAN),
        _rule(q, "model.nodes.a.routing.a", "abc"),
        _rule(j, "model.nodes.a.routing.b", 0.8, key="model.nodes.a.routing", shown="1.1"),
        _rule(j, "model.nodes.b.routing.c", 0.9, key="model.nodes.b.routing", shown="1.1"),
        _rule(j, "model.nodes.c.routing", {"a": 0.6, "b": 0.6}),
        _rule(j, "model.nodes.c.routing.d", 0.1),
        _rule(q, "model.nodes.a.priority_mix", [0.5, 0.5]),
        _rule(
            q,
            "model.nodes.a.priority_mix",
            [0.7, 0.7],
            key="model.nodes.a.priority_mix",
            shown="1.4",
        ),
        _rule(
            q, "model.nodes.a.priority_mix", [0.5], key="model.nodes.a.priority_mix", shown="0.5"
        ),
        _rule(q, "model.nodes.a.priority_mix", "abc"),
        _rule(q, "model.nodes.a.arrival_rate", 0.0, key=nodes, shown="arrival_rate = 0"),
        _rule(q, "model.nodes.a", None, key="model.nodes.a"),
        # care model: rows, bands and orders
        _rule(c, "model.ucr.open_hour", 21.0, key="model.ucr.close_hour", shown="20"),
        _rule(c, "model.ucr.close_hour", 25.0),
        _rule(c, "model.ucr.min_age_band", "90+"),
        _rule(c, "model.proactive.min_frailty", "very"),
        _rule(c, "model.urgent.hour_weights", [0.0] * 24),
        _rule(c, "model.urgent.hour_weights", [1.0] * 23),
        _rule(c, "model.urgent.headroom", 0.99),
        _rule(c, "model.general_practice.outcome_shares.resolved", 0.5),
        _rule(c, "model.general_practice.overflow_shares.nhs111", 0.9),
        _rule(c, "model.general_practice.overflow_shares.self_care", DELETE, shown="nhs111"),
        _rule(c, "model.social_care.pathway_shares.85+.p0", 0.5),
        _rule(c, "model.eol.place_at_home.home", 0.9),
        _rule(c, "model.eol.place_in_care_home", {"care_home": 1.0}, shown="care_home"),
        _rule(c, "model.hospital.los_mean_days.90+", 9.0, key="model.hospital.los_mean_days"),
        _rule(c, "model.population.ltc_deprivation_multiplier", [1.0] * 4),
        _rule(c, "model.costs.unit.bed_day", DELETE, key="model.costs.unit", shown="bed_day"),
        _rule(c, "model.costs.annual_cost_per_place.ucr", DELETE, shown="proactive_care"),
        _rule(c, "model.hospital.typo", 2),
        _rule(c, "model.hospital", 3),
        # care: place
        _rule(c, "place.list_size_max", 5000, shown="5000"),
        _rule(c, "place.age_shares.0-17", 0.5),
        _rule(c, "place.areas", {}),
        _rule(c, "place.areas.neighbourhood.deprivation_shares", [0.5] * 5, shown="sum to 2.5"),
        _rule(c, "place.areas.neighbourhood.deprivation_shares", [0.25] * 4),
        _rule(c, "place.areas.neighbourhood.age_shares", {"0-17": 1.0}, shown="0-17"),
        _rule(c, "place.capacity_overrides.wards", 3),
        _rule(c, "place.capacity_overrides.beds", -3.0),
        _rule(c, "place.capacity_overrides.beds", NAN),
        _rule(c, "place.capacity_overrides.ed_clinicians", 0.0),
        _rule(c, "place.area_arrangements.nowhere", "alliance"),
        _rule(c, "place.area_arrangements.neighbourhood", "atlantis"),
        _rule(c, "place.area_arrangements.neighbourhood", "../status_quo"),
        _rule("care@sel_1_9m", "place.areas.bexley.population", 0),
        _rule("care@sel_1_9m", "place.areas.lambeth.age_shares.85+", 0.5),
        _rule("care@sel_1_9m", "place.area_arrangements.bexley", "nobody"),
        _rule("care@mnp_250k", "place.areas.mnp.neighbourhoods", 0),
        # care: lead_provider
        _rule(c, "lead_provider.priority_rule", "random"),
        _rule(c, "lead_provider.budget.allocation.ucr", 0.5),
        _rule(c, "lead_provider.budget.allocation.ucr", [0.5]),
        _rule(c, "lead_provider.budget.allocation.analytics", DELETE, shown="proactive_care"),
        _rule(c, "lead_provider.handoffs.alliance", DELETE, shown="same_organisation"),
        _rule(c, "lead_provider.organisations.ed", DELETE, shown="general_practice"),
        _rule(c, "lead_provider.alliances.x", ["martians"], shown="martians"),
        _rule(c, "lead_provider.practices.payment_per_weighted_patient_gbp", 1000.0),
        _rule(c, "lead_provider.typo", 1),
        _rule(
            "care+alliance",
            "lead_provider.alliances.second",
            ["acute_trust"],
            shown="acute_trust",
        ),
    ]
    return cases


# Command lines through sim.cli.preflight.check: (argv, key the error must name, value shown).
ARGV_CASES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("model=queue", "+run.nonsense=1"), "run.nonsense", "1"),
    (("model=queue", "run.nonsense=1"), "run.nonsense", "1"),
    (("model=care", "+model.hospital.typo=2"), "model.hospital.typo", "2"),
    (("model=queue", "+model.nodes.a.servrs=3"), "model.nodes.a.servrs", "3"),
    (("model=queue", "+output.colour=blue"), "output.colour", "blue"),
    (("place=atlantis",), "place", "atlantis"),
    (("model=queue", "lead_provider=anarchy"), "lead_provider", "anarchy"),
    (("model=nope",), "model", "nope"),
    (("model=queue", "model.nodes.a.servers=abc"), "model.nodes.a.servers", "abc"),
    (("model=queue", "model.nodes.a.servers=[1,2]"), "model.nodes.a.servers", "[1,2]"),
    (("model=queue", "model.nodes.a.servers=null"), "model.nodes.a.servers", "null"),
    (("model=queue", "model.nodes.a.routing=[0.5]"), "model.nodes.a.routing", "[0.5]"),
    (("model=queue", "model.nodes.a=[1,2]"), "model.nodes.a", "[1,2]"),
    (
        ("model=care", "model.hospital.los_frailty_multiplier.fit=[1]"),
        "model.hospital.los_frailty_multiplier.fit",
        "[1]",
    ),
    (("model=queue", "model.nodes.a.servers=2.5"), "model.nodes.a.servers", "2.5"),
    (("model=queue", "model.nodes.a.servers=true"), "model.nodes.a.servers", "true"),
    (("model=queue", "run.replications=1e3"), "run.replications", "1000.0"),
    (("model=queue", "run.horizon=abc"), "run.horizon", "abc"),
    (("model=queue", "run.seed=9223372036854775808"), "run.seed", "9223372036854775808"),
    (("model=queue", "output.event_log=maybe"), "output.event_log", "maybe"),
    (("model=queue", "run=null"), "run", "null"),
    (("model=queue", "model.nodes.a.servers=5,6"), "model.nodes.a.servers", "5,6"),
    (("-m", "model=queue", "run.seed=1,2,bad"), "run.seed", "bad"),
    (("-m", "model=queue", "model.nodes.a.service_rate=1,0"), "model.nodes.a.service_rate", "0"),
    (("-m", "model=queue", "run.warm_up=0,20000"), "run.warm_up", "20000"),
    (("-m", "model=queue", "model.nodes.a.arrival_rate=4.5,-1,3"), "arrival_rate", "-1"),
    (("-m", "model=queue", "run.seed=range(0,100000)"), "sweep", "100000"),
    (("-m", "model=queue", "run.replications=2", "model.nodes.a.servers=0,5"), "servers", "0"),
    (("-m", "model=queue,nope"), "model", "nope"),
    (
        ("model=queue", "+hydra.callbacks.evil._target_=os.system"),
        "hydra.callbacks.evil._target_",
        "os.system",
    ),
    (("model=queue", "~model"), "model", "None"),
)
# Malformed override syntax: Hydra's parser refuses these; the pre-flight turns that into
# one line (they once escaped as a raw HydraException / ValueError).
MALFORMED: tuple[tuple[str, ...], ...] = (
    ("model=queue", "run.seed==3"),
    ("model=queue", "run.seed=["),
    ("model=queue", "run.seed=]"),
    ("model=queue", "run.seed='abc"),
    ("model=queue", "run.seed={a:"),
    ("model=queue", "run..seed=1"),
    ("model=queue", "run seed=3"),
    ("model=queue", "run.seed"),
    ("model=queue", "model.hospital.los_mean_days.85+=3"),
    ("-m", "model=queue", "run.seed=1,,2"),
    ("-m", "model=queue", "run.seed==3"),
)
CRASHING: tuple[tuple[str, ...], ...] = (("model=queue", "=3"), ("model=queue", "model=null"))


def argv_cases() -> list[Any]:
    """Command-line cases: unknown keys and options, wrong types, malformed syntax."""
    out: list[Any] = [
        Case("argv:" + " ".join(argv), argv=argv, key=key, shown=shown)
        for argv, key, shown in ARGV_CASES
    ]
    for argv in MALFORMED:
        case = Case("argv:" + " ".join(argv), argv=argv, key="override", shown=argv[-1])
        out.append(case)
    for argv in CRASHING:
        case = Case("argv:" + " ".join(argv), argv=argv, key=None, shown=None)
        out.append(case)
    return out


# Found by this file and fixed: each once crashed, was accepted, or printed several lines.
FIXED_CASES: list[Any] = [
    _rule("care", "place.capacity_overrides.beds", 2.5),
    _rule("care", "place.capacity_overrides.ucr_teams", 0.5),
    # A list or mapping where a number belongs inside an open row (was searched for numbers).
    _rule("care", "model.hospital.los_frailty_multiplier.fit", [1]),
    _rule("care", "model.costs.unit.ambulance_conveyance", [1]),
    _rule("care", "model.ed.admit_frailty_multiplier.mild", {"a": 1}),
    _rule("care", "model.population.ltc_deprivation_multiplier.2", [1]),
    # An age band left out of a row (was filled with 0.0 from the schema default).
    _rule("care", "model.population.ltc_mean.85+", DELETE, shown="0-17"),
    _rule("care", "model.mortality.per_1000_by_age.0-17", DELETE, shown="18-44"),
    # list_size_min=0 (blamed list_size_max); a deprivation share above 1 (1-based index).
    _rule("care", "place.list_size_min", 0),
    _rule("care@mnp_250k", "place.areas.mnp.deprivation_shares.4", 1.5),
    # validate(dict) with a list where a mapping belongs (said "Cannot merge", no key).
    _rule("queue", "model.nodes.a.routing", [0.5], shown="[0.5]"),
    # A wrong-typed list item (was shown as "[0] = None").
    Case(
        "queue:model.nodes.a.priority_mix.0='abc' (value at the head)",
        "queue",
        "model.nodes.a.priority_mix.0",
        "abc",
        shown="= 'abc'",
    ),
    Case(
        "argv:model=queue run.seed=${oc.env:NHSIM_FUZZ_UNSET}",
        argv=("model=queue", "run.seed=${oc.env:NHSIM_FUZZ_UNSET}"),
        key="run.seed",
        shown="NHSIM_FUZZ_UNSET",
    ),
]

# Valid neighbours: boundary values next to the bad ones, which must be accepted.
VALID: tuple[tuple[str, str, Any], ...] = (
    ("queue", "run.seed", 0),
    ("queue", "run.seed", 2**63 - 1),
    ("queue", "run.warm_up", 0.0),
    ("queue", "run.warm_up", 19999.5),
    ("queue", "run.replications", 1),
    ("queue", "run.horizon", 1e-3 + 1000.0),
    ("queue", "model.nodes.a.capacity", 5),
    ("queue", "model.nodes.a.capacity", 10**6),
    ("queue", "model.nodes.a.servers", 1),
    ("queue", "model.nodes.a.service_rate", 1e-9),
    ("queue", "model.nodes.a.service_cv", 5.0),
    ("queue", "model.nodes.a.service_distribution", "lognormal"),
    ("queue", "model.nodes.a.discipline", "priority"),
    ("queue", "model.nodes.a.routing", {"a": 0.0}),
    ("queue", "model.nodes.a.routing", {"a": 0.999}),
    ("jackson3", "model.nodes.a.routing", {"b": 0.7, "c": 0.3}),
    ("jackson3", "model.nodes.a.arrival_rate", 0.0),
    ("jackson3", "model.nodes.b.blocked_to", "c"),
    ("jackson3", "model.nodes.c.capacity", 3),
    ("care", "model.ucr.referral_share", 1.0),
    ("care", "model.ucr.close_hour", 24.0),
    # A headroom just above the largest crisis multiplier continuity can give (1.19, at a
    # measured continuity of 0) is accepted (the post-discharge excess has its own stream;
    # tests/model/test_consequences.py refuses a headroom below the bound).
    ("care", "model.urgent.headroom", 1.2),
    # the strongest continuity effect the shipped headroom (1.25) allows: 1 + 0.08/0.2 x 0.61
    ("care", "model.urgent.continuity_effect_per_0_2_upc", -0.08),
    ("care", "place.capacity_overrides.beds", 0.0),
    ("care", "place.capacity_overrides.step_down_places", INF),
    ("care@sel_1_9m", "place.areas.bexley.neighbourhoods", 1),
    # A whole number in a row of rows (was refused as the wrong type; 0.0 was accepted).
    ("care", "model.social_care.pathway_shares.0-17.p3", 0),
)


def valid_cases() -> list[Any]:
    """Valid neighbours as cases."""
    return [Case(f"{base}:{path}={_short(v)}", base, path, v) for base, path, v in VALID]


LEAF_CASES = leaf_cases()
RULE_CASES = rule_cases()
ARGV = argv_cases()
VALID_CASES = valid_cases()


def _case(item: Any) -> Case:
    return item.values[0] if hasattr(item, "values") else item


ALL_CASES: list[Case] = [
    _case(x) for x in (*LEAF_CASES, *RULE_CASES, *ARGV, *FIXED_CASES, *VALID_CASES)
]


# ------------------------------------------------------------------------ running
def outcome_of(case: Case) -> Outcome:
    """Validate one case and say what happened (never raises)."""
    try:
        if case.argv:
            check(list(case.argv))
        else:
            validate(with_change(composed(case.base), case.path, case.value))
    except ConfigError as exc:
        return Outcome("ConfigError", exc.key, str(exc))
    except Exception as exc:  # noqa: BLE001  (a crash is an outcome to report)
        return Outcome(type(exc).__name__, None, f"{type(exc).__name__}: {exc}"[:500])
    return Outcome("accepted")


def _workers() -> int:
    """Worker processes for the in-process cases (``NHSIM_FUZZ_WORKERS``, default 2)."""
    wanted = int(os.environ.get("NHSIM_FUZZ_WORKERS", "2"))
    if wanted < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(wanted, os.cpu_count() or 1) or 1


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    """Every in-process case's outcome, computed once (in forked workers when possible)."""
    for base in BASES:
        composed(base)  # compose in the parent so that forked workers inherit the cache
    workers = _workers()
    if workers == 1:
        results = [outcome_of(c) for c in ALL_CASES]
    else:
        # chunks of four cases go to whichever worker is free
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map_async(outcome_of, ALL_CASES, chunksize=4).get(timeout=900)
    return {c.ident: r for c, r in zip(ALL_CASES, results, strict=True)}


# ------------------------------------------------------------------------ assertions
def _renderings(value: Any) -> set[str]:
    out = {repr(value), str(value)}
    if isinstance(value, int | float) and not isinstance(value, bool):
        out |= {repr(float(value)), f"{value:g}"}
    return out


def _normal(key: str) -> str:
    return re.sub(r"\[(\d+)\]", r".\1", key)


def assert_rejected(case: Case, got: Outcome) -> None:
    """A ConfigError, one line ``<key> = <value>: ...`` naming the key and the bad value."""
    assert got.kind == "ConfigError", f"{case.ident}: expected a ConfigError, got {got}"
    message, key = got.message, got.key or ""
    assert message and "\n" not in message and "\r" not in message, repr(message)
    assert message.startswith(f"{key} = "), message
    reported = _normal(key)
    if case.key is not None:
        assert reported == case.key or reported.endswith("." + case.key), (case.key, message)
    elif case.path:
        depth = case.path.count(".")
        ancestor = case.path.startswith(reported + ".") and reported.count(".") >= depth - 2
        assert reported == case.path or ancestor, (case.path, message)
    if case.shown is not None:
        assert case.shown in message, (case.shown, message)
    elif not case.argv:
        assert any(r in message for r in _renderings(case.value)), (case.value, message)


def test_at_least_300_distinct_bad_inputs() -> None:
    """The tier keeps its breadth: at least 300 distinct bad inputs."""
    bad = [*LEAF_CASES, *RULE_CASES, *ARGV, *FIXED_CASES]
    idents = {_case(x).ident for x in bad}
    assert len(idents) == len(bad), "duplicate case ids"
    assert len(idents) >= 300, len(idents)


@pytest.mark.parametrize("case", FIXED_CASES, ids=lambda c: c.ident)
def test_fixed_bad_inputs_are_refused(case: Case, outcomes: dict[str, Outcome]) -> None:
    """Inputs that once slipped through (found by this file) are refused in one line."""
    assert_rejected(case, outcomes[case.ident])


@pytest.mark.parametrize("case", LEAF_CASES, ids=lambda c: c.ident)
def test_bad_leaf_value_is_refused(case: Case, outcomes: dict[str, Outcome]) -> None:
    """Every numeric leaf refuses values wrong for its kind, naming key and value."""
    assert_rejected(case, outcomes[case.ident])


@pytest.mark.parametrize("case", RULE_CASES, ids=lambda c: c.ident)
def test_broken_rule_is_refused(case: Case, outcomes: dict[str, Outcome]) -> None:
    """Cross-field and structural rules refuse the config, naming the key they break."""
    assert_rejected(case, outcomes[case.ident])


@pytest.mark.parametrize("case", ARGV, ids=lambda c: c.ident)
def test_bad_command_line_is_refused_by_preflight(case: Case, outcomes: dict[str, Outcome]) -> None:
    """The pre-flight turns every bad override (and bad sweep job) into one ConfigError."""
    assert_rejected(case, outcomes[case.ident])


@pytest.mark.parametrize("case", VALID_CASES, ids=lambda c: _case(c).ident)
def test_valid_neighbour_is_accepted(case: Case, outcomes: dict[str, Outcome]) -> None:
    """A boundary value beside the bad ones validates, so the checks are not too strict."""
    got = outcomes[case.ident]
    assert got.kind == "accepted", f"{case.ident}: {got.message}"


# ------------------------------------------------------------------------ hypothesis
# HYPOTHESIS_PROFILE (as in tests/property/conftest.py): "ci" (default) is derandomised with
# 40 examples per property; "dev" and "long" draw random examples, 5x and 50x as many.
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
FUZZ = settings(
    max_examples=40 * {"dev": 5, "long": 50}.get(PROFILE, 1),
    deadline=None,
    derandomize=PROFILE not in ("dev", "long"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
QUEUE_NUMERIC_KEYS = (
    "run.seed",
    "run.replications",
    "run.horizon",
    "run.warm_up",
    "run.workers",
    "model.nodes.a.arrival_rate",
    "model.nodes.a.servers",
    "model.nodes.a.service_rate",
    "model.nodes.a.service_cv",
    "model.nodes.a.capacity",
)
QUEUE_WORD_KEYS = ("model.nodes.a.service_distribution", "model.nodes.a.discipline")


def _is_number_text(text: str) -> bool:
    """True for text OmegaConf would convert to a number or a bool (not garbage)."""
    try:
        float(text)
    except ValueError:
        return text.strip().lower() in {"true", "false", "yes", "no", "on", "off"}
    return True


def _validate_queue(path: str, value: Any) -> Outcome:
    return outcome_of(Case("hypothesis", "queue", path, value))


@FUZZ
@given(key=st.sampled_from(QUEUE_NUMERIC_KEYS), text=st.text(max_size=20))
def test_garbage_text_in_a_number_is_refused(key: str, text: str) -> None:
    """Any string that is not a number, put where a number belongs, is refused cleanly."""
    if _is_number_text(text) or "${" in text:
        return  # numbers are other tests' business; interpolations are resolved earlier
    case = Case("hypothesis", "queue", key, text)
    assert_rejected(case, _validate_queue(key, text))


@FUZZ
@given(key=st.sampled_from(QUEUE_WORD_KEYS), text=st.text(max_size=20))
def test_garbage_text_in_a_choice_is_refused(key: str, text: str) -> None:
    """Any word outside a choice's options is refused, naming the options."""
    if text in ("exponential", "deterministic", "lognormal", "fifo", "priority"):
        return
    got = _validate_queue(key, text)
    assert_rejected(Case("hypothesis", "queue", key, text), got)
    assert "must be one of" in got.message, got.message


@FUZZ
@given(p=st.floats(allow_nan=True, allow_infinity=True))
def test_routing_probability_outside_0_1_is_refused_inside_accepted(p: float) -> None:
    """A routing probability is accepted exactly when it is a number in [0, 1]."""
    got = _validate_queue("model.nodes.a.routing", {"a": p})
    if 0.0 <= p < 1.0:  # a self-loop of probability 1 would never leave; keep below 1
        assert got.kind == "accepted", (p, got.message)
    elif not 0.0 <= p <= 1.0:
        assert_rejected(Case("h", "queue", "model.nodes.a.routing.a", p), got)


@FUZZ
@given(n=st.integers(min_value=-(10**6), max_value=10**6))
def test_servers_accepted_exactly_when_at_least_one(n: int) -> None:
    """``servers`` is accepted for every whole number of at least 1, refused otherwise."""
    got = _validate_queue("model.nodes.a.servers", n)
    if n >= 1:
        assert got.kind == "accepted", (n, got.message)
    else:
        assert_rejected(Case("h", "queue", "model.nodes.a.servers", n), got)


@FUZZ
@given(x=st.floats(allow_nan=True, allow_infinity=True))
def test_service_rate_accepted_exactly_when_finite_and_positive(x: float) -> None:
    """``service_rate`` is accepted for finite numbers above 0 and refused otherwise."""
    got = _validate_queue("model.nodes.a.service_rate", x)
    if math.isfinite(x) and x > 0:
        assert got.kind == "accepted", (x, got.message)
    else:
        assert_rejected(Case("h", "queue", "model.nodes.a.service_rate", x), got)


# ------------------------------------------------------------------------ real CLI
CLI_SAMPLE: list[Any] = [
    ("model=queue", "model.nodes.a.service_cv=0"),
    ("model=queue", "+run.nonsense=1"),
    ("model=queue", "lead_provider=anarchy"),
    ("model=queue", "model.nodes.a.priority_mix=[0.5,0.6]"),
    ("-m", "model=queue", "run.warm_up=10,20000"),
    ("-m", "model=queue", "run.seed=1,2,bad"),
    ("model=care", "place=neighbourhood_50k", "lead_provider.practices.autonomy=1.5"),
    ("model=queue", "run.seed==3"),
    ("model=queue", "run.seed=${oc.env:NHSIM_FUZZ_UNSET}"),
    ("model=queue", "model=null"),
]


@pytest.mark.parametrize("argv", CLI_SAMPLE, ids=lambda a: " ".join(a))
def test_real_cli_prints_one_line_and_writes_nothing(run_cli, argv: tuple[str, ...]) -> None:
    """Through ``python -m sim``: exit 2, one ``nhsim: error:`` line, no traceback, no dir."""
    result = run_cli(*argv, timeout=120)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nhsim: error: "), lines[0]
    assert not run_cli.outputs.exists(), sorted(run_cli.outputs.rglob("*"))
