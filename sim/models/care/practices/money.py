"""A practice's quarter: income, costs and the partners' profit.

Income follows NHS Payments to General Practice: the global sum per weighted patient (less the
out-of-hours deduction), QOF, the PCN DES, enhanced services, and whatever the arrangement
routes to the practice (a neighbourhood payment per weighted patient, and pay for GP sessions
drawn into neighbourhood work). Costs are salaried GPs and nurses at cost per FTE, and other
staff, premises and overheads per weighted patient. ARRS roles are reimbursed to the network
and premises are reimbursed at cost, so neither moves the margin and both are left out. What
is left is the partners' profit (docs/model.md, "General practice as a business").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.models.care import schema as s
from sim.models.care.practices.workforce import Workforce

QUARTERS_PER_YEAR = 4


@dataclass(frozen=True)
class Terms:
    """What an arrangement gives and takes, by practice (arrays by practice)."""

    payment_per_weighted_patient: np.ndarray
    enhanced_services_kept_share: np.ndarray
    drawn_session_payment: np.ndarray


@dataclass(frozen=True)
class Quarter:
    """One quarter's accounts of every practice (GBP in the quarter; arrays by practice)."""

    income: np.ndarray
    costs: np.ndarray
    neighbourhood_payment: np.ndarray
    enhanced_services_lost: np.ndarray
    partner_fte: np.ndarray

    @property
    def profit(self) -> np.ndarray:
        """Income less costs: the partners' share of the quarter."""
        return self.income - self.costs

    @property
    def profit_per_partner_fte(self) -> np.ndarray:
        """Profit a year per partner FTE (NaN where a practice has no partners)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(
                self.partner_fte > 0,
                self.profit * QUARTERS_PER_YEAR / self.partner_fte,
                np.nan,
            )


def session_cost(money: s.PracticeMoneyConfig, sessions_per_fte: float) -> float:
    """Cost a year of one weekly salaried GP session."""
    return money.salaried_gp_cost_per_fte_gbp / sessions_per_fte if sessions_per_fte else 0.0


def quarter(
    money: s.PracticeMoneyConfig,
    sessions_per_fte: float,
    wf: Workforce,
    registered: np.ndarray,
    weighted: np.ndarray,
    engaged: np.ndarray,
    terms: Terms,
    income_factor: np.ndarray,
    cost_factor: np.ndarray,
) -> Quarter:
    """The quarter's accounts.

    Parameters
    ----------
    money
        Payment rates and unit costs (GBP a year).
    sessions_per_fte
        Sessions a week in a full-time equivalent.
    wf
        The workforce now.
    registered, weighted
        List sizes now.
    engaged
        Whether each practice takes part in neighbourhood work (only engaged practices are
        paid the neighbourhood payment and supply drawn sessions).
    terms
        The arrangement's terms for each practice.
    income_factor, cost_factor
        Each practice's income and cost relative to the national rates this quarter (the
        between-practice spread and the quarter's shock).
    """
    q = 1.0 / QUARTERS_PER_YEAR
    core = weighted * money.global_sum_per_weighted_patient_gbp * (
        1.0 - money.out_of_hours_deduction_share
    ) + registered * (money.qof_per_patient_gbp + money.pcn_des_per_patient_gbp)
    enhanced = registered * money.enhanced_services_per_patient_gbp
    kept = enhanced * terms.enhanced_services_kept_share
    routed = np.where(engaged, weighted * terms.payment_per_weighted_patient, 0.0)
    routed = routed + wf.drawn * terms.drawn_session_payment
    income = (core + kept) * income_factor + routed
    fte = sessions_per_fte if sessions_per_fte > 0 else 1.0
    staff = (
        wf.salaried * money.salaried_gp_cost_per_fte_gbp + wf.nurse * money.nurse_cost_per_fte_gbp
    ) / fte
    other = weighted * money.other_costs_per_weighted_patient_gbp * cost_factor
    return Quarter(
        income=income * q,
        costs=(staff + other) * q,
        neighbourhood_payment=routed * q,
        enhanced_services_lost=(enhanced - kept) * income_factor * q,
        partner_fte=wf.partner / fte,
    )
