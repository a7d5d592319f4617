"""Override parsing, sweep expansion and error-line bounds (sim.config.overrides, sim.errors)."""

from __future__ import annotations

import pytest

from sim.config.overrides import MAX_SWEEP_JOBS, expand_jobs, is_plain, parse
from sim.errors import ConfigError, shorten


def test_jobs_are_the_cartesian_product_in_command_line_order():
    """Two sweeps give every combination, the first key varying slowest (Hydra's order)."""
    jobs = expand_jobs(parse(["a=1,2", "b=x,y", "c=3"]))
    assert jobs == [
        ["a=1", "b=x", "c=3"],
        ["a=1", "b=y", "c=3"],
        ["a=2", "b=x", "c=3"],
        ["a=2", "b=y", "c=3"],
    ], jobs


def test_a_later_override_replaces_an_earlier_one_in_its_place():
    """A command line's value wins over an experiment file's sweep, keeping the file's order."""
    jobs = expand_jobs(parse(["a=1,2", "b=5", "a=7"]))
    assert jobs == [["a=7", "b=5"]], jobs


def test_range_sweep_is_counted_without_being_listed():
    """range(0, 10**12) is refused with its exact size, at once."""
    with pytest.raises(ConfigError) as info:
        expand_jobs(parse(["a=range(0,1000000000000)"]))
    assert "1000000000000" in str(info.value), str(info.value)


def test_sweep_at_the_limit_is_accepted():
    """Exactly MAX_SWEEP_JOBS jobs is allowed (the limit is inclusive)."""
    jobs = expand_jobs(parse([f"a=range(0,{MAX_SWEEP_JOBS})"]))
    assert len(jobs) == MAX_SWEEP_JOBS


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("run.seed=3", True),
        ("+experiment=mmc_servers", True),
        ("model=queue", True),
        ("run.cache=false", True),
        ("run.seed=1,2", False),
        ("~run.seed", False),
        ("hydra.run.dir=/tmp/x", False),
        ("run.seed=${oc.env:HOME}", False),
        ("+run._target_=os.system", False),
        ("run.seed=range(1,3)", False),
        ("model.nodes.a.priority_mix=[0.5,0.5]", True),
        ("+model.nodes.a.routing={b:0.5}", True),
        ("run.seed=[${oc.env:HOME}]", False),
        ("+model.x={k:${oc.env:HOME}}", False),
    ],
)
def test_plain_overrides(text, plain):
    """Only key=value with one plain value counts as plain (what a run dir may replay)."""
    assert is_plain(parse([text])[0]) is plain, text


def test_shorten_keeps_short_text_and_bounds_long_text():
    """Short text is unchanged; long text keeps its start, an ellipsis and its length."""
    assert shorten("abc") == "abc"
    long = shorten("x" * 1_000_000)
    assert len(long) < 230 and long.endswith("... (1,000,000 chars)"), long[-40:]


def test_error_line_is_bounded_whatever_the_value():
    """A ConfigError about a huge key and value is one line of bounded length."""
    message = str(ConfigError("k" * 10_000, "v" * 1_000_000, "a" * 5_000))
    assert "\n" not in message and len(message) < 1500, len(message)
