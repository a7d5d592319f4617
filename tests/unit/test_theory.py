"""The analytic queueing results against values worked out by hand from textbook formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analysis import theory


def _erlang_b_closed_form(c: int, a: float) -> float:
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def _erlang_c_closed_form(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(
    ("c", "a", "expected"),
    [
        (0, 3.0, 1.0),  # no servers: everyone is blocked
        (1, 1.0, 0.5),  # a / (1 + a)
        (2, 1.0, 0.2),  # (1/2) / (1 + 1 + 1/2)
        (3, 2.0, 4.0 / 19.0),  # (8/6) / (1 + 2 + 2 + 8/6)
    ],
)
def test_erlang_b_hand_values(c, a, expected):
    """Erlang B at small c, computed by hand."""
    assert theory.erlang_b(c, a) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("c", [1, 2, 5, 10, 30, 80])
@pytest.mark.parametrize("a", [0.3, 1.0, 4.5, 9.5, 25.0])
def test_erlang_b_recursion_matches_the_closed_form(c, a):
    """The stable recursion B(k) = a B(k-1) / (k + a B(k-1)) equals (a^c/c!) / sum a^k/k!."""
    assert theory.erlang_b(c, a) == pytest.approx(_erlang_b_closed_form(c, a), rel=1e-10)


def test_erlang_b_stays_finite_where_factorials_overflow():
    """The recursion works at sizes where a^c / c! overflows a float."""
    b = theory.erlang_b(400, 380.0)
    assert 0.0 < b < 1.0
    assert math.isfinite(b)


@pytest.mark.parametrize(
    ("c", "a", "expected"),
    [
        (1, 0.5, 0.5),  # M/M/1: P(wait) = rho
        (2, 1.0, 1.0 / 3.0),  # (1/2 * 2) / (1 + 1 + 1)
        (5, 4.5, None),  # README: 0.7625
    ],
)
def test_erlang_c_hand_values(c, a, expected):
    """Erlang C at small c, and the README's M/M/5 example."""
    want = _erlang_c_closed_form(c, a) if expected is None else expected
    assert theory.erlang_c(c, a) == pytest.approx(want, rel=1e-12)
    if expected is None:
        assert theory.erlang_c(c, a) == pytest.approx(0.7625, abs=5e-5)


@pytest.mark.parametrize("a", [2.0, 2.5])
def test_erlang_c_is_one_when_overloaded(a):
    """With a >= c every arrival waits."""
    assert theory.erlang_c(2, a) == 1.0


def test_mm1_textbook_values():
    """M/M/1 with lambda = 0.5, mu = 1: Wq = 1, W = 2, Lq = 0.5, L = 1, rho = 0.5."""
    m = theory.mmc(0.5, 1.0, 1)
    assert (m.wait, m.sojourn, m.queue_length, m.number_in_system) == pytest.approx(
        (1.0, 2.0, 0.5, 1.0)
    )
    assert m.utilisation == pytest.approx(0.5)
    assert m.throughput == 0.5
    assert m.blocking == 0.0


def test_mm2_textbook_values():
    """M/M/2 with lambda = mu = 1: C = 1/3, Wq = C / (2 mu - lambda) = 1/3, L = 4/3."""
    m = theory.mmc(1.0, 1.0, 2)
    assert m.wait == pytest.approx(1.0 / 3.0)
    assert m.sojourn == pytest.approx(4.0 / 3.0)
    assert m.number_in_system == pytest.approx(4.0 / 3.0)
    assert m.utilisation == pytest.approx(0.5)


def test_readme_example_mm5():
    """The README's M/M/5 at rho = 0.9: Wq = 1.525, W = 2.525."""
    m = theory.mmc(4.5, 1.0, 5)
    assert m.wait == pytest.approx(1.525, abs=5e-4)
    assert m.sojourn == pytest.approx(m.wait + 1.0)
    assert m.number_in_system == pytest.approx(4.5 * m.sojourn)  # Little


@pytest.mark.parametrize(("lam", "c"), [(1.0, 1), (2.5, 2), (3.0, 2)])
def test_mmc_without_steady_state_raises(lam, c):
    """rho >= 1 has no steady state: ValueError, not a number."""
    with pytest.raises(ValueError, match="unstable"):
        theory.mmc(lam, 1.0, c)


def test_mm1k_hand_values():
    """M/M/1/2 with lambda = 1, mu = 2: p = (4, 2, 1) / 7."""
    m = theory.mmck(1.0, 2.0, 1, 2)
    assert m.blocking == pytest.approx(1.0 / 7.0)
    assert m.number_in_system == pytest.approx(4.0 / 7.0)
    assert m.queue_length == pytest.approx(1.0 / 7.0)
    assert m.throughput == pytest.approx(6.0 / 7.0)
    assert m.sojourn == pytest.approx(2.0 / 3.0)  # L / lambda_eff
    assert m.wait == pytest.approx(1.0 / 6.0)
    assert m.utilisation == pytest.approx(3.0 / 7.0)  # 1 - p0


def test_mmck_with_k_equal_c_is_erlang_b():
    """M/M/c/c blocking is Erlang B and nobody waits."""
    for c, a in [(1, 0.7), (5, 4.0), (12, 15.0)]:
        m = theory.mmck(a, 1.0, c, c)
        assert m.blocking == pytest.approx(theory.erlang_b(c, a), rel=1e-10)
        assert m.wait == pytest.approx(0.0, abs=1e-15)


def test_mmck_approaches_mmc_as_k_grows():
    """With K large, M/M/c/K tends to M/M/c."""
    big = theory.mmck(4.5, 1.0, 5, 2000)
    inf = theory.mmc(4.5, 1.0, 5)
    assert big.blocking < 1e-12
    assert big.wait == pytest.approx(inf.wait, rel=1e-9)
    assert big.number_in_system == pytest.approx(inf.number_in_system, rel=1e-9)


def test_mmck_overloaded_is_finite():
    """A finite queue has a steady state at any load: M/M/1/1 at a = 2 blocks 2/3."""
    m = theory.mmck(2.0, 1.0, 1, 1)
    assert m.blocking == pytest.approx(2.0 / 3.0)
    assert theory.mmck(50.0, 1.0, 3, 10).blocking == pytest.approx(1 - 3 / 50, rel=1e-3)


def test_mmck_rejects_k_below_c():
    """K counts servers too, so K < c is meaningless."""
    with pytest.raises(ValueError):
        theory.mmck(1.0, 1.0, 3, 2)


def test_pollaczek_khinchine():
    """M/D/1 waits half as long as M/M/1; exponential second moment gives back M/M/1."""
    assert theory.mg1_wait(0.5, 1.0, 1.0) == pytest.approx(0.5)  # lam E[S^2] / (2 (1 - rho))
    assert theory.mg1_wait(0.5, 1.0, 2.0) == pytest.approx(theory.mmc(0.5, 1.0, 1).wait)
    assert theory.mg1_wait(0.8, 1.0, 1.0) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="unstable"):
        theory.mg1_wait(1.0, 1.0, 1.0)


def test_priority_waits_hand_values():
    """Cobham, M/M/1, lambda = (0.2, 0.3), mu = 1: W0 = 0.5, waits 0.5/0.8 and 0.5/(0.8*0.5)."""
    w = theory.priority_waits([0.2, 0.3], 1.0, 1)
    assert w == pytest.approx([0.625, 1.25])


@pytest.mark.parametrize(("lam", "c"), [([0.2, 0.3], 1), ([1.0, 2.0, 1.5], 5), ([3.0, 6.0], 10)])
def test_priority_waits_conserve_the_fifo_mean(lam, c):
    """Kleinrock's conservation law: the arrival-weighted mean wait equals the FIFO M/M/c wait."""
    waits = theory.priority_waits(lam, 1.0, c)
    mean = sum(lk * wk for lk, wk in zip(lam, waits, strict=True)) / sum(lam)
    assert mean == pytest.approx(theory.mmc(sum(lam), 1.0, c).wait, rel=1e-12)
    assert waits == sorted(waits)  # higher priority never waits longer


def test_priority_waits_unstable_raises():
    """No steady state at rho >= 1."""
    with pytest.raises(ValueError, match="unstable"):
        theory.priority_waits([0.5, 0.5], 1.0, 1)


def test_traffic_equations():
    """Tandem, single-node feedback and jackson3 all satisfy lambda = gamma + P^T lambda."""
    tandem = theory.traffic_equations(np.array([1.0, 0.0]), np.array([[0.0, 1.0], [0.0, 0.0]]))
    np.testing.assert_allclose(tandem, [1.0, 1.0])
    feedback = theory.traffic_equations(np.array([2.0]), np.array([[0.75]]))
    np.testing.assert_allclose(feedback, [8.0])  # gamma / (1 - p)
    gamma = np.array([1.0, 0.5, 0.3])
    routing = np.array([[0.0, 0.5, 0.3], [0.2, 0.0, 0.4], [0.1, 0.1, 0.0]])
    lam = theory.traffic_equations(gamma, routing)
    np.testing.assert_allclose(lam, gamma + routing.T @ lam, rtol=1e-12)
    # Flow out of the network equals flow in.
    exits = lam * (1.0 - routing.sum(axis=1))
    assert exits.sum() == pytest.approx(gamma.sum())
