"""Each practice's clinical workforce in sessions a week, and the appointments it gives.

A session is a half day; a full-time equivalent (FTE) is ``sessions_per_fte`` sessions
[src:bma-salaried-model]. GPs are partners (who share the profit) or salaried (a cost);
nurses are employed by the practice; PCN roles funded through ARRS are employed by the
network and reimbursed, so they add appointments but not cost (docs/model.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.models.care import schema as s

ROLES = ("gp", "nurse", "additional_roles")


@dataclass
class Workforce:
    """Sessions a week of every practice (arrays by practice; mutable over the run).

    Attributes
    ----------
    partner, salaried
        GP sessions a week of partners and of salaried GPs (including any drawn into
        neighbourhood work: those GPs stay on the practice's books).
    nurse, arrs
        Practice-nurse and ARRS-funded sessions a week.
    gp_headcount
        GPs in post (a GP works ``sessions_per_gp`` sessions on average).
    drawn
        GP sessions a week drawn out of practice work into neighbourhood work.
    """

    partner: np.ndarray
    salaried: np.ndarray
    nurse: np.ndarray
    arrs: np.ndarray
    gp_headcount: np.ndarray
    drawn: np.ndarray

    @property
    def gp(self) -> np.ndarray:
        """All GP sessions a week on the books."""
        return self.partner + self.salaried

    @property
    def gp_working(self) -> np.ndarray:
        """GP sessions a week left for practice work (after those drawn away)."""
        return np.maximum(self.gp - self.drawn, 0.0)


def draw(
    cfg: s.PracticeWorkforceConfig, weighted: np.ndarray, rng: np.random.Generator
) -> Workforce:
    """Each practice's starting workforce, drawn from ``rng``.

    GP sessions are the per-10,000-weighted-patient rate with a lognormal spread between
    practices (coefficient of variation ``spread_cv``). Practices with fewer GPs employ more
    nurses and other roles (skill mix), so the practice's total appointments vary less: they
    are the configured rate with a spread of ``capacity_spread_cv``, and nurse and ARRS
    sessions (in their configured ratio) make up what the GPs do not give, at least a fifth
    of their configured rate.
    """
    n = weighted.size
    z = rng.standard_normal((n, 2))
    gp_factor = lognormal(z[:, 0], cfg.spread_cv)
    total_factor = lognormal(z[:, 1], cfg.capacity_spread_cv)
    per = weighted / 10_000.0 * cfg.sessions_per_fte
    aps = cfg.appointments_per_session
    gp = per * cfg.gp_fte_per_10000_weighted * gp_factor
    nurse = per * cfg.nurse_fte_per_10000_weighted
    arrs = per * cfg.arrs_fte_per_10000_weighted
    gp_appts = gp * aps["gp"]
    other_appts = nurse * aps["nurse"] + arrs * aps["additional_roles"]
    total = (per * cfg.gp_fte_per_10000_weighted * aps["gp"] + other_appts) * total_factor
    with np.errstate(divide="ignore", invalid="ignore"):
        other = np.where(other_appts > 0, (total - gp_appts) / other_appts, 0.0)
    other = np.maximum(other, 0.2)
    partner = gp * cfg.partner_share_of_gp_fte
    return Workforce(
        partner=partner,
        salaried=gp - partner,
        nurse=nurse * other,
        arrs=arrs * other,
        gp_headcount=gp / cfg.sessions_per_gp if cfg.sessions_per_gp > 0 else gp * 0.0,
        drawn=np.zeros(n),
    )


def lognormal(z: np.ndarray, cv: float) -> np.ndarray:
    """Lognormal factors of mean 1 and coefficient of variation ``cv`` from standard normals
    ``z`` (the spreads between practices)."""
    sigma = float(np.sqrt(np.log1p(cv**2)))
    return np.exp(sigma * z - sigma**2 / 2.0)


def slots_per_weekday(cfg: s.PracticeWorkforceConfig, wf: Workforce) -> np.ndarray:
    """Appointments a working day by practice and role (shape practices x 3, in
    :data:`ROLES` order): sessions a week x appointments a session / 5 working days."""
    aps = cfg.appointments_per_session
    return np.column_stack(
        [
            wf.gp_working * aps["gp"] / 5.0,
            wf.nurse * aps["nurse"] / 5.0,
            wf.arrs * aps["additional_roles"] / 5.0,
        ]
    )


def nominal_per_1000_per_weekday(cfg: s.PracticeWorkforceConfig) -> float:
    """Appointments per 1,000 weighted patients a working day at the configured rates (no
    spread, nothing drawn): the place-wide capacity the ``gp_appointments_per_1000``
    override scales."""
    aps = cfg.appointments_per_session
    per_fte = cfg.sessions_per_fte / 5.0 / 10.0
    return per_fte * (
        cfg.gp_fte_per_10000_weighted * aps.get("gp", 0.0)
        + cfg.nurse_fte_per_10000_weighted * aps.get("nurse", 0.0)
        + cfg.arrs_fte_per_10000_weighted * aps.get("additional_roles", 0.0)
    )
