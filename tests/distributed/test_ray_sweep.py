"""``hydra/launcher=ray``: a 2x2 sweep on a local Ray head equals the basic launcher's.

Starts its own single-node Ray head (``ray start --head --block`` on free ports, in its
own process group, stopped on the way out whatever happens), runs the same queue-model
sweep once on it and once with Hydra's basic launcher, each into its own absolute
``NHSIM_OUTPUT_ROOT``, and requires every job's ``replications.csv`` (and the sweep's
``comparison.csv``) to be byte-identical: random streams derive only from seed,
replication and stream name, so where a job runs must not matter.

Run it where the extra is installed (docs/distributed.md)::

    pip install -e ".[dev,ray]"
    pytest -m distributed tests/distributed

Selected explicitly without Ray installed, it fails (it does not skip).
"""

from __future__ import annotations

import importlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.distributed

REPO = Path(__file__).resolve().parents[2]
SWEEP = [
    "model=queue",
    "run.replications=2",
    "run.horizon=500",
    "run.warm_up=50",
    "model.nodes.a.servers=5,6",
    "run.seed=1,2",
]
JOBS = 4
# Ray workers do not inherit the driver's environment: pass the outputs root and the run
# stamp, resolved once in the driver, so every job writes into the driver's sweep dir.
RUNTIME_ENV = (
    "+hydra.launcher.ray.init.runtime_env.env_vars="
    "{NHSIM_OUTPUT_ROOT:${nhsim_outputs:},NHSIM_RUN_STAMP:${nhsim_stamp:}}"
)
START_TIMEOUT = 120  # seconds for the head to come up
SWEEP_TIMEOUT = 600  # seconds for one sweep


def _require_ray() -> None:
    """Fail (never skip) when the ray extra is missing: this test was asked for by name."""
    missing = []
    for module in ("ray", "hydra_plugins.hydra_ray_launcher"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module} ({exc})")
    if missing:
        pytest.fail(
            f"the distributed tier needs the ray extra, but {sys.executable} cannot import "
            + " nor ".join(missing)
            + '; install it with pip install -e ".[dev,ray]" (see docs/distributed.md)',
            pytrace=False,
        )


def _free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free on every interface (Ray's GCS binds all of them)."""
    sockets, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("", 0))
            sockets.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in sockets:
            s.close()
    return ports


def _ray_cli() -> str:
    beside = Path(sys.executable).with_name("ray")
    found = str(beside) if beside.is_file() else shutil.which("ray")
    if not found:
        pytest.fail(f"no ray command beside {sys.executable} or on PATH", pytrace=False)
    return found


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"NHSIM_RUN_STAMP", "NHSIM_OUTPUT_ROOT"} and not k.startswith("RAY_")
    }
    env.update(extra)
    return env


@contextmanager
def ray_head() -> Iterator[tuple[str, dict[str, str]]]:
    """A single-node Ray head started here, and stopped on leaving whatever happened inside.

    Yields its address and the environment a driver needs to connect. The head uses token
    authentication with a token of its own: Ray 2.60 turns token mode on for ``ray start``
    whenever ``~/.ray/auth_token`` exists (any local ``ray.init()`` writes one), while a
    driver connecting by address stays in disabled mode unless told, so the test sets both
    sides explicitly instead of depending on that file.
    """
    ray_cli = _ray_cli()
    gcs, client, agent_http, agent_grpc, metrics, runtime_env = _free_ports(6)
    temp_dir = tempfile.mkdtemp(prefix="nhsim-ray-")  # short: Ray puts sockets under it
    log_path = Path(temp_dir) / "head.log"
    command = [
        ray_cli, "start", "--head", "--block",
        "--node-ip-address=127.0.0.1", f"--port={gcs}",
        f"--ray-client-server-port={client}",
        f"--dashboard-agent-listen-port={agent_http}",
        f"--dashboard-agent-grpc-port={agent_grpc}",
        f"--metrics-export-port={metrics}",
        f"--runtime-env-agent-port={runtime_env}",
        "--include-dashboard=false", "--num-cpus=2",
        "--disable-usage-stats", f"--temp-dir={temp_dir}",
    ]  # fmt: skip
    # Workers import sim from this checkout, whatever the environment has installed.
    python_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env = _clean_env(PYTHONPATH=python_path, **auth)
    with log_path.open("w") as log:
        head = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "Ray runtime started" not in log_path.read_text(errors="replace"):
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"the Ray head did not start (exit code {head.poll()}):\n"
                    + log_path.read_text(errors="replace")[-4000:],
                    pytrace=False,
                )
            time.sleep(0.5)
        yield f"127.0.0.1:{gcs}", auth
    finally:
        _stop(head)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _stop(head: subprocess.Popen) -> None:
    """Stop the head this fixture started, and only it: never ``ray stop`` (that ends every
    Ray process on the machine)."""
    if head.poll() is None:
        head.send_signal(signal.SIGTERM)  # --block shuts its own processes down
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    try:  # anything of its process group still left (workers, agents)
        os.killpg(head.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    head.wait(timeout=30)


def _sweep(
    root: Path, *launcher: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *SWEEP, *launcher],
        cwd=REPO,
        env=_clean_env(NHSIM_OUTPUT_ROOT=str(root), **(env or {})),
        capture_output=True,
        text=True,
        timeout=SWEEP_TIMEOUT,
    )
    assert result.returncode == 0, (
        f"sweep {' '.join(launcher) or '(basic launcher)'} exited {result.returncode}\n"
        f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    )
    return result


def _only_sweep_dir(root: Path) -> Path:
    sweeps = sorted((root / "sweeps").iterdir()) if (root / "sweeps").is_dir() else []
    assert len(sweeps) == 1, f"expected one sweep directory under {root}, found {sweeps}"
    return sweeps[0]


def test_ray_launcher_sweep_matches_basic_launcher(tmp_path: Path) -> None:
    _require_ray()
    ray_root, basic_root = tmp_path / "ray", tmp_path / "basic"
    with ray_head() as (address, auth):
        ray_run = _sweep(
            ray_root,
            "hydra/launcher=ray",
            f"+hydra.launcher.ray.init.address={address}",
            "+hydra.launcher.ray.init.object_store_memory=null",
            RUNTIME_ENV,
            "hydra/hydra_logging=default",  # nhsim turns it off; the launcher logs its line there
            env=auth,
        )
    output = ray_run.stdout + ray_run.stderr
    assert f"Ray Launcher is launching {JOBS} jobs" in output, output[-4000:]
    assert "Connected to Ray cluster" in output, output[-4000:]
    _sweep(basic_root)

    ray_dir, basic_dir = _only_sweep_dir(ray_root), _only_sweep_dir(basic_root)
    # Every job of the Ray sweep wrote into the driver's sweep directory on the shared root,
    # and the replication cache went to the same root (the workers saw NHSIM_OUTPUT_ROOT).
    jobs = sorted(p.name for p in ray_dir.iterdir() if p.is_dir() and p.name.isdigit())
    assert jobs == [str(j) for j in range(JOBS)]  # beside them, the report's figures/
    assert len(list((ray_root / "cache").iterdir())) == JOBS
    for job in range(JOBS):
        for name in (".hydra/overrides.yaml", "replications.csv", "summary.csv", "run.json"):
            assert (ray_dir / str(job) / name).is_file(), f"job {job}: no {name} in {ray_dir}"
        ray_bytes = (ray_dir / str(job) / "replications.csv").read_bytes()
        basic_bytes = (basic_dir / str(job) / "replications.csv").read_bytes()
        assert (ray_dir / str(job) / ".hydra/overrides.yaml").read_bytes() == (
            basic_dir / str(job) / ".hydra/overrides.yaml"
        ).read_bytes(), f"job {job} ran different overrides under the two launchers"
        assert ray_bytes == basic_bytes, (
            f"job {job}: replications.csv differs between the Ray and the basic launcher"
        )
    # The sweep-end callback ran in the driver, on the shared sweep directory.
    assert (ray_dir / "comparison.csv").read_bytes() == (basic_dir / "comparison.csv").read_bytes()
