"""Memory savings that must not change a single number (issue 16, memory target).

Each saving replaces an array drawn or built up front with the same numbers produced in
pieces; these tests compare the two ways directly.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.models.care import life_course
from sim.models.care.identification import MatrixRows
from sim.models.care.life_course import Segments
from sim.rng import generator


def test_matrix_rows_are_the_rows_of_the_matrix_drawn_up_front():
    """Row i drawn on its own (stream reset and advanced) equals row i of one big draw,
    in any order and repeated, for several widths."""
    for width in (1, 2, 4, 13):
        matrix = generator(7, 3, "eol/surprise").random((5_000, width))
        rows = MatrixRows(7, 3, "eol/surprise", width)
        for i in (4_999, 0, 17, 2_500, 17, 1):
            got = rows.row(i)
            assert got == matrix[i].tolist(), (width, i, got, matrix[i].tolist())


class _Pop:
    """The two attributes of a Population that the spell lookups read."""

    def __init__(self, seg: Segments, size: int) -> None:
        self.spells = seg
        self.size = size
        self.age = np.zeros(size, np.int8)
        self.frailty = np.zeros(size, np.int8)


def _population(n: int, rng: np.random.Generator) -> _Pop:
    """People with one to three back-to-back spells each, some starting late."""
    person, start, end = [], [], []
    for p in range(n):
        t = float(rng.integers(0, 50))
        for _ in range(int(rng.integers(1, 4))):
            u = t + float(rng.integers(1, 100))
            person.append(p)
            start.append(t)
            end.append(u)
            t = u
    order = np.argsort(start, kind="stable")
    k = len(person)
    seg = Segments(
        np.asarray(person, np.int32)[order],
        np.asarray(start)[order],
        np.asarray(end)[order],
        rng.integers(0, 6, k).astype(np.int8),
        rng.integers(0, 4, k).astype(np.int8),
        np.zeros(k, np.int8),
    )
    return _Pop(seg, n)


def _spell_at_whole(pop: _Pop, person: np.ndarray, t: np.ndarray, open_end: bool) -> np.ndarray:
    """The lookup as it was before blocks: every event at once."""
    seg = pop.spells
    span = float(np.max(seg.end[np.isfinite(seg.end)], initial=0.0)) + 2.0
    order = np.lexsort((seg.start, seg.person))
    keys = seg.person[order] * span + seg.start[order]
    k = np.searchsorted(keys, person * span + t, side="right") - 1
    idx = order[np.maximum(k, 0)]
    ok = (k >= 0) & (seg.person[idx] == person) & (t >= seg.start[idx])
    if not open_end:
        ok &= t < seg.end[idx]
    return np.where(ok, idx, -1)


@pytest.mark.parametrize("open_end", [False, True])
def test_spell_lookup_in_blocks_matches_one_lookup(monkeypatch, open_end):
    """With blocks far smaller than the events, every event finds the spell (or -1) that a
    single lookup finds, for float times and for whole days given as integers."""
    rng = np.random.default_rng(5)
    pop = _population(300, rng)
    person = rng.integers(0, 300, 5_000).astype(np.int32)
    day = rng.integers(0, 300, 5_000).astype(np.int32)
    want = _spell_at_whole(pop, person, day.astype(float), open_end)
    monkeypatch.setattr(life_course, "CHUNK", 333)
    got_int = life_course.spell_at(pop, person, day, open_end)
    got_float = life_course.spell_at(pop, person, day.astype(float), open_end)
    assert (got_int == want).all() and (got_float == want).all(), (
        int((got_int != want).sum()),
        int((got_float != want).sum()),
    )
    assert (want >= 0).any() and (want < 0).any(), "the case must have both outcomes"


def test_thinning_with_the_stream_keeps_what_the_uniforms_kept(monkeypatch):
    """keep_by_course given the stream (uniforms drawn block by block) keeps exactly the
    events it keeps given the whole run's uniforms drawn at once."""
    rng = np.random.default_rng(9)
    pop = _population(200, rng)
    spell_rate = rng.random(len(pop.spells))
    top = life_course.max_per_person(pop, spell_rate)
    person = rng.integers(0, 200, 4_000).astype(np.int32)
    day = rng.integers(0, 300, 4_000).astype(np.int32)
    u = generator(1, 0, "gp/demand_course").random(person.size)
    want = life_course.keep_by_course(pop, spell_rate, top, person, day.astype(float), u)
    monkeypatch.setattr(life_course, "CHUNK", 123)
    got = life_course.keep_by_course(
        pop,
        spell_rate,
        top,
        person,
        day,
        generator(1, 0, "gp/demand_course"),
    )
    assert (got == want).all(), int((got != want).sum())
    assert 0 < want.sum() < want.size, int(want.sum())


def test_post_discharge_peak_index_gives_the_ratio_of_each_outcome():
    """The peak kept as an index into its six values is the ratio peak_ratio computes for
    every outcome of the onward part, with and without onward care."""
    from sim.config.compose import compose_params
    from sim.models.care.after_discharge import HOME, LOST, SLOW, AfterDischarge, peak_ratio
    from sim.rng import Streams

    cfg = compose_params(["model=care"]).model.model.after_discharge
    after = AfterDischarge(cfg, 10, 0.0, 100.0, np.zeros(10, np.int8), Streams(1, 0))
    for person, (outcome, onward) in enumerate(
        [(o, w) for o in (HOME, LOST, SLOW) for w in (False, True)]
    ):
        after.discharge(person, 5.0, outcome, onward)
        want = peak_ratio(cfg, outcome, onward)
        assert after.peak(person) == want, (outcome, onward, after.peak(person), want)
    assert len({after.peak(p) for p in range(6)}) > 1, "the ratios must differ"


def test_forgetting_the_dead_changes_no_number(monkeypatch):
    """A year of neighbourhood_50k with the surprise question sweeping out the dead after
    every 16 people asked gives exactly the metrics of a run that never sweeps, and the
    sweep did run."""
    from sim.config.compose import compose_params
    from sim.models import MODELS
    from sim.models.care import identification

    params = compose_params(
        ["model=care", "place=neighbourhood_50k", "run.horizon=365", "run.warm_up=30"]
    )

    def metrics() -> dict[str, float]:
        spec = MODELS[params.kind]
        return spec.simulate(params.model, params.run, params.output, 0).metrics

    monkeypatch.setattr(identification, "SWEEP_MIN", 10**9)
    never = metrics()
    sweeps: list[int] = []
    real = identification.SurpriseQuestion._forget_the_dead

    def counted(self: identification.SurpriseQuestion) -> None:
        sweeps.append(len(self._used))
        real(self)

    monkeypatch.setattr(identification, "SWEEP_MIN", 16)
    monkeypatch.setattr(identification.SurpriseQuestion, "_forget_the_dead", counted)
    often = metrics()
    assert len(sweeps) >= 3, sweeps
    differ = {k: (never[k], often[k]) for k in never if repr(never[k]) != repr(often[k])}
    assert not differ and never.keys() == often.keys(), differ
