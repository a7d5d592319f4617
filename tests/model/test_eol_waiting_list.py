"""The end-of-life waiting list is reviewed like the caseload, so it has a steady state.

With the caseload full, people the surprise question picked out wrongly used to wait for a
place until they died, years later: at 250,000 people, those on the register but not the
caseload grew by about 200 a year, and every one of them was routed out of the discharge
pathways when admitted. Now the list is reviewed at each caseload review, a person waits
once however many referrals arrive, and a lost referral is caught at the next register
review.
"""

from __future__ import annotations

import functools

import numpy as np

from sim.config.compose import compose_config
from sim.config.params import validate
from sim.models.care import kpis
from sim.models.care import model as care_model
from sim.models.care.records import EVENT

YEARS = 4
OVERRIDES = (
    "model=care",
    "place=neighbourhood_50k",
    f"run.horizon={YEARS * 365}",
    "run.warm_up=365",
)


@functools.lru_cache(maxsize=1)
def _run() -> tuple[care_model.World, np.ndarray]:
    cfg = validate(compose_config(list(OVERRIDES)))
    world = care_model.World(cfg.model, cfg.run, 0)
    care_model.start(world, care_model.draw_demand(world, cfg.model, cfg.run))
    world.env.run(until=world.horizon)
    world.log.flush()
    waiting = kpis.timeseries(world)["eol_waiting"].to_numpy(dtype=float)
    return world, waiting


def test_the_caseload_is_full_so_people_wait():
    world, waiting = _run()
    places = sum(p.servers for p in world.mnp.eol)
    assert sum(p.busy for p in world.mnp.eol) == places
    assert waiting[365:].mean() > 5


def test_a_person_waits_once_however_many_referrals_arrive():
    world, _ = _run()
    mnp = world.mnp
    assert sum(p.waiting for p in mnp.eol) == len(mnp.eol_waiting)
    now = world.env.now
    for person in mnp.eol_waiting:
        assert mnp.question.identified[person]
        assert not world.eol_enrolled[person]
        assert world.pop.death_time[person] > now


def test_people_picked_out_wrongly_come_off_the_list():
    world, _ = _run()
    assert world.log.tally.total[EVENT["eol_removed"]] > 0


def test_the_waiting_list_does_not_grow_year_on_year():
    """Year 4's mean list is no longer than year 2's, within noise (it grew by half a year
    before the list was reviewed)."""
    _, waiting = _run()
    year2 = waiting[365:730].mean()
    year4 = waiting[3 * 365 : 4 * 365].mean()
    assert year4 <= 1.2 * year2
