"""No service decision reads the future: pushing later every death after T changes nothing before T.

The illness is drawn first from each person's trajectory (the candidate urgent events, the
start of the last phase of life); then every death time after T is pushed a year later, so the
services see a different future but the same present. Every event before T (identifications,
referrals, enrolments, admissions, discharges, deaths) must be identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config.compose import compose_params
from sim.models import MODELS
from sim.models.care import demand

T = 150.0  # days
PUSH = 365.0  # days added to every death after T
OVERRIDES = ["model=care", "place=neighbourhood_50k", "run.horizon=240", "run.warm_up=30"]


def _events(monkeypatch: pytest.MonkeyPatch | None) -> tuple[pd.DataFrame, int]:
    """The run's event log, and how many death times were pushed (0 without ``monkeypatch``)."""
    params = compose_params([*OVERRIDES, "output.event_log=true"])
    pushed = [0]
    if monkeypatch is not None:
        real = demand.generate

        def generate_then_push(care, pop, streams, horizon):  # type: ignore[no-untyped-def]
            out = real(care, pop, streams, horizon)  # the illness, from the true trajectory
            later = np.isfinite(pop.death_time) & (pop.death_time > T)
            pop.death_time[later] += PUSH  # the services now face another future
            pushed[0] = int(later.sum())
            return out

        monkeypatch.setattr(demand, "generate", generate_then_push)
    result = MODELS["care"].simulate(params.model, params.run, params.output, 0)
    return result.tables["events"], pushed[0]


def test_decisions_before_t_ignore_every_death_after_t(monkeypatch):
    """Every event before T is the same when all deaths after T come a year later; after T
    the runs differ (the push took effect), so the comparison has teeth."""
    base, _ = _events(None)
    moved, pushed = _events(monkeypatch)
    assert pushed > 50, f"only {pushed} deaths after T were pushed"

    def before(ev: pd.DataFrame) -> pd.DataFrame:
        return ev[ev["time_days"] < T].reset_index(drop=True)

    a, b = before(base), before(moved)
    kinds = set(a["event"].astype(str))
    for needed in ("eol_identified", "eol_enrolment", "emergency_admission", "discharge"):
        assert needed in kinds, f"no {needed} before T: the check would be empty ({kinds})"
    assert len(a) == len(b), f"{len(a)} events before T in the base run, {len(b)} after the push"
    diff = (a != b).any(axis=1) & ~(a.isna() & b.isna()).all(axis=1)
    assert not diff.any(), (
        "first differing events before T:\n"
        + pd.concat([a[diff].head(3), b[diff].head(3)]).to_string()
    )
    deaths = [int((ev["event"] == "death").sum()) for ev in (base, moved)]
    assert deaths[0] > deaths[1], f"deaths after the push did not fall: {deaths}"


def test_surprise_question_has_its_configured_accuracy(run_care):
    """Answers in a run match model.eol.sensitivity and specificity within 4 standard errors."""
    d = run_care("model.eol.sensitivity=0.5", "model.eol.specificity=0.9").diagnostics
    for key, want in (("eol_question_sensitivity", 0.5), ("eol_question_specificity", 0.9)):
        got = d[key]
        n = d["eol_identified"]  # at least this many answers were given
        se = (want * (1 - want) / max(n, 1.0)) ** 0.5
        assert abs(got - want) < 4 * se + 0.02, f"{key} {got:.3f}, configured {want} (n>={n})"


def test_nobody_identified_means_nobody_enrolled(run_care):
    """With sensitivity 0 and specificity 1 the question picks out no one, so no one is
    referred for or enrolled in end-of-life care: only identified people are offered it."""
    r = run_care("model.eol.sensitivity=0", "model.eol.specificity=1", "output.event_log=true")
    ev = r.tables["events"]["event"].astype(str)
    counts = {k: int((ev == k).sum()) for k in ("eol_identified", "eol_enrolment")}
    assert counts == {"eol_identified": 0, "eol_enrolment": 0}, counts
    assert r.metrics["eol_caseload_mean"] == 0.0, r.metrics["eol_caseload_mean"]
