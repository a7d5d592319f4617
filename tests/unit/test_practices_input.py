"""Bad input to general practice as a business (issue 17): every refused value of
``model.practices`` and ``lead_provider.practices`` gives one ConfigError line naming the key,
the value and the rule; a practice with no GP sessions is allowed and the model still runs."""

from __future__ import annotations

import math

import pytest

from sim.config.compose import compose_params
from sim.errors import ConfigError
from sim.models import MODELS

BASE = ("model=care", "place=neighbourhood_50k")
SHORT_RUN = ("run.horizon=60", "run.warm_up=0", "run.replications=1")
WF = "model.practices.workforce"
LP = "lead_provider.practices"

BAD = [
    (f"{WF}.gp_fte_per_10000_weighted=-1", f"{WF}.gp_fte_per_10000_weighted", "at least 0"),
    (f"{WF}.nurse_fte_per_10000_weighted=-0.5", f"{WF}.nurse_fte_per_10000_weighted", "at least 0"),
    (f"{WF}.appointments_per_session.gp=-2", f"{WF}.appointments_per_session.gp", "at least 0"),
    (f"{WF}.partner_share_of_gp_fte=1.5", f"{WF}.partner_share_of_gp_fte", "between 0 and 1"),
    (f"{WF}.sessions_per_fte=0", f"{WF}.sessions_per_fte", "greater than 0"),
    (f"{WF}.sessions_per_gp=0", f"{WF}.sessions_per_gp", "greater than 0"),
    (f"~{WF}.appointments_per_session.nurse", f"{WF}.appointments_per_session", "nurse"),
    (f"+{WF}.appointments_per_session.doctor=3", f"{WF}.appointments_per_session", "exactly"),
    ("model.practices.weighting.care_home_weight=-1", "model.practices.weighting.care_home_weight",
     "at least 0"),
    ("+model.practices.weighting.age_weights.over_100=3", "model.practices.weighting.age_weights",
     "exactly the keys"),
    ("model.practices.money.out_of_hours_deduction_share=2",
     "model.practices.money.out_of_hours_deduction_share", "between 0 and 1"),
    ("model.practices.money.shock_persistence=1", "model.practices.money.shock_persistence",
     "below 1"),
    ("model.practices.behaviour.payment_spent_on_gp_sessions_share=1.5",
     "model.practices.behaviour.payment_spent_on_gp_sessions_share", "between 0 and 1"),
    ("model.practices.behaviour.payment_spent_on_gp_sessions_share=-0.1",
     "model.practices.behaviour.payment_spent_on_gp_sessions_share", "0"),
    ("model.practices.viability.quarters_to_hand_back=0",
     "model.practices.viability.quarters_to_hand_back", "at least 1"),
    ("model.practices.continuity.new_registration_factor=1.1",
     "model.practices.continuity.new_registration_factor", "between 0 and 1"),
    (f"{LP}.enhanced_services_moved_out_share=1.2", f"{LP}.enhanced_services_moved_out_share",
     "between 0 and 1"),
    (f"{LP}.autonomy=1.5", f"{LP}.autonomy", "between 0 and 1"),
    (f"{LP}.gp_sessions_drawn_per_10000=-1", f"{LP}.gp_sessions_drawn_per_10000", "at least 0"),
    (f"{LP}.payment_per_weighted_patient_gbp=1000", f"{LP}.payment_per_weighted_patient_gbp",
     "envelope"),
]  # fmt: skip


@pytest.mark.parametrize(("override", "key", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_bad_practice_values_name_key_value_and_rule(override, key, fragment):
    """Each bad value is refused at validation with one ConfigError line that names the full
    key, quotes the value given and says what is allowed."""
    with pytest.raises(ConfigError) as info:
        compose_params([*BASE, override])
    message = str(info.value)
    assert info.value.key == key, message
    assert message.startswith(f"{key} = "), message
    assert fragment in message, message
    assert "\n" not in message, message
    if not isinstance(info.value.value, dict):  # a single value: the error quotes it
        given = float(override.split("=", 1)[1])
        assert float(info.value.value) == given, f"quoted {info.value.value!r}, given {given}"


def test_payment_too_large_for_the_envelope_names_the_envelope():
    """A neighbourhood payment that, at the shipped chance of engaging, takes more than the
    envelope is refused naming the payment key and the envelope per head; a payment that
    fits is accepted."""
    with pytest.raises(ConfigError) as info:
        compose_params([*BASE, f"{LP}.payment_per_weighted_patient_gbp=500"])
    message = str(info.value)
    assert info.value.key == f"{LP}.payment_per_weighted_patient_gbp", message
    assert "GBP" in message and "per head" in message, message
    params = compose_params([*BASE, f"{LP}.payment_per_weighted_patient_gbp=5"])
    spend = params.model.budget_spend_gbp_per_year["gp_neighbourhood_payments"]
    assert spend > 0, f"GP neighbourhood payments {spend}"


@pytest.mark.parametrize(
    ("override", "key"),
    [
        (f"{WF}.gp_fte_per_10000_weighted=-1", f"{WF}.gp_fte_per_10000_weighted"),
        (f"{LP}.payment_per_weighted_patient_gbp=1000", f"{LP}.payment_per_weighted_patient_gbp"),
    ],
)
def test_cli_bad_practice_value_gives_one_clean_line(run_cli, override, key):
    """Through the CLI a bad practice value exits 2 with exactly one stderr line naming the
    key, no traceback and no output directory."""
    result = run_cli(*BASE, override)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert key in lines[0], lines[0]
    assert "Traceback" not in result.stderr, result.stderr
    assert not run_cli.outputs.exists(), list(run_cli.outputs.rglob("*"))


def test_practice_with_no_gp_sessions_validates():
    """A workforce with no GP sessions is allowed: the config validates and the nominal
    capacity is what nurses and other roles give."""
    params = compose_params([*BASE, f"{WF}.gp_fte_per_10000_weighted=0"])
    wf = params.model.model.practices.workforce
    nominal = params.model.capacity["gp_appointments_per_1000"]
    aps = wf.appointments_per_session
    per_fte = wf.sessions_per_fte / 5.0 / 10.0  # a weekday, per 1,000 of per 10,000
    nurse = wf.nurse_fte_per_10000_weighted * aps["nurse"]
    want = per_fte * (nurse + wf.arrs_fte_per_10000_weighted * aps["additional_roles"])
    assert nominal == pytest.approx(want), f"nominal per 1,000 {nominal}, expected {want}"


def test_practice_with_no_gp_sessions_runs_with_no_gp_appointments():
    """A short run with no GP sessions still runs, gives appointments (nurses and other
    roles) and none of them with a GP."""
    params = compose_params([*BASE, *SHORT_RUN, f"{WF}.gp_fte_per_10000_weighted=0"])
    result = MODELS["care"].simulate(params.model, params.run, params.output, 0)
    m = result.metrics
    assert m["gp_gp_delivered_share"] == 0.0, f"GP-delivered share {m['gp_gp_delivered_share']}"
    assert m["gp_appointments_per_1000"] > 0, f"appointments {m['gp_appointments_per_1000']}"
    assert math.isfinite(m["gp_routine_wait_mean_days"]), f"wait {m['gp_routine_wait_mean_days']}"


def test_large_engagement_coefficient_is_refused_or_saturates():
    """A large (non-negative, so accepted) engagement coefficient under an arrangement with
    little autonomy either validates (the logistic saturates at 0) or is refused with a
    ConfigError naming the key; it never raises anything else."""
    override = "model.practices.behaviour.engagement_per_autonomy=5000"
    try:
        compose_params([*BASE, "lead_provider=trust_led", override])
    except ConfigError as exc:
        assert exc.key == "model.practices.behaviour.engagement_per_autonomy", str(exc)


def test_huge_spread_is_refused_or_runs():
    """An absurd spread between practices is either refused at validation with a ConfigError
    naming the key, or the run completes; it never fails with a traceback mid-run."""
    override = f"{WF}.spread_cv=1e200"
    try:
        params = compose_params([*BASE, *SHORT_RUN, override])
    except ConfigError as exc:
        assert exc.key == f"{WF}.spread_cv", str(exc)
        return
    MODELS["care"].simulate(params.model, params.run, params.output, 0)


def test_every_practice_distressed_displaces_at_most_the_closing_lists():
    """An extreme but valid config (every practice distressed, hand back after one quarter):
    all but one practice of the area hand back, one stays open, the run completes, and the
    patients displaced are at most those registered with the practices that handed back."""
    viab = "model.practices.viability"
    params = compose_params(
        [*BASE, "run.horizon=120", "run.warm_up=0", "run.replications=1",
         f"{viab}.distress_profit_per_partner_fte_gbp=1e9", f"{viab}.quarters_to_hand_back=1"]
    )  # fmt: skip
    result = MODELS["care"].simulate(params.model, params.run, params.output, 0)
    rows = result.tables["practices"]
    q0 = rows[rows["quarter"] == 0]
    n = len(q0)
    backs = int(q0["handed_back"].sum())
    assert backs == n - 1, f"{backs} of {n} practices handed back, expected {n - 1}"
    years = rows["quarter"].nunique() / 4.0
    closing = float(q0.loc[q0["handed_back"], "registered"].sum())
    bound = closing / float(q0["registered"].sum()) * 1000.0 / years
    got = result.metrics["patients_displaced_per_1000"]
    assert got <= 1.05 * bound, f"displaced {got:.0f} per 1,000 a year, closing lists {bound:.0f}"


def test_no_gp_capacity_is_reported_as_a_caution():
    """A workforce with no GP sessions is reported in the run's warnings (a caution naming
    the key), and the shipped workforce gives no such warning."""
    from sim.models.care.checks import practice_warnings

    params = compose_params([*BASE, f"{WF}.gp_fte_per_10000_weighted=0"])
    found = practice_warnings(params.model, "test")
    assert [w.kind for w in found] == ["no_gp_capacity"], found
    assert "gp_fte_per_10000_weighted = 0" in found[0].message, found[0].message
    assert practice_warnings(compose_params(BASE).model, "test") == []
