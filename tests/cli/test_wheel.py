"""A non-editable install runs an experiment from any directory.

The wheel is built with ``pip wheel --no-deps`` and installed (``--no-deps``) into a fresh
virtual environment that does not see this checkout. The environment gets this test
environment's dependencies through a ``.pth`` line (installing them again would take
minutes), never this checkout's ``sim``: ``.pth`` files are not read from a directory that
a ``.pth`` line adds, so the editable install's own hook stays inert. The experiment runs
from an empty directory, so nothing can be found relative to the working directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from sim.paths import REPO_DIR

SMALL = ("run.replications=2", "run.horizon=400", "run.warm_up=40")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO_DIR)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{done.stderr[-3000:]}")
    (built,) = out.glob("neighbourhood_sim-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Python of a fresh venv with only the wheel installed (dependencies via ``.pth``)."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"installing the wheel failed:\n{done.stderr[-3000:]}")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    deps = sysconfig.get_paths()["purelib"]
    (Path(site) / "zz_test_dependencies.pth").write_text(deps + "\n", encoding="utf-8")
    return python


def test_the_wheel_ships_the_config_tree_and_the_experiments(wheel):
    """conf/ and scenarios/ are inside the wheel (as sim/_conf and sim/_scenarios), with
    every experiment file of the checkout."""
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sim/_conf/config.yaml" in names, sorted(n for n in names if "_conf" in n)[:5]
    for path in sorted((REPO_DIR / "scenarios").rglob("*.yaml")):
        inside = "sim/_scenarios/" + path.relative_to(REPO_DIR / "scenarios").as_posix()
        assert inside in names, f"{inside} is not in the wheel"
    assert not any(n.startswith(("outputs/", "tests/", "sim/outputs")) for n in names)


def test_the_installed_package_runs_an_experiment_from_another_directory(installed, tmp_path):
    """``python -m sim -m +experiment=mmc_servers`` (small) from an empty directory, with
    the installed package (not this checkout): exit 0, three finished jobs under
    ``./outputs``, and the package's files read from the installed copy."""
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("NHSIM_OUTPUT_ROOT", "PYTHONPATH")}
    where = subprocess.run(
        [str(installed), "-c", "import sim, sim.paths as p; print(sim.__file__);"
         "print(p.conf_dir()); print(p.scenarios_dir())"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr[-2000:]
    for line in where.stdout.splitlines():
        assert str(REPO_DIR) not in line, f"the checkout leaked in: {line}"
        assert "site-packages" in line, line
    done = subprocess.run(
        [str(installed), "-m", "sim", "-m", "+experiment=mmc_servers", *SMALL],
        cwd=work, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    (sweep,) = (work / "outputs" / "sweeps").iterdir()
    finished = sorted(p.parent.name for p in sweep.glob("*/run.json"))
    assert finished == ["0", "1", "2"], finished


def test_every_imported_library_is_declared():
    """Each third-party module that sim/ imports belongs to a distribution listed in
    pyproject's dependencies (PyYAML, joblib and psutil once were not)."""
    import ast
    import re
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((REPO_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {
        re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower().replace("_", "-")
        for spec in project["project"]["dependencies"]
    }
    owners = packages_distributions()
    undeclared = {}
    for path in sorted((REPO_DIR / "sim").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top == "sim":
                    continue
                dists = {d.lower().replace("_", "-") for d in owners.get(top, [top])}
                if not dists & declared:
                    undeclared.setdefault(top, str(path.relative_to(REPO_DIR)))
    assert undeclared == {}, f"imported but not declared: {undeclared}"
