"""Portable resource figures in ``run.json``: psutil, never the Unix-only ``resource``."""

from __future__ import annotations

import ast
import subprocess
import sys

from sim.paths import PACKAGE_DIR
from sim.run.manifest import DEPENDENCIES, cpu_seconds, peak_rss_mb

BUSY = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"


def test_no_module_of_the_package_imports_resource():
    """``resource`` exists on Unix only: importing it anywhere in sim/ breaks every run on
    Windows."""
    offenders = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if "resource" in names:
                offenders.append(str(path.relative_to(PACKAGE_DIR)))
    assert offenders == [], offenders


def test_cpu_seconds_counts_worker_processes():
    """CPU spent in a child process (as joblib's workers spend it) is counted."""
    before = cpu_seconds()
    subprocess.run([sys.executable, "-c", BUSY], check=True)
    spent = cpu_seconds() - before
    assert spent >= 0.3, f"counted only {spent:.3f} s of a child's 0.4 s"


def test_peak_memory_is_the_process_size():
    """Peak resident memory is positive and at least the interpreter with pandas loaded."""
    peak = peak_rss_mb()
    assert 20.0 < peak < 100_000.0, peak


def test_the_manifest_records_the_new_dependencies():
    """PyYAML and psutil, now declared, are recorded with the other versions."""
    assert {"pyyaml", "psutil", "joblib"} <= set(DEPENDENCIES), DEPENDENCIES
