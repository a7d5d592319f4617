"""Command line: ``python -m sim`` and ``nhsim`` are the same Hydra app.

This module only wires things together: pre-flight validation, Hydra, the task, the
console table.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.cli.console import print_error, print_summary
from sim.config.params import to_container, validate
from sim.config.schema import register
from sim.errors import ConfigError
from sim.paths import conf_dir, outputs_root, scenarios_dir

OmegaConf.register_new_resolver("nhsim_outputs", lambda: str(outputs_root()), replace=True)
_STAMP_VAR = "NHSIM_RUN_STAMP"
# Override lists the pre-flight composed for this command (see skip_composed_jobs).
_PREFLIGHT_COMPOSED: set[tuple[str, ...]] = set()


def _run_stamp() -> str:
    """Time and process id naming this command's output directory.

    The stamp lives in the environment because joblib's workers resolve
    ``hydra.sweep.dir`` again in their own processes; they inherit the parent's
    environment, so every job of one sweep lands in the same directory. The process id
    keeps two commands started in the same second apart.
    """
    if _STAMP_VAR not in os.environ:
        os.environ[_STAMP_VAR] = f"{datetime.now():%Y-%m-%d_%H-%M-%S}_{os.getpid()}"
    return os.environ[_STAMP_VAR]


OmegaConf.register_new_resolver("nhsim_stamp", _run_stamp, replace=True)
os.environ.setdefault("NHSIM_SCENARIOS_DIR", str(scenarios_dir()))
register()


def _remove_if_empty_run_dir(run_dir: Path) -> None:
    """Remove a run directory that holds nothing but Hydra's own bookkeeping."""
    if not run_dir.is_dir():
        return
    if all(p.name in {".hydra", "nhsim.log"} or p.suffix == ".log" for p in run_dir.iterdir()):
        shutil.rmtree(run_dir, ignore_errors=True)


def run_job(cfg: DictConfig) -> float | None:
    """The Hydra task: validate, run, write, print. Returns the first KPI's mean."""
    hc = HydraConfig.get()
    run_dir = Path(hc.runtime.output_dir)
    try:
        params = validate(cfg)
    except ConfigError as exc:
        print_error(str(exc))
        _remove_if_empty_run_dir(run_dir)
        if hc.mode == RunMode.RUN:
            raise SystemExit(2) from None
        return None
    # Imported here so a bad config never pays for SimPy.
    from sim.analysis.warmup import stderr_lines
    from sim.run.task import execute

    if hc.mode == RunMode.RUN and Path(str(hc.run.dir)).name in ("", ".", ".."):
        # hydra.run.dir='' would put the run among the working directory's files (the
        # pre-flight refuses it first; this is the second line of defence).
        from sim.run.storage import check_output_dir

        try:
            check_output_dir(str(hc.run.dir), overwrite=True)
        except ConfigError as exc:
            print_error(str(exc))
            raise SystemExit(2) from None
    try:
        outcome = execute(params, to_container(cfg), run_dir, list(hc.overrides.task))
    except ConfigError as exc:  # storage: a finished run in the way, a full or read-only disk
        print_error(str(exc))
        _remove_if_empty_run_dir(run_dir)
        raise SystemExit(2) from None
    print_summary(outcome.summary, outcome.verification, str(run_dir))
    for line in stderr_lines(outcome.warnings):
        print(line, file=sys.stderr)
    return float(outcome.summary["mean"].iloc[0]) if len(outcome.summary) else None


@hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")
def _hydra_app(cfg: DictConfig) -> float | None:
    return run_job(cfg)


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into the same unwinding as Ctrl-C, so writers clean up after both."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> None:
    """Entry point: validate every job the command line asks for, then run Hydra.

    SIGINT (Ctrl-C) and SIGTERM stop the command cleanly: whatever was being written is
    removed (finished tables and cached replications are kept), one line says so, and the
    exit status is the shell's usual 128 + signal number.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _validate_and_run()
    except KeyboardInterrupt as exc:
        name = str(exc) if str(exc) in signal.Signals.__members__ else "SIGINT"
        print(
            f"nhsim: interrupted ({name}): finished jobs and cached replications are kept; "
            "run the same command again to resume without re-running them",
            file=sys.stderr,
        )
        raise SystemExit(128 + signal.Signals[name]) from None


def _validate_and_run() -> None:
    """Pre-flight every job (one line and exit 2 for a bad one), then hand over to Hydra."""
    from sim.cli.preflight import PreflightSkipped, check

    os.environ.pop(_STAMP_VAR, None)  # a stamp inherited from a parent shell is not ours
    notes: list[str] = []
    composed: set[tuple[str, ...]] = set()
    try:
        check(sys.argv[1:], notes, composed)
    except PreflightSkipped:
        pass
    except ConfigError as exc:
        print_error(str(exc))
        raise SystemExit(2) from None
    for note in notes:
        print(f"nhsim: note: {note}", file=sys.stderr)
    skip_composed_jobs(composed)
    _hydra_app()


def skip_composed_jobs(composed: set[tuple[str, ...]]) -> None:
    """Let Hydra's basic sweeper skip composing again the jobs the pre-flight composed.

    Before launching a batch, the sweeper composes every job in this process only to fail
    early on one that cannot be composed (``validate_batch_is_legal``): for a 4-job sweep
    of the care model, a quarter of the parent's serial CPU time. The pre-flight has just
    composed (and validated) those jobs through the same Hydra call, with the same
    override list, so that outcome is known. A job whose list differs in any way (another
    sweeper, a ``glob()`` sweep, a change in how Hydra builds the list) is composed as
    before.

    Parameters
    ----------
    composed
        Override lists composed successfully, as given to Hydra's composition (the
        Hydra overrides, then the job's own).
    """
    # Imported now, not at the top: Hydra's plugin scan (run once, by the pre-flight's
    # composition) executes its plugin modules again, so this is the class Hydra will use.
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    _PREFLIGHT_COMPOSED.clear()
    _PREFLIGHT_COMPOSED.update(composed)
    if getattr(BasicSweeper.validate_batch_is_legal, "_nhsim", False):
        return  # already wrapped (main() called again in one process)
    compose_jobs = BasicSweeper.validate_batch_is_legal

    def validate_batch_is_legal(self: BasicSweeper, batch: Sequence[Sequence[str]]) -> None:
        hydra_overrides = tuple(self.config.hydra.overrides.hydra)
        rest = [job for job in batch if (*hydra_overrides, *job) not in _PREFLIGHT_COMPOSED]
        compose_jobs(self, rest)

    validate_batch_is_legal._nhsim = True  # type: ignore[attr-defined]
    BasicSweeper.validate_batch_is_legal = validate_batch_is_legal  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
