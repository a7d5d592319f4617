"""Expected memory and time (sim.run.cost): huge values refused up front, shipped configs fit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sim.config.compose import compose_params
from sim.errors import ConfigError
from sim.run.cost import check_memory, duration_note, estimate

PLACES = ("neighbourhood_50k", "mnp_250k", "sel_1_9m")


@pytest.mark.parametrize("place", PLACES)
def test_every_shipped_place_fits_an_8_gb_machine(place: str) -> None:
    params = compose_params(["model=care", f"place={place}"])
    est = check_memory(params, available=8.0)
    assert 0 < est.peak_gb < 6.4
    assert est.seconds_per_replication > 0


def test_cost_grows_with_people_and_horizon() -> None:
    small = estimate(compose_params(["model=care", "place=neighbourhood_50k"]))
    big = estimate(compose_params(["model=care", "place=mnp_250k"]))
    long = estimate(compose_params(["model=care", "place=mnp_250k", "run.horizon=4000"]))
    assert small.peak_gb < big.peak_gb < long.peak_gb
    assert small.seconds_per_replication < big.seconds_per_replication
    assert big.seconds_per_replication < long.seconds_per_replication


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["model=care", "place.areas.mnp.population=100000000"], "place.areas.mnp.population"),
        (["model=care", "run.horizon=100000"], "run.horizon"),
        (["model=queue", "run.horizon=1e9"], "run.horizon"),
        (["model=care", "place=sel_1_9m", "run.workers=8", "run.horizon=2000"], "place.areas."),
    ],
)
def test_too_big_for_the_machine_names_the_key(overrides: list[str], key: str) -> None:
    params = compose_params(overrides)
    with pytest.raises(ConfigError) as info:
        check_memory(params, available=16.0)
    message = str(info.value)
    assert message.startswith(key), message
    assert "GB of memory" in message and "16.0 GB is available" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "extra",
    [["run.horizon=400"], ["run.horizon=1200", "output.event_log=true"]],
    ids=["one_year", "three_years_with_event_log"],
)
def test_the_estimate_is_not_below_a_measured_run(extra: list[str]) -> None:
    """Peak memory of a real replication (own interpreter) is within the estimate."""
    overrides = ["model=care", "place=neighbourhood_50k", "run.warm_up=30", *extra]
    # VmHWM, not getrusage's ru_maxrss: the latter survives exec, so a child forked from a
    # large pytest process would report the parent's peak.
    code = (
        "import json, re\n"
        "from sim.config.compose import compose_params\n"
        "from sim.models import MODELS\n"
        f"p = compose_params({overrides!r})\n"
        "MODELS['care'].simulate(p.model, p.run, p.output, 0)\n"
        "status = open('/proc/self/status').read()\n"
        "kb = int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
        "print(json.dumps(kb / 2**20))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    measured_gb = json.loads(done.stdout.strip().splitlines()[-1])
    est = estimate(compose_params(overrides))
    assert measured_gb <= est.peak_gb <= 3 * measured_gb, (measured_gb, est.peak_gb)


def test_duration_note_only_for_long_commands() -> None:
    assert duration_note(3599.0, 10) is None
    note = duration_note(7200.0, 40)
    assert note is not None and "2 hours" in note and "40 replications" in note
    assert "days" in (duration_note(10 * 86400.0, 1000) or "")
