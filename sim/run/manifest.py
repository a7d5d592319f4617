"""The run manifest (``run.json``): what ran, on what, from which code, for how long."""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil

from sim import __version__
from sim.paths import REPO_DIR

DEPENDENCIES = (
    "simpy", "numpy", "pandas", "scipy", "matplotlib", "pyarrow", "hydra-core", "omegaconf",
    "hydra-joblib-launcher", "joblib", "tqdm", "pyyaml", "psutil",
)  # fmt: skip

STREAM_POLICY = (
    "Each random stream is a PCG64 generator seeded by numpy SeedSequence([seed, replication, "
    "blake2b-64(stream name)]); no global RNG. Scenarios share seeds per replication, so they "
    "use common random numbers."
)


def config_hash(resolved: dict[str, Any]) -> str:
    """SHA-256 of the resolved config, with keys sorted, so equal configs hash equally."""
    text = json.dumps(resolved, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_state(repo: Path = REPO_DIR) -> dict[str, Any]:
    """Commit and dirty flag of the source tree, or nulls outside a git checkout."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def versions() -> dict[str, str | None]:
    """Versions of Python and every runtime dependency."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def cpu_model() -> str:
    """The CPU's model name (Linux), else the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def peak_rss_mb() -> float:
    """Peak resident memory of this process or its largest child, in MiB, on any platform.

    psutil reports the peak where the platform keeps one (``peak_wset`` on Windows) and the
    current resident set elsewhere; on Linux the kernel's high-water mark (``VmHWM``) is
    read as well, so the figure is a true peak there, as ``resource.getrusage`` gave.
    """
    process = psutil.Process()
    peaks = [_peak_of(process)]
    try:
        peaks.extend(_peak_of(child) for child in process.children(recursive=True))
    except psutil.Error:
        pass
    return max(peaks) / 2**20


def _peak_of(process: psutil.Process) -> float:
    """Peak (or current) resident bytes of one process; 0 when it is gone."""
    try:
        info = process.memory_info()
    except psutil.Error:
        return 0.0
    peak = float(getattr(info, "peak_wset", 0) or info.rss)
    try:
        with open(f"/proc/{process.pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024.0)
    except (OSError, ValueError):
        pass
    return peak


def cpu_seconds() -> float:
    """CPU time (user + system) so far of this process and of its worker processes.

    Read with psutil, so it works on any platform. Worker processes (``run.workers`` > 1)
    do the simulating: live ones are counted directly, finished ones through the parent's
    ``children_*`` times (where the platform keeps them), so a parallel run's CPU time is
    not reported as the parent's alone.
    """
    process = psutil.Process()
    own = process.cpu_times()
    total = own.user + own.system + own.children_user + own.children_system
    try:
        children = process.children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return float(total)


def rerun_command(overrides: list[str]) -> str:
    """A one-line command that re-runs a run with the same overrides."""
    return shlex.join(["python", "-m", "sim", *overrides])


def build_manifest(
    *,
    resolved: dict[str, Any],
    overrides: list[str],
    wall_seconds: float,
    cpu_seconds: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything ``run.json`` records."""
    run = resolved.get("run", {})
    return {
        "package": "neighbourhood-sim",
        "package_version": __version__,
        "git": git_state(),
        "versions": versions(),
        "config_hash": config_hash(resolved),
        "model": resolved.get("model", {}).get("kind"),
        "seed": run.get("seed"),
        "replications": run.get("replications"),
        "horizon": run.get("horizon"),
        "warm_up": run.get("warm_up"),
        "workers": run.get("workers"),
        "seed_policy": STREAM_POLICY,
        "wall_seconds": round(wall_seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "command_line": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "overrides": overrides,
        "rerun_command": rerun_command(overrides),
        **(extra or {}),
    }
