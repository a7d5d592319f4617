"""Command line: ``python -m sim`` and ``nhsim`` are the same Hydra app.

This module only wires things together: help, subcommands, pre-flight validation, Hydra,
the task, the console output.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.cli.console import job_line, print_error, print_summary
from sim.cli.help import TOOLS, help_text, package_version
from sim.cli.sweeper import job_label, register_sweeper
from sim.config.params import to_container, validate
from sim.config.schema import register
from sim.errors import ConfigError
from sim.paths import conf_dir, outputs_root, scenarios_dir

OmegaConf.register_new_resolver("nhsim_outputs", lambda: str(outputs_root()), replace=True)
_STAMP_VAR = "NHSIM_RUN_STAMP"
# A stopped joblib sweep leaves its workers' semaphores to the resource tracker, which then
# warns about "leaked" ones; the interrupt line already says what happened.
_QUIET_TRACKER = "ignore:resource_tracker:UserWarning"


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
register_sweeper()
SUBCOMMANDS = {name: module for name, module, _ in TOOLS}


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
    sweep = hc.mode == RunMode.MULTIRUN
    started = time.perf_counter()
    try:
        params = validate(cfg)
    except ConfigError as exc:
        print_error(str(exc))
        _remove_if_empty_run_dir(run_dir)
        if not sweep:
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
    if sweep:  # one line per job; the tables are in the job's directory
        label = job_label(list(hc.overrides.task))
        print(job_line(hc.job.num, label, time.perf_counter() - started, outcome), flush=True)
    else:
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: help, version, a follow-up tool, or a pre-flight checked Hydra run.

    SIGINT (Ctrl-C) and SIGTERM stop the command cleanly: whatever was being written is
    removed (finished tables and cached replications are kept), one line says so, and the
    exit status is the shell's usual 128 + signal number.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] and args[0] in SUBCOMMANDS:
        raise SystemExit(_subcommand(args[0], args[1:]))
    if "-h" in args or "--help" in args:
        print(help_text())
        return
    if "--version" in args:
        print(f"nhsim {package_version()}")
        return
    signal.signal(signal.SIGTERM, _interrupt)
    warnings = os.environ.get("PYTHONWARNINGS", "")
    if _QUIET_TRACKER not in warnings:  # inherited by the tracker and the workers
        os.environ["PYTHONWARNINGS"] = ",".join(w for w in (warnings, _QUIET_TRACKER) if w)
    try:
        _validate_and_run(args)
    except KeyboardInterrupt as exc:
        name = str(exc) if str(exc) in signal.Signals.__members__ else "SIGINT"
        print(
            f"nhsim: interrupted ({name}): finished jobs and cached replications are kept; "
            "run the same command again to resume without re-running them",
            file=sys.stderr,
        )
        raise SystemExit(128 + signal.Signals[name]) from None


def _validate_and_run(args: list[str]) -> None:
    """Pre-flight every job (one line and exit 2 for a bad one), then hand over to Hydra."""
    from sim.cli.preflight import check

    os.environ.pop(_STAMP_VAR, None)  # a stamp inherited from a parent shell is not ours
    notes: list[str] = []
    try:
        check(args, notes)
    except ConfigError as exc:
        print_error(str(exc))
        raise SystemExit(2) from None
    for note in notes:
        print(f"nhsim: note: {note}", file=sys.stderr)
    sys.argv = [sys.argv[0], *args]
    _hydra_app()


def _subcommand(name: str, args: list[str]) -> int:
    """Run a follow-up tool (``nhsim compare DIR`` is ``python -m sim.analysis.compare DIR``)."""
    import importlib

    module = importlib.import_module(SUBCOMMANDS[name])
    if not hasattr(module, "main"):
        module = importlib.import_module(SUBCOMMANDS[name] + ".build")
    return int(module.main(args) or 0)


if __name__ == "__main__":
    main()
