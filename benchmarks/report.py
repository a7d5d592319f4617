"""Benchmark: seconds to build the HTML report of a finished sweep (or run) directory.

The report is rebuilt ``--repeats`` times into a scratch copy of the directory (so the
results folder itself is never touched); the table shows the best time and the JSON keeps
every time. ``--svg`` adds the vector files, as ``python -m sim.report --svg`` does.
To time another version of the code, put its tree first on ``PYTHONPATH``.

Usage::

    .venv/bin/python benchmarks/report.py outputs/<sweep_dir> [--repeats 3] [--svg]
        [--out benchmarks/results/report.json]
"""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

COPY_IGNORE = shutil.ignore_patterns("figures", "report*.html", "events.parquet")


def main(argv: list[str] | None = None) -> int:
    """Time the report build; print the best of ``--repeats`` and write a JSON record."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--svg", action="store_true", help="also write SVG files")
    parser.add_argument("--out", type=Path, default=None, help="JSON record (default: none)")
    args = parser.parse_args(argv)
    from sim.report import build

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            work = Path(tmp) / "copy"
            shutil.rmtree(work, ignore_errors=True)
            # events.parquet is left out unless the flow figure reads it: copying it is I/O,
            # not report time; the copy is not timed either way.
            shutil.copytree(args.directory, work, ignore=COPY_IGNORE)
            for ev in Path(args.directory).rglob("events.parquet"):
                target = work / ev.relative_to(args.directory)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ev, target)
            kwargs = {"svg": True} if args.svg else {}
            if "svg" not in inspect.signature(build.build_report).parameters:
                kwargs = {}  # an older version of the report always wrote SVG
            start = time.perf_counter()
            build.build_report(work, **kwargs)
            times.append(time.perf_counter() - start)
    record = {
        "directory": str(args.directory),
        "svg": args.svg,
        "seconds": times,
        "best_seconds": min(times),
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "code": str(Path(build.__file__).resolve()),
    }
    each = ", ".join(f"{t:.2f}" for t in times)
    print(f"report build: best {min(times):.2f} s of {args.repeats} ({each})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
