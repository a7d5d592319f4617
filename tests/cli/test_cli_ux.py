"""What a user sees: help, version, subcommands, progress bars, one line per sweep job.

Progress bars are checked on a real pseudo-terminal (``pty``), which reports a size of 0 x 0
here as in many CI runners and ``script`` sessions, and on a pipe, where they must not show.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli.help import package_version
from sim.paths import REPO_DIR, scenarios_dir

QUEUE = ("model=queue", "run.replications=3", "run.horizon=2000", "run.warm_up=200")
BAR = re.compile(r"\d+%\|")


def _run(args: list[str], tmp_path: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "NHSIM_OUTPUT_ROOT": str(tmp_path / "outputs")}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=timeout,
    )  # fmt: skip


def _run_on_pty(args: list[str], tmp_path: Path, timeout: float = 300) -> tuple[int, str]:
    """Run ``python -m sim`` with stdout and stderr on a pseudo-terminal; (status, output)."""
    env = {**os.environ, "NHSIM_OUTPUT_ROOT": str(tmp_path / "outputs")}
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec the CLI on the terminal
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "sim", *args], env)
    out = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        out.extend(data)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_usage_groups_experiments_tools_and_examples(tmp_path, flag):
    """--help: usage, every group's options (no *_schema), experiments described, tools."""
    done = _run([flag], tmp_path)
    text = done.stdout
    assert done.returncode == 0, done.stderr
    assert text.startswith("nhsim ") and "usage: nhsim" in text, text[:300]
    assert "_schema" not in text, text
    for group, option in (("model", "queue"), ("place", "neighbourhood_50k")):
        line = next(x for x in text.splitlines() if x.strip().startswith(group + " "))
        assert option in line, line
    for path in (scenarios_dir() / "experiment").glob("*.yaml"):
        line = next((x for x in text.splitlines() if x.strip().startswith(path.stem)), "")
        assert len(line.split()) > 2, (path.stem, line)  # a name and a description
    for tool in ("compare", "report", "warmup", "rerun"):
        assert f"nhsim {tool}" in text, tool
    assert "examples:" in text and "--hydra-help" in text
    assert len(text.splitlines()) < 80, len(text.splitlines())
    assert not (tmp_path / "outputs").exists()


def test_console_script_help_matches_python_m_sim(tmp_path):
    """``nhsim --help`` (the installed script) prints the same help as ``python -m sim``."""
    script = Path(sys.executable).parent / "nhsim"
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == _run(["--help"], tmp_path).stdout


def test_version_is_the_package_version(tmp_path):
    """--version prints nhsim's version, not Hydra's."""
    done = _run(["--version"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"nhsim {package_version()}", done.stdout
    assert "Hydra" not in done.stdout


def test_hydra_help_stays_reachable(tmp_path):
    """--hydra-help is Hydra's own help, and makes no directory."""
    done = _run(["--hydra-help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Hydra" in done.stdout, done.stdout[:300]
    assert not (tmp_path / "outputs").exists()


def test_cfg_shows_the_config_and_writes_nothing(tmp_path):
    """--cfg job passes the pre-flight, prints the composed config and makes no directory."""
    done = _run(["--cfg", "job", "model=queue"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "replications:" in done.stdout, done.stdout[:300]
    assert not (tmp_path / "outputs").exists()


def test_subcommand_runs_the_follow_up_tool(tmp_path):
    """``nhsim compare DIR`` is ``python -m sim.analysis.compare DIR`` (one line for no dir)."""
    done = _run(["compare", str(tmp_path / "missing")], tmp_path)
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr


def test_single_run_shows_a_progress_bar_on_a_terminal(tmp_path):
    """On a (0 x 0) pseudo-terminal a run's replications show a tqdm bar."""
    status, out = _run_on_pty([*QUEUE, "run.cache=false"], tmp_path)
    assert status == 0, out[-1000:]
    assert "replications:" in out and BAR.search(out), out[-1000:]


def test_no_progress_bar_on_a_pipe(tmp_path):
    """Piped, the same run prints no bar (stderr holds no progress text)."""
    done = _run([*QUEUE, "run.cache=false"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert not BAR.search(done.stderr) and "replications:" not in done.stderr, done.stderr


def test_run_progress_false_hides_the_bar_on_a_terminal(tmp_path):
    """``run.progress=false`` turns the bar off even on a terminal."""
    status, out = _run_on_pty([*QUEUE, "run.cache=false", "run.progress=false"], tmp_path)
    assert status == 0, out[-1000:]
    assert not BAR.search(out), out[-1000:]


SWEEP = ("-m", *QUEUE, "run.seed=1,2,3", "run.cache=false")


@pytest.mark.parametrize("launcher", [[], ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]],
                         ids=["serial", "joblib"])  # fmt: skip
def test_sweep_shows_preflight_and_job_bars_on_a_terminal(tmp_path, launcher):
    """A sweep on a terminal shows the pre-flight's bar and the sweep's bar of jobs."""
    status, out = _run_on_pty([*SWEEP, *launcher], tmp_path)
    assert status == 0, out[-1500:]
    assert "checking:" in out and "sweep:" in out and BAR.search(out), out[-1500:]


@pytest.mark.parametrize("launcher", [[], ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]],
                         ids=["serial", "joblib"])  # fmt: skip
def test_sweep_prints_one_line_per_job(tmp_path, launcher):
    """Piped: one ``job N  label  time  verdict`` line per job, no tables, no bars."""
    done = _run([*SWEEP, *launcher], tmp_path)
    assert done.returncode == 0, done.stderr
    jobs = [x for x in done.stdout.splitlines() if x.startswith("job ")]
    assert len(jobs) == 3, done.stdout
    for line in jobs:
        assert re.match(r"job +\d+  run\.seed=\d +\d+\.\d s  theory ok", line), line
    # No per-job tables (their column headings), only the job lines and the comparison.
    assert "metric" not in done.stdout and "ci_low" not in done.stdout, done.stdout
    assert "Average wait in the queue at node a" in done.stdout, "plain labels in the comparison"
    assert len(done.stdout.splitlines()) <= 3 + 12, done.stdout  # jobs, comparison, paths
    assert not BAR.search(done.stderr) and "[HYDRA]" not in done.stdout + done.stderr


def test_compare_prints_plain_english_labels(tmp_path):
    """The sweep's comparison names KPIs with sim.plots.labels, not column names."""
    import pandas as pd

    from sim.analysis.compare import headline_lines
    from sim.plots.labels import label

    metric = "emergency_admissions_per_1000"
    table = pd.DataFrame(
        [{"scenario": "alliance", "baseline": "status_quo", "metric": metric, "diff_mean": 1.0,
          "diff_ci_low": 0.5, "diff_ci_high": 1.5, "significant": True,
          "variance_reduction": 0.5}]
    )  # fmt: skip
    lines = headline_lines(table, (metric,))
    assert any(label(metric) in x for x in lines) and not any(metric in x for x in lines), lines


def test_readme_documents_the_cli():
    """README's CLI section names --help, --version and the subcommands."""
    text = (REPO_DIR / "README.md").read_text()
    for words in ("nhsim --help", "nhsim --version", "nhsim compare"):
        assert words in text, words
