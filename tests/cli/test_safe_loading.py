"""Scenario files can never make the simulator import and run arbitrary code."""

from __future__ import annotations

import os
import subprocess
import sys


def _scenario(tmp_path, body: str) -> dict[str, str]:
    folder = tmp_path / "scenarios" / "experiment"
    folder.mkdir(parents=True)
    (folder / "evil.yaml").write_text("# @package _global_\n" + body)
    return {
        **os.environ,
        "NHSIM_SCENARIOS_DIR": str(tmp_path / "scenarios"),
        "NHSIM_OUTPUT_ROOT": str(tmp_path / "outputs"),
    }


def test_malicious_callback_target_is_rejected(tmp_path):
    """A scenario naming os.system as a Hydra callback is refused before anything runs."""
    marker = tmp_path / "pwned"
    env = _scenario(
        tmp_path,
        f"hydra:\n  callbacks:\n    evil:\n      _target_: os.system\n"
        f"      command: touch {marker}\n",
    )
    for mode in ([], ["-m"]):
        done = subprocess.run(
            [sys.executable, "-m", "sim", *mode, "+experiment=evil"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode != 0, done.stdout
        assert "os.system" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert not marker.exists()
        assert not (tmp_path / "outputs").exists()


def test_target_inside_the_model_config_is_rejected(tmp_path):
    """A _target_ smuggled into the model section is an unknown key, not an instruction."""
    env = _scenario(tmp_path, "model:\n  _target_: os.system\n")
    done = subprocess.run(
        [sys.executable, "-m", "sim", "model=queue", "+experiment=evil"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "_target_" in done.stderr and "Traceback" not in done.stderr, done.stderr
