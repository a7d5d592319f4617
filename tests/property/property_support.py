"""Strategies for valid configurations and the sample-path identities the properties check.

Every strategy here draws only *valid* values (within the ranges ``sim.config.params`` and
``sim.models.care.params`` accept), so a :class:`sim.errors.ConfigError` on a drawn config is
itself a failure: either a strategy or a validator is wrong.
"""

from __future__ import annotations

import copy
import functools
import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from sim.config.compose import compose_config
from sim.models.care import schema as s

ARRANGEMENTS = ("status_quo", "trust_led", "federation_led", "alliance")


def examples(share: float) -> int:
    """``share`` of the loaded profile's ``max_examples`` (at least 3)."""
    return max(3, round(settings.default.max_examples * share))


@functools.lru_cache(maxsize=4)
def _base(*overrides: str) -> dict[str, Any]:
    cfg = compose_config(overrides)
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


def base_config(*overrides: str) -> dict[str, Any]:
    """A fresh deep copy of the composed, resolved config (composing once per override set)."""
    return copy.deepcopy(_base(*overrides))


# ------------------------------------------------------------------------ building blocks
def shares(n: int, min_weight: float = 0.0) -> st.SearchStrategy[list[float]]:
    """``n`` probabilities summing to 1 (to rounding)."""
    weights = st.lists(
        st.floats(min_value=min_weight, max_value=1.0), min_size=n, max_size=n
    ).filter(lambda w: sum(w) > 1e-3)
    return weights.map(lambda w: [x / sum(w) for x in w])


def _run_section(draw: st.DrawFn) -> dict[str, Any]:
    horizon = draw(st.integers(min_value=60, max_value=120))
    return {
        "seed": draw(st.integers(min_value=0, max_value=2**63 - 1)),
        "replications": 1,
        "horizon": float(horizon),
        "warm_up": float(draw(st.integers(min_value=0, max_value=30))),
        "workers": 1,
        "progress": False,
        "cache": False,
    }


@st.composite
def care_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid ``model=care`` config: 2,000-20,000 people in 1-3 areas, 60-120 days.

    Draws the place (areas, neighbourhoods, deprivation, practice list sizes), capacities
    (beds, ED clinicians, overrides of budget-bought places), demand and mortality scales,
    and every lead-provider mechanism value (organisational handoffs, envelope, allocation,
    governance, the mechanisms reaching practices, priority rule), plus per-area
    arrangements.
    """
    cfg = base_config("model=care", "place=neighbourhood_50k")
    cfg["run"] = _run_section(draw)
    cfg["output"] = {"event_log": True, "timeseries": True}

    # -------------------------------------------------------------------- place
    place = cfg["place"]
    n_areas = draw(st.integers(min_value=1, max_value=3))
    total = draw(st.integers(min_value=2_000, max_value=20_000))
    split = draw(shares(n_areas, min_weight=0.2))
    pops = [max(1, int(total * w)) for w in split]
    lo = draw(st.integers(min_value=1_000, max_value=8_000))
    place["list_size_min"] = lo
    place["list_size_max"] = lo + draw(st.integers(min_value=0, max_value=4_000))
    place["areas"] = {
        f"area{i}": {
            "population": pop,
            "neighbourhoods": draw(st.integers(min_value=1, max_value=2)),
            "deprivation_shares": draw(shares(5)),
            "age_shares": None,
        }
        for i, pop in enumerate(pops)
    }
    place["area_arrangements"] = {
        f"area{i}": name
        for i in range(n_areas)
        if (name := draw(st.sampled_from((None, *ARRANGEMENTS)))) is not None
    }
    overrides: dict[str, float | None] = {}
    for key in ("beds", "step_down_places", "virtual_ward_beds", "eol_places", "ucr_teams"):
        choice = draw(st.sampled_from(("keep", "count", "inf")))
        if choice == "count":
            overrides[key] = float(draw(st.integers(min_value=0, max_value=60)))
        elif choice == "inf":
            overrides[key] = math.inf
    place["capacity_overrides"] = overrides

    # -------------------------------------------------------------------- model
    model = cfg["model"]
    model["hospital"]["beds_per_1000"] = draw(st.floats(min_value=0.3, max_value=4.0))
    model["hospital"]["elective_bed_share"] = draw(st.floats(min_value=0.0, max_value=0.5))
    model["ed"]["clinicians_per_100k"] = draw(st.floats(min_value=1.0, max_value=20.0))
    model["general_practice"]["demand_scale"] = draw(st.floats(min_value=0.3, max_value=2.0))
    model["urgent"]["crisis_scale"] = draw(st.floats(min_value=0.3, max_value=3.0))
    model["urgent"]["minor_scale"] = draw(st.floats(min_value=0.3, max_value=2.0))
    model["mortality"]["scale"] = draw(st.floats(min_value=0.3, max_value=5.0))
    model["ucr"]["referral_share"] = draw(st.floats(min_value=0.0, max_value=1.0))
    model["step_down"]["stay_mean_days"] = draw(st.floats(min_value=1.0, max_value=40.0))
    model["virtual_ward"]["stay_mean_days"] = draw(st.floats(min_value=1.0, max_value=30.0))
    model["proactive"]["review_days"] = draw(st.floats(min_value=10.0, max_value=365.0))
    model["care_home_refill_days"] = draw(st.sampled_from((0.0, 28.0, 200.0, math.inf)))
    rows = model["social_care"]["pathway_shares"]
    for band in rows:
        rows[band] = dict(zip(("p0", "p1", "p2", "p3"), draw(shares(4)), strict=True))
    # Multipliers of at most 1 keep every (age, frailty) row a distribution whatever the draw.
    model["social_care"]["frailty_support_multiplier"] = {
        f: draw(st.floats(min_value=0.0, max_value=1.0)) for f in s.FRAILTY
    }
    model["social_care"]["p1_packages_per_1000"] = draw(st.sampled_from((0.0, 0.5, 2.0, math.inf)))

    # -------------------------------------------------------------------- lead provider
    lead = cfg["lead_provider"]
    for boundary in s.BOUNDARIES:
        lead["handoffs"][boundary] = {
            "delay_days_mean": draw(st.floats(min_value=0.0, max_value=20.0)),
            "loss": draw(st.floats(min_value=0.0, max_value=1.0)),
        }
    # Areas with their own arrangement keep that file's GP income and overhead but share this
    # envelope (it is the commissioner's), so it must cover their fixed GP income: the largest
    # is GBP 2 per head at 3% overhead (federation-led). Without per-area arrangements any
    # envelope, however small, is valid.
    floor = 5.0 if place["area_arrangements"] else 0.0
    envelope = draw(st.floats(min_value=floor, max_value=400.0))
    governance = draw(st.floats(min_value=0.0, max_value=0.4))
    lead["budget"] = {
        "envelope_per_head_gbp": envelope,
        "allocation": dict(zip(s.BUDGET_SERVICES, draw(shares(6)), strict=True)),
    }
    lead["governance_overhead_share"] = governance
    # Paid to every practice at most (engagement at most 1), so it always fits the envelope.
    lead["practices"] = {
        "payment_per_weighted_patient_gbp": envelope
        * (1 - governance)
        * draw(st.floats(min_value=0.0, max_value=0.99)),
        "enhanced_services_moved_out_share": draw(st.floats(min_value=0.0, max_value=1.0)),
        "gp_sessions_drawn_per_10000": draw(st.floats(min_value=0.0, max_value=5.0)),
        "drawn_session_payment_gbp": 0.0,
        "autonomy": draw(st.floats(min_value=0.0, max_value=1.0)),
        "collective_disengagement": draw(st.booleans()),
    }
    lead["priority_rule"] = draw(st.sampled_from(s.PRIORITY_RULES))
    return cfg


@st.composite
def queue_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid ``model=queue`` network of 1-3 nodes with substochastic routing."""
    cfg = base_config("model=queue")
    n = draw(st.integers(min_value=1, max_value=3))
    names = [f"n{i}" for i in range(n)]
    nodes: dict[str, Any] = {}
    for i, name in enumerate(names):
        servers = draw(st.integers(min_value=1, max_value=4))
        capacity = draw(st.one_of(st.none(), st.integers(min_value=servers, max_value=12)))
        row = draw(shares(n + 1))  # the last share leaves the network
        leave = max(row[-1], 0.2)  # keep the network open enough to stay short
        routing = {
            t: p * (1 - leave) / max(sum(row[:-1]), 1e-12)
            for t, p in zip(names, row[:-1], strict=True)
        }
        mix = draw(st.one_of(st.just([1.0]), shares(2)))
        nodes[name] = {
            "arrival_rate": draw(st.floats(min_value=0.0 if i else 0.05, max_value=3.0)),
            "servers": servers,
            "service_rate": draw(st.floats(min_value=0.2, max_value=4.0)),
            "service_distribution": draw(
                st.sampled_from(("exponential", "deterministic", "lognormal"))
            ),
            "service_cv": draw(st.floats(min_value=0.1, max_value=2.0)),
            "capacity": capacity,
            "discipline": "priority" if len(mix) > 1 else "fifo",
            "priority_mix": mix,
            "blocked_to": (
                draw(st.sampled_from([None, *[x for x in names if x != name]]))
                if capacity is not None
                else None
            ),
            "routing": {t: p for t, p in routing.items() if p > 0},
        }
    horizon = draw(st.integers(min_value=100, max_value=600))
    cfg["model"]["nodes"] = nodes
    cfg["run"] = {
        **_run_section(draw),
        "horizon": float(horizon),
        "warm_up": float(draw(st.integers(min_value=0, max_value=horizon // 4))),
    }
    cfg["output"] = {"event_log": True, "timeseries": False}
    return cfg


# ------------------------------------------------------------------ sample-path identities
def stays(
    events: pd.DataFrame,
    start: str,
    ends: tuple[str, ...],
    horizon: float,
    end_place: str | None = None,
) -> tuple[float, int, int, int]:
    """Pair each ``start`` event with the same person's next end event.

    Returns ``(total time held within [0, horizon], entries, exits, still in at the end)``.
    A ``death`` counts as an exit only when ``end_place`` is ``None`` or matches its place of
    death. A second ``start`` while a stay is open is an error (one place per person).
    """
    sel = events["event"].isin([start, *ends])
    rows = events.loc[sel, ["time_days", "person_id", "event", "place_of_death"]]
    open_at: dict[int, float] = {}
    held = 0.0
    entries = exits = 0
    for t, person, ev, place in rows.itertuples(index=False, name=None):
        if ev == start:
            if person in open_at:
                raise AssertionError(f"{start} for person {person} at {t} while already in")
            open_at[person] = t
            entries += 1
        elif person in open_at:
            if ev == "death" and end_place is not None and place != end_place:
                continue
            held += t - open_at.pop(person)
            exits += 1
    held += sum(horizon - t for t in open_at.values())
    return held, entries, exits, len(open_at)


def close(a: float, b: float, scale: float) -> bool:
    """Equal up to floating-point accumulation over ``scale`` units of time."""
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-6 * max(1.0, scale))


def same_metrics(a: dict[str, float], b: dict[str, float]) -> bool:
    """Identical keys, order and values (NaN equal to NaN)."""
    if list(a) != list(b):
        return False
    x, y = np.array(list(a.values())), np.array(list(b.values()))
    return bool(np.array_equal(x, y, equal_nan=True))
