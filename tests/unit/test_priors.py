"""Priors on assumed values (conf/priors.yaml, sim/config/priors.py): checked against the
shipped configs and the sensitivity files, refused in one line when wrong, and drawn by a
reproducible Latin hypercube whose draws compose and validate."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis.provenance import leaves
from sim.config import priors as pr
from sim.errors import ConfigError
from sim.paths import conf_dir, scenarios_dir

ARRANGEMENTS = pr.arrangement_names()


@functools.lru_cache(maxsize=1)
def _shipped() -> pr.Priors:
    return pr.load()


def _document() -> dict:
    return yaml.safe_load((conf_dir() / pr.PRIORS_FILE).read_text(encoding="utf-8"))


def test_the_shipped_priors_hold_every_arrangements_shipped_value():
    priors = _shipped()
    assert priors.arrangements == tuple(sorted(ARRANGEMENTS))
    assert len([p for p in priors.priors if p.drawn]) >= 20
    # Every arrangement gets the shared priors and one of its own for each keyed mechanism.
    per = {p.key for p in priors.priors if p.arrangement != pr.SHARED}
    for arrangement in ARRANGEMENTS:
        own = {p.key for p in priors.for_arrangement(arrangement) if p.arrangement != pr.SHARED}
        assert own == per


def test_every_sensitivity_value_lies_inside_the_prior_of_its_key():
    """The one-way tornado and the uncertainty analysis agree on what is plausible: each
    low/high file's value of a key with a shared prior is inside that prior's support, and
    of a per-arrangement key inside the support of at least one arrangement (a tornado file
    applies one value to whichever arrangement it runs with)."""
    priors = _shipped()
    bounds: dict[str, tuple[float, float]] = {}
    for p in priors.priors:
        if p.drawn:
            lo, hi = bounds.get(p.key, (p.low, p.high))
            bounds[p.key] = (min(lo, p.low), max(hi, p.high))
    checked = 0
    for path in sorted((scenarios_dir() / "sensitivity").glob("*_[lh]*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for group, section in data.items():
            for leaf, value in leaves({k: v for k, v in section.items() if k != "basis"}):
                key = f"{group}.{leaf}"
                if key in bounds and isinstance(value, int | float):
                    lo, hi = bounds[key]
                    assert lo <= float(value) <= hi, (path.name, key, value, (lo, hi))
                    checked += 1
    assert checked >= 20


def _edit(path: tuple, value) -> dict:
    doc = copy.deepcopy(_document())
    node = doc
    for part in path[:-1]:
        node = node[part]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


LOSS = ("shared", "lead_provider.handoffs.separate.loss")
GOV = ("per_arrangement", "lead_provider.governance_overhead_share")


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ((*LOSS, "distribution"), "normal",
         "priors.lead_provider.handoffs.separate.loss.distribution"),
        ((*LOSS, "high"), 0.01, "priors.lead_provider.handoffs.separate.loss.high"),
        ((*LOSS, "mode"), 0.5, "priors.lead_provider.handoffs.separate.loss.mode"),
        ((*LOSS, "low"), "two", "priors.lead_provider.handoffs.separate.loss.low"),
        ((*LOSS, "low"), float("nan"), "priors.lead_provider.handoffs.separate.loss.low"),
        ((*LOSS, "basis"), "a guess", "priors.lead_provider.handoffs.separate.loss.basis"),
        ((*LOSS, "sd"), 1.0, "priors.lead_provider.handoffs.separate.loss.sd"),
        ((*GOV, "alliance"), KeyError, "priors.lead_provider.governance_overhead_share"),
        ((*GOV, "nhs_direct"), {"distribution": "fixed", "value": 0.0},
         "priors.lead_provider.governance_overhead_share"),
        (("posterior",), {}, "priors.posterior"),
    ],
)  # fmt: skip
def test_a_bad_prior_is_refused_in_one_line_naming_the_key(path, value, key):
    with pytest.raises(ConfigError) as info:
        pr.parse(_edit(path, value), ARRANGEMENTS)
    assert info.value.key == key
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("key", "spec", "allowed"),
    [
        ("model.urgent.no_such_key", {"distribution": "uniform", "low": 0, "high": 1},
         "a key of the composed config"),
        ("model.social_care.p1_packages_per_1000", {"distribution": "uniform", "low": 0.1,
         "high": 0.2}, "shipped value 0.5"),
        ("model.calendar.start_date", {"distribution": "uniform", "low": 0, "high": 1},
         "a number"),
    ],
)  # fmt: skip
def test_a_prior_that_does_not_fit_the_config_is_refused(key, spec, allowed):
    prior = pr.parse_prior(key, pr.SHARED, spec, "assumption: a test")
    with pytest.raises(ConfigError) as info:
        pr.check_against_configs([prior], ["status_quo"])
    assert info.value.key == f"priors.{key}"
    assert allowed in str(info.value)


def test_draws_are_reproducible_and_fill_every_stratum():
    priors = _shipped()
    n = 16
    first = pr.draw(priors, n, seed=7)
    assert first.equals(pr.draw(priors, n, seed=7))
    assert not first.equals(pr.draw(priors, n, seed=8))
    for prior in priors.priors:
        rows = first[(first.key == prior.key) & (first.arrangement == prior.arrangement)]
        values = rows.sort_values("draw")["value"].to_numpy()
        assert values.size == n
        if not prior.drawn:
            assert np.all(values == prior.low)
            continue
        assert np.all((values >= prior.low) & (values <= prior.high))
        # Latin hypercube: exactly one draw in each of the n equal-probability strata.
        strata = np.floor(_cdf(prior, values) * n).astype(int)
        assert sorted(strata.tolist()) == list(range(n)), prior


def _cdf(prior: pr.Prior, x: np.ndarray) -> np.ndarray:
    grid = np.linspace(0.0, 1.0, 200_001)
    return np.clip(np.interp(x, prior.quantile(grid), grid), 0.0, 1.0 - 1e-12)


def test_a_triangular_prior_has_the_mean_of_its_three_points():
    prior = pr.parse_prior(
        "k",
        pr.SHARED,
        {"distribution": "triangular", "low": 0.0, "mode": 0.2, "high": 1.0},
        "assumption",
    )
    u = (np.arange(20_000) + 0.5) / 20_000
    assert prior.quantile(u).mean() == pytest.approx(0.4, abs=1e-3)


@given(
    low=st.floats(-1e6, 1e6),
    width=st.floats(1e-3, 1e6),
    at=st.floats(0.0, 1.0),
    u=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
)
def test_quantiles_stay_inside_the_support_and_rise_with_probability(low, width, at, u):
    spec = {"distribution": "triangular", "low": low, "mode": low + at * width, "high": low + width}
    prior = pr.parse_prior("k", pr.SHARED, spec, "assumption")
    values = prior.quantile(np.sort(np.array(u)))
    tol = 1e-9 * max(1.0, abs(low) + width)
    assert np.all(values >= low - tol) and np.all(values <= low + width + tol)
    assert np.all(np.diff(values) >= -tol)


def test_every_draw_composes_and_validates_for_every_arrangement(tmp_path, capsys):
    out = tmp_path / "draws.csv"
    assert pr.main(["--draws", "2", "--seed", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "composed and validated for 4 arrangements" in text
    table = __import__("pandas").read_csv(out)
    assert set(table["draw"]) == {0, 1}
    extra = pr.overrides(table, 0, "trust_led")
    assert any(o.startswith("lead_provider.governance_overhead_share=") for o in extra)
    assert all("=" in o for o in extra)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("shared: [1, 2]\n", "priors.shared"),
        ("!!python/object/apply:os.system ['touch PWNED']\n", "valid YAML"),
        ("shared:\n  model.urgent.crisis_scale:\n    distribution: uniform\n    low: 5\n"
         "    high: 9\n    basis: assumption\n", "shipped value"),
    ],
)  # fmt: skip
def test_the_command_refuses_a_bad_priors_file_in_one_line(tmp_path, capsys, text, words):
    path = tmp_path / "priors.yaml"
    path.write_text(text, encoding="utf-8")
    assert pr.main(["--file", str(path)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("nhsim.priors: error:") and words in err[0], err
    assert not (tmp_path / "PWNED").exists()


def test_the_command_refuses_no_draws_and_a_missing_file(tmp_path, capsys):
    assert pr.main(["--draws", "0"]) == 0  # no draws asked for: the table only
    assert pr.main(["--draws", "-1"]) == 2
    assert pr.main(["--file", str(tmp_path / "none.yaml")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 2 and all(line.startswith("nhsim.priors: error:") for line in err)
