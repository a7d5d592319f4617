"""Shared fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

import sim.cli  # noqa: F401  (registers resolvers and schemas, as the CLI does)
from sim.paths import REPO_DIR, conf_dir


@pytest.fixture
def compose_cfg():
    """Compose the app's config with overrides, as the CLI would."""

    def _compose(*overrides: str):
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            return compose(config_name="config", overrides=list(overrides))

    return _compose


@pytest.fixture
def run_cli(tmp_path: Path):
    """Run ``python -m sim`` in a subprocess with outputs under a temporary root."""

    def _run(
        *args: str, cwd: Path | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        env = {**os.environ, "NHSIM_OUTPUT_ROOT": str(tmp_path / "outputs")}
        return subprocess.run(
            [sys.executable, "-m", "sim", *args],
            cwd=cwd or tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    _run.outputs = tmp_path / "outputs"  # type: ignore[attr-defined]
    _run.repo = REPO_DIR  # type: ignore[attr-defined]
    return _run
