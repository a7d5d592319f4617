"""Bad input: one line naming the key, the value and the rule; no traceback; no directory."""

from __future__ import annotations

import pytest

BAD = [
    ("run.warm_up=30000", "run.warm_up"),
    ("run.replications=abc", "run.replications"),
    ("model.nodes.a.servers=-1", "model.nodes.a.servers"),
    ("model.nodes.a.servrs=3", "model.nodes.a.servrs"),
    ("+model.nodes.a.servrs=3", "model.nodes.a.servrs"),
    ("+foo=1", "foo"),
    ("model=nope", "model"),
    ("model.nodes.a.service_rate=nan", "model.nodes.a.service_rate"),
    ("model.nodes.a.servers=5,6", "model.nodes.a.servers"),
    ("run.seed=-4", "run.seed"),
]


@pytest.mark.parametrize(("override", "key"), BAD)
def test_bad_override_gives_one_clean_line(run_cli, override, key):
    """The CLI exits non-zero with exactly one stderr line naming the key, and writes nothing."""
    result = run_cli("model=queue", override)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0, result.stdout
    assert len(lines) == 1, result.stderr
    assert key in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert not run_cli.outputs.exists(), list(run_cli.outputs.rglob("*"))


def test_bad_value_inside_a_sweep_stops_before_any_job(run_cli):
    """One invalid value among a sweep's values fails the whole sweep before any directory."""
    result = run_cli("-m", "model=queue", "model.nodes.a.servers=5,0,6")
    assert result.returncode != 0
    assert "model.nodes.a.servers = 0" in result.stderr, result.stderr
    assert not run_cli.outputs.exists()


HUGE = [
    (("model=queue", "run.horizon=1e10"), "run.horizon = 10000000000.0: needs about"),
    (("model=care", "place.areas.mnp.population=1000000000"), "place.areas.mnp.population ="),
    (("model=care", "run.horizon=1e9"), "run.horizon = 1000000000.0: needs about"),
]


@pytest.mark.parametrize(("overrides", "start"), HUGE, ids=lambda v: str(v))
def test_huge_but_valid_values_are_refused_with_their_memory_cost(run_cli, overrides, start):
    """A value too big for this machine: one line with the expected memory, before any run."""
    result = run_cli(*overrides)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stdout
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"nhsim: error: {start}"), lines[0]
    assert "GB of memory" in lines[0] and "GB is available" in lines[0], lines[0]
    assert not run_cli.outputs.exists(), list(run_cli.outputs.rglob("*"))
