"""The pre-flight's compositions are not repeated: each sweep job is composed once in the parent.

Hydra's basic sweeper composes every job of a batch in the parent before launching it, only
to fail early on one that cannot be composed. The pre-flight has already composed and
validated the same override lists, so the CLI lets the sweeper skip them (``sim.cli.app``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hydra._internal.core_plugins import basic_sweeper
from omegaconf import OmegaConf

import sim.cli.preflight
from sim.cli.app import skip_composed_jobs
from sim.cli.preflight import check

# Counts Hydra's job compositions in the parent, then runs the real CLI in that process.
DRIVER = """
import json, sys
from hydra._internal.config_loader_impl import ConfigLoaderImpl
import sim.cli.app

calls = []
original = ConfigLoaderImpl.load_sweep_config

def load_sweep_config(self, master_config, sweep_overrides):
    calls.append(list(sweep_overrides))
    return original(self, master_config, sweep_overrides)

ConfigLoaderImpl.load_sweep_config = load_sweep_config
sys.argv = ["nhsim", *sys.argv[1:]]
sim.cli.app.main()
print("CALLS=" + json.dumps(calls))
"""
# An experiment that declares a sweep (servers 5,6,7), overridden on the command line, and a
# second sweep: Hydra orders the jobs' overrides its own way, which the pre-flight follows.
SWEEP = (
    "-m",
    "+experiment=mmc_servers",
    "model.nodes.a.servers=5,6",
    "run.seed=1,2",
    "run.replications=2",
    "run.horizon=200",
    "run.warm_up=20",
    "run.cache=false",
    "~hydra.callbacks.sweep_summary",
)


def test_sweep_jobs_are_composed_once_in_the_parent(tmp_path: Path) -> None:
    """With the basic launcher every job is composed once (to run it), not twice."""
    env = {**os.environ, "NHSIM_OUTPUT_ROOT": str(tmp_path / "outputs")}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, *SWEEP],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("CALLS="))
    calls = json.loads(line.removeprefix("CALLS="))
    assert len(calls) == 4, calls  # 2 servers x 2 seeds, each composed only by the launcher
    (sweep,) = (tmp_path / "outputs" / "sweeps").iterdir()
    for job in range(4):
        assert (sweep / str(job) / "replications.csv").is_file(), sorted(sweep.rglob("*"))


def test_preflight_composes_the_lists_hydra_will_compose() -> None:
    """The pre-flight composes each job from Hydra's overrides then the job's, in Hydra's order."""
    composed: set[tuple[str, ...]] = set()
    assert check(list(SWEEP), composed=composed) == 4
    hydra_part = ("~hydra.callbacks.sweep_summary", "hydra.mode=MULTIRUN")
    common = ("+experiment=mmc_servers",)
    fixed = ("run.replications=2", "run.horizon=200", "run.warm_up=20", "run.cache=False")
    expected = {
        (*hydra_part, f"model.nodes.a.servers={n}", *common, f"run.seed={seed}", *fixed)
        for n in (5, 6)
        for seed in (1, 2)
    }
    assert composed == expected, sorted(composed)


def test_unpredictable_sweeps_fall_back_to_the_preflights_own_jobs() -> None:
    """Without a basic sweeper's lists (no base config) the pre-flight expands the jobs itself."""
    assert sim.cli.preflight.sweeper_overrides(["run.seed=1,2"], None) is None
    composed: set[tuple[str, ...]] = set()
    assert check(["model=queue", "run.seed=1"], composed=composed) == 1
    assert composed == {("model=queue", "run.seed=1")}, composed


def test_sweeper_still_composes_jobs_the_preflight_did_not(monkeypatch) -> None:
    """Only jobs composed by the pre-flight (same overrides, same order) are skipped."""
    # The class as bound now: Hydra's plugin scan re-executes the module once per process.
    BasicSweeper = basic_sweeper.BasicSweeper  # noqa: N806
    seen: list[list[list[str]]] = []
    monkeypatch.setattr(
        BasicSweeper, "validate_batch_is_legal", lambda self, batch: seen.append(list(batch))
    )
    skip_composed_jobs({("hydra.mode=MULTIRUN", "a=1", "b=2")})
    sweeper = BasicSweeper(max_batch_size=None)
    sweeper.config = OmegaConf.create({"hydra": {"overrides": {"hydra": ["hydra.mode=MULTIRUN"]}}})
    BasicSweeper.validate_batch_is_legal(sweeper, [["a=1", "b=2"], ["b=2", "a=1"], ["a=2", "b=2"]])
    assert seen == [[["b=2", "a=1"], ["a=2", "b=2"]]], seen


def test_single_run_is_composed_once(monkeypatch) -> None:
    """A single run's base composition is the job's: the pre-flight composes it once."""
    calls: list[list[str]] = []
    compose = sim.cli.preflight.compose

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(list(kwargs.get("overrides") or []))
        return compose(*args, **kwargs)

    monkeypatch.setattr(sim.cli.preflight, "compose", counting)
    assert check(["model=queue", "run.seed=7"]) == 1
    assert calls == [["model=queue", "run.seed=7"]], calls
