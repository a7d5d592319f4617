"""Shared fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.config.compose import compose_config
from sim.paths import REPO_DIR


@pytest.fixture
def compose_cfg():
    """Compose the app's config with overrides, as the CLI would."""

    def _compose(*overrides: str):
        return compose_config(overrides)

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
