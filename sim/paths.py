"""Where the config tree and the outputs live, whatever the working directory."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def conf_dir() -> Path:
    """The config tree: the repository's ``conf/``, or the copy shipped inside the wheel."""
    repo_conf = REPO_DIR / "conf"
    return repo_conf if repo_conf.is_dir() else PACKAGE_DIR / "_conf"


def scenarios_dir() -> Path:
    """The experiments tree: the repository's ``scenarios/``, or the copy in the wheel."""
    repo = REPO_DIR / "scenarios"
    return repo if repo.is_dir() else PACKAGE_DIR / "_scenarios"


def outputs_root() -> Path:
    """Root for run and sweep directories.

    ``NHSIM_OUTPUT_ROOT`` wins (sweeps on a cluster need shared storage); otherwise the
    repository's ``outputs/`` for a source checkout, else ``./outputs``.
    """
    env = os.environ.get("NHSIM_OUTPUT_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    if (REPO_DIR / "pyproject.toml").is_file():
        return REPO_DIR / "outputs"
    return Path.cwd().resolve() / "outputs"
