"""The running tallies and the streaming Level give what the full records would have given.

The KPIs used to be computed at the end from every record; now they come from totals kept
as the run goes, so memory does not grow with the horizon. Each test here checks one tally
against the straightforward computation on the full records, on generated data.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.monitor import Level, Marks
from sim.models.care.records import EVENT, EVENTS, PLACES, SETTING, Event, EventLog
from sim.models.care.tallies import (
    AppointmentTally,
    DelayTally,
    EventTally,
    StayTally,
    VisitTally,
    count_into,
    histogram_percentile,
)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(0, 30), min_size=1, max_size=200),
    q=st.floats(0, 100),
)
def test_histogram_percentile_is_numpys_linear_percentile(values: list[int], q: float):
    expected = float(np.percentile(values, q))
    got = histogram_percentile(np.bincount(values), q)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_histogram_percentile_of_nothing_is_nan():
    assert math.isnan(histogram_percentile(np.zeros(3, np.int64), 90))


def _history_area(changes: list[tuple[float, float]], at: float) -> float:
    """Integral from 0 to ``at`` of a level that starts at 0 (the full-history way)."""
    area, value, last = 0.0, 0.0, 0.0
    for t, delta in changes:
        if t > at:
            break
        area += value * (t - last)
        value, last = value + delta, t
    return area + value * (at - last)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.tuples(st.floats(0, 3, allow_nan=False), st.integers(-2, 3)), max_size=60),
    warm_up=st.floats(0, 5, allow_nan=False),
)
def test_level_keeps_exactly_the_integral_at_its_marks(steps, warm_up: float):
    days = 12
    horizon = float(days) - 0.5
    marks = Marks(days, warm_up, horizon)
    level = Level(marks)
    changes, now = [], 0.0
    for gap, delta in steps:
        now = min(now + gap, horizon)
        level.add(now, delta)
        changes.append((now, delta))
    for at in marks.times:
        assert level.area(at) == pytest.approx(_history_area(changes, at), rel=1e-12, abs=1e-9)
    assert level.mean(warm_up, horizon) == pytest.approx(
        (_history_area(changes, horizon) - _history_area(changes, warm_up)) / (horizon - warm_up),
        rel=1e-12,
        abs=1e-9,
    )
    daily = level.daily_means(days)
    assert daily.shape == (days,)
    assert daily.sum() == pytest.approx(_history_area(changes, float(days)), abs=1e-9)


def test_level_refuses_a_change_out_of_time_order_and_a_time_it_did_not_keep():
    level = Level(Marks(3))
    level.add(1.5, 1)
    with pytest.raises(RuntimeError, match="time order"):
        level.add(1.0, 1)
    level.add(2.5, 1)
    with pytest.raises(ValueError, match="only at its marks"):
        level.area(1.25)
    assert level.area(2.0) == pytest.approx(0.5)


def _random_events(rng: np.random.Generator, n: int, people: int, horizon: float):
    t = rng.uniform(0, horizon * 1.05, n)  # some after the horizon, written when decided
    p = rng.integers(0, people, n)
    e = rng.integers(0, len(EVENTS), n).astype(np.int16)
    # Admissions and deaths often, so the join has something to find.
    e[rng.random(n) < 0.3] = Event.EMERGENCY_ADMISSION
    s = rng.integers(0, len(SETTING), n).astype(np.int16)
    d = rng.integers(0, len(PLACES), n).astype(np.int16)
    return t, p, e, s, d


def test_event_tally_matches_counts_over_the_full_log():
    rng = np.random.default_rng(7)
    people, horizon, warm_up = 40, 100.0, 20.0
    area = rng.integers(0, 3, people)
    quintile = rng.integers(0, 5, people)
    death_time = np.full(people, np.inf)
    t, p, e, s, d = _random_events(rng, 3000, people, horizon)
    # Each person dies at most once, at their death time, after their admissions.
    order = np.argsort(t, kind="stable")
    t, p, e, s, d = (c[order] for c in (t, p, e, s, d))
    dead: set[int] = set()
    for i in range(t.size):
        if e[i] == Event.DEATH:
            if p[i] in dead:
                e[i] = Event.CRISIS
            else:
                dead.add(int(p[i]))
                death_time[p[i]] = t[i]
    alive_after = np.array([t[i] > death_time[p[i]] for i in range(t.size)])
    t, p, e, s, d = (c[~alive_after] for c in (t, p, e, s, d))

    tally = EventTally(warm_up, horizon, int(horizon), area, quintile, death_time)
    log = EventLog(tally, keep=True, horizon=horizon, buffer=97)
    for i in range(t.size):
        log.add(float(t[i]), int(p[i]), EVENTS[e[i]], list(SETTING)[s[i]], PLACES[d[i]])
    log.flush()

    within = t <= horizon
    post = within & (t >= warm_up)
    for name in ("emergency_admission", "death", "crisis", "referral"):
        k = EVENT[name]
        assert tally.after_warm_up(name) == int((post & (e == k)).sum())
        assert tally.total[k] == int((within & (e == k)).sum())
        np.testing.assert_array_equal(
            tally.by_area(name), np.bincount(area[p[post & (e == k)]], minlength=3)
        )
        np.testing.assert_array_equal(
            tally.by_quintile(name), np.bincount(quintile[p[post & (e == k)]], minlength=5)
        )
        day = t[within & (e == k)].astype(int)
        np.testing.assert_array_equal(tally.daily[k], np.bincount(day[day < 100], minlength=100))
    # Deaths after warm-up with 3+ admissions in the 90 days before: by brute force.
    repeat = 0
    for i in np.flatnonzero(post & (e == Event.DEATH)):
        died = death_time[p[i]]
        admitted = t[within & (e == Event.EMERGENCY_ADMISSION) & (p == p[i])]
        repeat += int(((admitted >= died - 90) & (admitted <= died)).sum() >= 3)
    assert tally.deaths_after_repeat_admissions == repeat
    assert repeat > 0, "the data should exercise the join"
    # The kept log is the full log within the horizon, in time order.
    cols = log.columns()
    np.testing.assert_array_equal(cols[0], t[within])


def test_a_log_not_kept_holds_nothing_and_says_so():
    tally = EventTally(0.0, 10.0, 10, np.zeros(5, int), np.zeros(5, int), np.full(5, np.inf))
    log = EventLog(tally, keep=False, horizon=10.0, buffer=4)
    for i in range(10):
        log.add(float(i), i % 5, "crisis", "general_practice")
    log.add_many(np.arange(3.0), np.arange(3), "gp_appointment", "general_practice")
    assert len(log._t) < 4 and not log._scalar_chunks and not log._chunks
    log.flush()
    assert tally.total[Event.CRISIS] == 10
    assert tally.total[Event.GP_APPOINTMENT] == 3
    with pytest.raises(RuntimeError, match="output.event_log"):
        log.columns()


def test_appointment_tally_matches_the_appointment_table():
    rng = np.random.default_rng(3)
    people, warm_up = 50, 5.0
    area = rng.integers(0, 2, people)
    tally = AppointmentTally(warm_up, area, 2)
    rows = []
    for day in range(20):
        n = int(rng.integers(0, 30))
        who = rng.integers(0, people, n)
        wait = rng.integers(0, 20, n).astype(np.int16)
        role = rng.integers(0, 3, n).astype(np.int8)
        usual = (role == 0) & (rng.random(n) < 0.5)
        tally.add(day, who, wait, role, usual)
        rows += [(day, *r) for r in zip(who, wait, role, usual, strict=True)]
    day, who, wait, role, usual = (np.array(c) for c in zip(*rows, strict=True))
    a = day >= warm_up
    routine = a & (wait > 0)
    assert tally.held == a.sum()
    assert tally.same_day == (a & (wait == 0)).sum()
    assert tally.within_14_days == (a & (wait <= 14)).sum()
    assert tally.routine_wait_mean() == pytest.approx(wait[routine].mean(), rel=1e-12)
    assert tally.routine_wait_percentile(90) == pytest.approx(np.percentile(wait[routine], 90))
    for k in range(2):
        assert tally.routine_wait_sum_by_area[k] == wait[routine & (area[who] == k)].sum()
        for r in range(3):
            assert tally.role_by_area[k, r] == (a & (role == r) & (area[who] == k)).sum()
    gp = a & (role == 0)
    n_gp = np.bincount(who[gp], minlength=people)
    n_usual = np.bincount(who[gp & usual], minlength=people)
    two = n_gp >= 2
    assert tally.continuity_upc() == pytest.approx((n_usual[two] / n_gp[two]).mean())


def test_count_into_matches_np_add_at_for_small_and_large_batches():
    """Counting a batch into a table gives what ``np.add.at`` gives, whether the batch is
    small against the table (counted by ``np.add.at``) or large (by a bincount), repeats
    included."""
    rng = np.random.default_rng(5)
    for n in (3, 40, 5000):
        table = rng.integers(0, 9, (4, 25)).astype(np.int64)
        expected = table.copy()
        index = rng.integers(0, table.size, n)
        np.add.at(expected.reshape(-1), index, 1)
        count_into(table, index)
        np.testing.assert_array_equal(table, expected, err_msg=f"batch of {n}")


def test_appointments_per_person_are_exact_across_held_batches():
    """Per-person GP appointment counts are the same when days are held and counted in
    batches (more appointments than the holding limit) as counted one by one."""
    rng = np.random.default_rng(8)
    people = 30
    tally = AppointmentTally(0.0, np.zeros(people, dtype=np.int64), 1)
    n_gp = np.zeros(people, np.int64)
    n_usual = np.zeros(people, np.int64)
    for day in range(40):  # 40 x 2,000 appointments: past the limit of 65,536
        who = rng.integers(0, people, 2000)
        role = rng.integers(0, 3, who.size).astype(np.int8)
        usual = (role == 0) & (rng.random(who.size) < 0.6)
        tally.add(day, who, np.zeros(who.size, np.int16), role, usual)
        np.add.at(n_gp, who[role == 0], 1)
        np.add.at(n_usual, who[usual], 1)
    np.testing.assert_array_equal(tally.with_gp, n_gp)
    np.testing.assert_array_equal(tally.with_usual_gp, n_usual)


def test_visit_tally_counts_and_time_in_department():
    tally = VisitTally(warm_up=1.0, horizon=3.0, days=3)
    tally.add_type1(0.5, 0.6, admitted=False)  # before warm-up: in the daily series only
    tally.add_type1(1.9, 2.2, admitted=True)  # 7.2 hours, spans midnight
    tally.add_type1(2.95, 3.05, admitted=False)  # leaves after the horizon
    tally.add_type3(np.array([1.5, 2.0]), np.array([1.6, 2.5]))
    assert (tally.visits, tally.within_4h) == (3, 1)
    assert (tally.type1, tally.type1_within_4h, tally.type1_admitted) == (1, 0, 1)
    assert tally.type1_days == pytest.approx(0.3)
    np.testing.assert_allclose(tally.type1_in_department, [0.1, 0.1, 0.2 + 0.05])


def test_delay_tally():
    tally = DelayTally(warm_up=10.0, within=2.0)
    for began, delay in ((5.0, 1.0), (10.0, 1.0), (12.0, 3.0)):
        tally.add(began, delay)
    assert (tally.count, tally.within_count, tally.mean()) == (2, 1, 2.0)
    assert math.isnan(DelayTally(0.0).mean())


def test_last_year_of_life_tallies_match_brute_force_over_the_full_log():
    """Admissions in the last year, 3+ of them, identification before death, and hospital
    use in the last month by place of death, per decedent, equal the counts taken from the
    full log; deaths earlier than a year into the run are left out of the last-year figures
    (their year is cut short by the run's start)."""
    rng = np.random.default_rng(11)
    people, horizon, warm_up = 60, 800.0, 100.0
    n = 4000
    t = np.sort(rng.uniform(0.0, horizon, n))
    p = rng.integers(0, people, n)
    kinds = np.array(
        [Event.EMERGENCY_ADMISSION, Event.CRISIS, Event.EOL_IDENTIFIED, Event.ED_ARRIVAL]
    )
    e = kinds[rng.choice(4, n, p=[0.5, 0.39, 0.01, 0.1])]
    death_time = np.full(people, np.inf)
    dies = rng.random(people) < 0.7
    death_time[dies] = rng.uniform(50.0, horizon, int(dies.sum()))
    keep = t < death_time[p]
    t, p, e = t[keep], p[keep], e[keep]
    # Append each death as the person's last event, in time order, half of them in hospital.
    dp = np.flatnonzero(dies)
    in_hospital = rng.random(people) < 0.5
    t = np.concatenate([t, death_time[dp]])
    p = np.concatenate([p, dp])
    e = np.concatenate([e, np.full(dp.size, Event.DEATH)])
    order = np.argsort(t, kind="stable")
    t, p, e = t[order], p[order], e[order]

    tally = EventTally(warm_up, horizon, int(horizon), np.zeros(people, int),
                       np.zeros(people, int), death_time)  # fmt: skip
    log = EventLog(tally, keep=False, horizon=horizon, buffer=53)
    for i in range(t.size):
        where = "hospital" if e[i] == Event.DEATH and in_hospital[p[i]] else "home"
        log.add(float(t[i]), int(p[i]), EVENTS[e[i]], "hospital", where)
    log.flush()

    decedents = admissions = three = identified = deaths = 0
    hosp = hosp_admitted = other = other_used = 0
    for person in dp:
        died = death_time[person]
        if died < warm_up:
            continue
        deaths += 1
        mine = p == person
        identified += bool((mine & (e == Event.EOL_IDENTIFIED) & (t < died)).any())
        month = mine & (t >= died - 30.0) & (t < died)
        admitted = bool((month & (e == Event.EMERGENCY_ADMISSION)).any())
        if in_hospital[person]:
            hosp += 1
            hosp_admitted += admitted
        else:
            other += 1
            other_used += admitted or bool((month & (e == Event.ED_ARRIVAL)).any())
        if died < 365.0:
            continue
        a = int((mine & (e == Event.EMERGENCY_ADMISSION) & (t >= died - 365.0)).sum())
        decedents += 1
        admissions += a
        three += a >= 3
    assert (tally.decedents_last_year, tally.admissions_last_year) == (decedents, admissions)
    assert tally.deaths_3plus_last_year == three
    assert tally.deaths_identified == identified, (tally.deaths_identified, identified)
    assert len(tally.deaths) == deaths
    assert (tally.hospital_deaths, tally.hospital_deaths_admitted_last_month) == (
        hosp,
        hosp_admitted,
    )
    assert (tally.other_deaths, tally.other_deaths_hospital_use_last_month) == (other, other_used)
    assert three > 0 and identified > 0 and decedents < deaths, (three, identified, decedents)
    assert 0 < hosp_admitted < hosp and 0 < other_used < other, (hosp_admitted, other_used)


def test_stay_tally_bed_days_are_the_overlap_of_stays_with_a_window():
    """Bed days within a window add up each ended stay's overlap with it, and only that
    person's stays."""
    stays = StayTally(0.0, np.zeros(3, bool))
    stays.end(0, 10.0, 20.0, died=False)
    stays.end(0, 95.0, 100.0, died=True)
    stays.end(1, 0.0, 50.0, died=False)
    assert stays.bed_days(0, 15.0, 100.0) == pytest.approx(5.0 + 5.0)
    assert stays.bed_days(0, 0.0, 9.0) == 0.0
    assert stays.bed_days(2, 0.0, 100.0) == 0.0
    assert stays.bed_days(1, 40.0, 45.0) == pytest.approx(5.0)
    # A stay ending more than a year before the person's latest is dropped, as no death
    # (which comes after every stay) can look back to it.
    stays.end(1, 500.0, 510.0, died=False)
    assert stays.spells[1] == [(500.0, 510.0)], stays.spells[1]
    assert stays.bed_days(1, 145.0, 510.0) == pytest.approx(10.0)
