"""Consequences after discharge: the risk state, readmission counting and lost referrals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.config.compose import compose_params
from sim.errors import ConfigError
from sim.models.care.after_discharge import HOME, LOST, SLOW, AfterDischarge
from sim.models.care.schema import AfterDischargeConfig
from sim.rng import Streams

CFG = AfterDischargeConfig(
    crisis_rate_ratio=3.0,
    half_life_days=10.0,
    window_days=60.0,
    lost_referral_ratio=1.5,
    slow_wait_days=7.0,
    slow_wait_ratio=1.25,
    onward_care_ratio=1.0,
)


def _state() -> AfterDischarge:
    # Warm-up 10, horizon 100: the cohort is discharges on days 10 to 70. Persons 0-2 are in
    # the least deprived quintile, 3-4 in the most deprived.
    return AfterDischarge(CFG, 5, 10.0, 100.0, np.array([0, 0, 0, 4, 4]), Streams(7, 0))


def test_readmissions_are_counted_on_a_hand_made_trace():
    """Only the first emergency admission within 30 days of a cohort discharge counts, and
    discharges outside the cohort (in the warm-up, or too near the horizon) count in neither
    the numerator nor the denominator."""
    a = _state()
    a.discharge(0, 5.0, HOME, False)  # in the warm-up: not in the cohort
    assert not a.admission(0, 20.0), "a readmission after a warm-up discharge was counted"
    a.discharge(0, 30.0, HOME, False)  # cohort; readmitted on day 59.5 (29.5 days later)
    assert a.admission(0, 59.5), "a readmission 29.5 days after discharge was not counted"
    assert not a.admission(0, 59.9), "a second admission counted against the same discharge"
    a.discharge(1, 20.0, LOST, False)  # cohort; admitted 31 days later: not a readmission
    assert not a.admission(1, 51.0), "an admission 31 days after discharge was counted"
    a.discharge(2, 80.0, HOME, False)  # after horizon - 30: not in the cohort
    assert not a.admission(2, 85.0), "a discharge after horizon - 30 opened a window"
    a.discharge(3, 40.0, LOST, False)  # cohort, lost referral, readmitted
    assert a.admission(3, 41.0), "a readmission after a lost referral was not counted"
    a.discharge(4, 40.0, HOME, True)  # cohort, never readmitted
    assert a.discharges.tolist() == [2, 0, 0, 0, 2], a.discharges.tolist()
    assert a.readmissions.tolist() == [1, 0, 0, 0, 1], a.readmissions.tolist()
    assert a.share() == pytest.approx(0.5), a.share()
    assert a.share(0) == pytest.approx(0.5) and a.share(4) == pytest.approx(0.5)
    assert math.isnan(a.share(2)), f"no discharges in quintile 3, got {a.share(2)}"
    lost = (a.after_lost, a.discharges_after_lost)
    assert lost == (1, 2), f"(readmissions, discharges) after a lost referral: {lost}"


def test_the_risk_ratio_decays_from_its_peak_and_reads_only_the_past():
    """The crisis-rate ratio is 1 before any discharge, the outcome's peak on the day of
    discharge, half the excess one half-life later, and 1 from the end of the window."""
    a = _state()
    assert a.ratio(0, 50.0) == 1.0, "a ratio before any discharge"
    a.discharge(0, 50.0, HOME, False)
    assert a.ratio(0, 50.0) == pytest.approx(3.0), a.ratio(0, 50.0)
    assert a.ratio(0, 60.0) == pytest.approx(2.0), a.ratio(0, 60.0)
    assert a.ratio(0, 110.0) == 1.0, a.ratio(0, 110.0)
    a.discharge(1, 50.0, LOST, False)
    a.discharge(2, 50.0, SLOW, False)
    assert a.ratio(1, 50.0) == pytest.approx(4.5), a.ratio(1, 50.0)
    assert a.ratio(2, 50.0) == pytest.approx(3.75), a.ratio(2, 50.0)


def test_a_headroom_below_the_largest_ratio_is_refused():
    """params.py refuses a thinning bound the continuity multiplier could exceed (1.19 at a
    measured continuity of 0), naming the key and the smallest allowed value."""
    with pytest.raises(ConfigError) as err:
        compose_params(
            [
                "model=care",
                "place=neighbourhood_50k",
                "model.urgent.headroom=1.1",
            ]
        )
    text = str(err.value)
    assert "model.urgent.headroom" in text and "at least" in text, text


def test_the_excess_candidates_follow_the_decaying_excess():
    """The excess crises drawn at a discharge are a Poisson process with intensity
    rate x (peak - 1) x exp(-decay x s) over the window: over 4,000 discharges the mean count
    is the integral (within 4 standard errors) and the share in the first half-life is
    (1 - 1/2) / (1 - 2^-(90/13)) of them; the same person, discharge and seed give the same
    draws, whatever else happened."""
    n = 4000
    a = AfterDischarge(CFG, n, 0.0, 1000.0, np.zeros(n, dtype=np.int64), Streams(11, 0))
    counts, early = [], 0
    for p in range(n):
        a.discharge(p, 0.0, HOME, False)
        times, draws = a.excess(p, 0.0, 36.5)  # 0.1 a day
        assert len(times) == len(draws), (len(times), draws.shape)
        assert all(0.0 <= t <= CFG.window_days for t in times), times
        counts.append(len(times))
        early += sum(t < CFG.half_life_days for t in times)
    decay = math.log(2) / CFG.half_life_days
    tail = 1 - math.exp(-decay * CFG.window_days)
    mean = 0.1 * (CFG.crisis_rate_ratio - 1) * tail / decay
    got = float(np.mean(counts))
    assert abs(got - mean) < 4 * math.sqrt(mean / n), (got, mean)
    share = early / sum(counts)
    expected = 0.5 / tail
    assert abs(share - expected) < 4 * math.sqrt(expected * (1 - expected) / sum(counts)), (
        share,
        expected,
    )
    b = AfterDischarge(CFG, n, 0.0, 1000.0, np.zeros(n, dtype=np.int64), Streams(11, 0))
    b.discharge(17, 5.0, HOME, False)
    again, _ = b.excess(17, 5.0, 36.5)
    a2 = AfterDischarge(CFG, n, 0.0, 1000.0, np.zeros(n, dtype=np.int64), Streams(11, 0))
    a2.discharge(17, 0.0, HOME, False)
    ref, _ = a2.excess(17, 0.0, 36.5)
    assert [t - 5.0 for t in again] == pytest.approx(ref), (again, ref)


def test_more_referral_loss_gives_more_readmissions(run_care):
    """Under common random numbers, losing every discharge referral (instead of the status
    quo's 1-6%) raises 30-day readmissions and the readmissions after a lost referral."""
    lose_all = [
        f"lead_provider.handoffs.{b}.loss=1.0"
        for b in ("same_organisation", "alliance", "separate")
    ]
    base = run_care().metrics
    lost = run_care(*lose_all).metrics
    r0, r1 = base["readmission_30d_share"], lost["readmission_30d_share"]
    assert r1 > r0, f"readmission share with every referral lost {r1:.4f} <= status quo {r0:.4f}"
    n0 = base["readmissions_after_lost_referral_per_1000"]
    n1 = lost["readmissions_after_lost_referral_per_1000"]
    assert n1 > n0, f"readmissions after a lost referral {n1:.3f} <= status quo {n0:.3f}"


def test_the_lost_referral_ratio_is_what_raises_readmissions_after_a_loss(run_care):
    """With every referral lost, readmissions are higher when a loss raises later risk
    (lost_referral_ratio 1.5) than when it does not (1.0): the cost comes from the effect."""
    lose_all = [
        f"lead_provider.handoffs.{b}.loss=1.0"
        for b in ("same_organisation", "alliance", "separate")
    ]
    with_cost = run_care(*lose_all).metrics["readmission_30d_share"]
    no_cost = run_care(*lose_all, "model.after_discharge.lost_referral_ratio=1.0").metrics[
        "readmission_30d_share"
    ]
    assert with_cost > no_cost, f"with the effect {with_cost:.4f} <= without {no_cost:.4f}"
