"""Acute trusts shared between areas (``place.trusts``): a trust's beds and ED clinicians are
one pool for every area it serves, while what is counted by area stays by area.

Short runs of neighbourhood_50k split into two areas of 25,000 (west, east), as in
test_arrangements.py; every comparison uses the same seed and replication (common random
numbers), so only the trust mapping differs.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from sim.config.compose import compose_config
from sim.config.params import to_container, validate
from sim.errors import ConfigError
from sim.models.care import kpis
from sim.models.care import model as care_model

SHORT = ("place=neighbourhood_50k", "run.horizon=150", "run.warm_up=30")
SHARED = {"one_trust": ["west", "east"]}


def _two_areas(trusts: dict[str, list[str]], *overrides: str) -> dict:
    """neighbourhood_50k as two areas of 25,000 with the given trusts."""
    data = to_container(compose_config(["model=care", *SHORT, *overrides]))
    row = {"neighbourhoods": 1, "deprivation_shares": [0.2] * 5, "population": 25000}
    data["place"]["areas"] = {"west": dict(row), "east": dict(row)}
    data["place"]["trusts"] = {k: list(v) for k, v in trusts.items()}
    return data


@functools.lru_cache(maxsize=32)
def _run(
    shared: bool, *overrides: str, replication: int = 0
) -> tuple[care_model.World, dict[str, float]]:
    """One replication of the two-area place, its trusts separate or shared."""
    params = validate(_two_areas(SHARED if shared else {}, *overrides)).model
    run = validate(_two_areas({}, *overrides)).run
    world = care_model.World(params, run, replication)
    care_model.start(world, care_model.draw_demand(world, params, run))
    world.env.run(until=world.horizon)
    world.log.flush()
    return world, kpis.compute(world)


def test_without_trusts_each_area_has_its_own():
    """No ``place.trusts``: one trust per area, named as the area."""
    params = validate(_two_areas({})).model
    assert params.trust_names == ("west", "east")
    assert params.trust_of_area == (0, 1)


def test_a_shared_trust_pools_the_areas_beds_and_clinicians():
    """Both areas in one trust: one bed pool and one ED with the two areas' beds and
    clinicians added up, so the place's totals are unchanged."""
    split, _ = _run(False)
    shared, _ = _run(True)
    hs, hp = split.hospital, shared.hospital
    assert len(hs.beds) == 2 and len(hp.beds) == 1
    assert hp.beds_total == [sum(hs.beds_total)], (hp.beds_total, hs.beds_total)
    assert hp.reserved[0] == pytest.approx(sum(hs.reserved), abs=1.0)
    assert hp.ed[0].servers == sum(r.servers for r in hs.ed)


@pytest.mark.parametrize("shared", [False, True])
def test_beds_held_by_area_add_up_to_the_trusts_beds(shared):
    """Beds are counted where the patient lives as well as in the trust's pool: over the
    measured period the areas' bed-days add up exactly to the pools' (both areas use the
    shared pool), and each area's own people hold beds."""
    world, _ = _run(shared)
    h = world.hospital
    w, end = world.warm_up, world.horizon
    by_area = [level.mean(w, end) for level in h.in_bed]
    by_pool = [pool.level.mean(w, end) for pool in h.beds]
    assert all(x > 1.0 for x in by_area), by_area
    assert sum(by_area) == pytest.approx(sum(by_pool), rel=1e-9)


def test_area_bed_occupancy_is_its_trusts():
    """With both areas in one trust, each area's bed occupancy KPI is the trust's, which is
    the place's; with a trust each, the two differ."""
    _, split = _run(False)
    _, shared = _run(True)
    for area in ("west", "east"):
        assert shared[f"bed_occupancy_mean__area_{area}"] == pytest.approx(
            shared["bed_occupancy_mean"]
        )
    assert split["bed_occupancy_mean__area_west"] != split["bed_occupancy_mean__area_east"]


# Beds for two separate pools of 25,000 that are busy enough for admissions to wait in ED
# now and then, but not overloaded (with fewer, both layouts queue without end in a short run).
MODERATE = ("model.hospital.beds_per_1000=2.3", "run.horizon=240")


def test_pooling_beds_shortens_the_wait_for_one():
    """Queueing theory's pooling effect (Erlang C: one pool of 2c servers waits less than two
    pools of c at the same load): the same beds as one trust's pool for both areas keep
    fewer admitted patients waiting in ED than a trust per area, over five replications with
    the same patients and draws."""
    split, shared = [], []
    for r in range(5):
        split.append(_run(False, *MODERATE, replication=r)[1])
        shared.append(_run(True, *MODERATE, replication=r)[1])
    wait = [
        (a["ed_waiting_for_bed_mean"], b["ed_waiting_for_bed_mean"])
        for a, b in zip(split, shared, strict=True)
    ]
    total = (sum(w[0] for w in wait), sum(w[1] for w in wait))
    assert total[0] > 5.0, f"the split pools should queue now and then: {wait}"
    assert total[1] < 0.6 * total[0], f"patients waiting for a bed, split vs shared: {wait}"
    assert sum(b <= a for a, b in wait) >= 4, f"shared waits less in most replications: {wait}"


@pytest.mark.parametrize(
    ("trusts", "key", "fragment"),
    [
        ({"t": ["west", "nowhere"]}, "place.trusts.t", "names no area of the place (nowhere)"),
        ({"a": ["west"], "b": ["west", "east"]}, "place.trusts.b", "trust a already serves"),
        ({"a": ["west"]}, "place.trusts", "no trust serves east"),
        ({"a": ["west", "east"], "b": []}, "place.trusts.b", "at least one area"),
    ],
)
def test_bad_trusts_are_refused_with_one_line(trusts, key, fragment):
    """An unknown area, an area in two trusts, an area in none, or a trust with no area is
    refused before anything runs, in one line naming the key."""
    with pytest.raises(ConfigError) as info:
        validate(_two_areas(trusts))
    message = str(info.value)
    assert info.value.key == key, message
    assert message.startswith(f"{key} = "), message
    assert fragment in message and "\n" not in message, message


def test_sel_trusts_cover_every_borough_once():
    """The shipped South East London place maps its six boroughs onto two acute trusts."""
    params = validate(to_container(compose_config(["model=care", "place=sel_1_9m"]))).model
    assert len(params.trust_names) == 2
    served = np.bincount(np.array(params.trust_of_area), minlength=2)
    mapping = dict(zip(params.area_names, params.trust_of_area, strict=True))
    assert served.tolist() == [3, 3], mapping
