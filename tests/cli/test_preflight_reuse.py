"""The pre-flight's compositions are not repeated, and it checks exactly the jobs that run.

Hydra's basic sweeper composes every job of a batch in the parent before launching it, only
to fail early on one that cannot be composed. nhsim's sweeper (``sim.cli.sweeper``, a public
Hydra plugin) launches the jobs the pre-flight expanded and validated with the same function
(``sim.config.overrides.expand_jobs``), so each job is composed once, by the launcher.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

import sim.cli.app  # noqa: F401  (registers resolvers, schemas and the sweeper, as the CLI does)
import sim.cli.preflight
from sim.cli.preflight import check

# Counts the launcher's job compositions in the parent, then runs the real CLI there. The
# count comes from the config loader Hydra hands to the sweeper (public plugin API).
DRIVER = """
import json, sys
import sim.cli.app
from sim.cli import sweeper

calls = []
setup = sweeper.GridSweeper.setup

def counting_setup(self, *, hydra_context, task_function, config):
    loader = hydra_context.config_loader
    original = loader.load_sweep_config

    def load_sweep_config(master_config, sweep_overrides):
        calls.append(list(sweep_overrides))
        return original(master_config, sweep_overrides)

    loader.load_sweep_config = load_sweep_config
    setup(self, hydra_context=hydra_context, task_function=task_function, config=config)

sweeper.GridSweeper.setup = counting_setup
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


def test_preflight_jobs_are_the_jobs_hydra_ran(tmp_path: Path) -> None:
    """The pre-flight's job list, in order, is what each numbered job recorded as its overrides."""
    env = {**os.environ, "NHSIM_OUTPUT_ROOT": str(tmp_path / "outputs")}
    done = subprocess.run(
        [sys.executable, "-m", "sim", *SWEEP], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (sweep,) = (tmp_path / "outputs" / "sweeps").iterdir()
    ran = [
        yaml.safe_load((sweep / str(n) / ".hydra" / "overrides.yaml").read_text()) for n in range(4)
    ]
    cmd = sim.cli.preflight.split_argv(SWEEP)
    from hydra import initialize_config_dir

    from sim.config.overrides import parse
    from sim.paths import conf_dir

    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        base = sim.cli.preflight.compose_config(
            [o for o in cmd.overrides if "," not in o], with_hydra=True
        )
        jobs = sim.cli.preflight._jobs(cmd, parse(cmd.overrides), base)
    assert jobs == ran, (jobs, ran)


def test_single_run_is_composed_once(monkeypatch) -> None:
    """A single run's base composition is the job's: the pre-flight composes it once."""
    calls: list[list[str]] = []
    compose = sim.cli.preflight.compose

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(list(kwargs.get("overrides") or []))
        return compose(*args, **kwargs)

    monkeypatch.setattr(sim.cli.preflight, "compose", counting)
    assert check(["model=queue", "run.seed=7"]) == 1
    job = ["model=queue", "run.seed=7"]
    assert calls.count(job) == 1 and len(calls) <= 2, calls  # the job, and Hydra's defaults
