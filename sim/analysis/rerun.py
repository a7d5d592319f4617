"""Re-run a finished run from its saved config and check that its tables match.

Usage: ``python -m sim.analysis.rerun <run_dir>`` (or ``nhsim rerun <run_dir>``). The run's
own overrides (``.hydra/overrides.yaml``) are replayed with the replication cache off, into a
temporary directory, and every table is compared byte for byte. Exit status 0 means
identical. A run directory is data from elsewhere: only plain ``key=value`` overrides are
replayed (:func:`sim.cli.safety.check_run_overrides`), and the replay goes through the same
pre-flight as any command line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from sim.analysis.results import ResultsError, check_results_dir
from sim.errors import ConfigError
from sim.run.manifest import git_state

TABLES = (
    "replications.csv",
    "summary.csv",
    "verification.csv",
    "timeseries.parquet",
    "events.parquet",
)


def saved_overrides(run_dir: Path) -> list[str]:
    """The task overrides a run was made with, if each is a plain ``key=value``.

    Raises
    ------
    FileNotFoundError
        When the run directory has no ``.hydra/overrides.yaml``.
    ConfigError
        When the file is not a plain YAML list of plain overrides.
    """
    from sim.cli.safety import MAX_FILE_BYTES, check_run_overrides

    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: is {run_dir} a finished run directory?")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ConfigError(str(path), path.stat().st_size, "is too large to be a run's overrides")
    text = path.read_text(errors="replace")
    try:
        tags = [t for t in yaml.scan(text) if isinstance(t, yaml.TagToken)]
        saved = yaml.safe_load(text) if not tags else None
    except yaml.YAMLError as exc:
        raise ConfigError(
            str(path), None, "is not valid YAML: " + str(exc).split("\n")[0]
        ) from None
    if tags:
        raise ConfigError(str(path), "".join(tags[0].value), "YAML tags are not allowed")
    if saved is None:
        return []
    if not isinstance(saved, list):
        raise ConfigError(str(path), type(saved).__name__, "must be a list of key=value overrides")
    return check_run_overrides(saved)


def compare_tables(original: Path, fresh: Path) -> list[tuple[str, str]]:
    """``(table, verdict)`` for every table the original run wrote."""
    verdicts = []
    for name in TABLES:
        a, b = original / name, fresh / name
        if not a.exists():
            continue
        if not b.exists():
            verdicts.append((name, "missing in re-run"))
        else:
            verdicts.append(
                (name, "identical" if a.read_bytes() == b.read_bytes() else "DIFFERENT")
            )
    return verdicts


def rerun(run_dir: Path) -> int:
    """Re-run ``run_dir`` and print a verdict per table; return 0 if all are identical."""
    run_dir = run_dir.resolve()
    overrides = saved_overrides(run_dir)
    manifest = json.loads((run_dir / "run.json").read_text())
    recorded = manifest.get("git", {}).get("commit")
    current = git_state().get("commit")
    if recorded and current and recorded != current:
        print(f"note: run made at commit {recorded[:12]}, code now at {current[:12]}")
    with tempfile.TemporaryDirectory(prefix="nhsim-rerun-") as tmp:
        fresh = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "sim", *overrides, "run.cache=false", f"hydra.run.dir={fresh}"]
        env = {**os.environ, "NHSIM_OUTPUT_ROOT": str(Path(tmp) / "outputs")}
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr.strip() or done.stdout.strip(), file=sys.stderr)
            return done.returncode
        verdicts = compare_tables(run_dir, fresh)
    for name, verdict in verdicts:
        print(f"{name:<20} {verdict}")
    ok = bool(verdicts) and all(v == "identical" for _, v in verdicts)
    print("re-run reproduces the run exactly" if ok else "re-run does NOT reproduce the run")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.analysis.rerun", description=__doc__.split("\n")[0]
    )
    parser.add_argument("run_dir", type=Path, help="a finished run directory (holds run.json)")
    args = parser.parse_args(argv)
    try:
        check_results_dir(args.run_dir, run_only=True)
        return rerun(args.run_dir)
    except (FileNotFoundError, json.JSONDecodeError, ResultsError, ConfigError) as exc:
        print(f"nhsim.rerun: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
