"""What a run prints to the terminal: a short, readable table, never a wall of numbers."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas costs 0.3 s to import; a refused config never needs it
    import pandas as pd

MAX_ROWS = 30


def _fmt(x: float) -> str:
    if x is None or x != x:  # missing or NaN
        return "-"
    # Ten thousand and more as whole numbers with separators, never in e-notation.
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def summary_lines(summary: pd.DataFrame, verification: pd.DataFrame | None) -> list[str]:
    """Lines of a plain-text table: metric, mean and 95% CI (and theory, when known).

    A KPI that repeats a config value (an input echo in the model's KPI registry) is marked
    as an input, so the table never presents it as an outcome.
    """
    from sim.plots.labels import ECHO_NOTE, is_echo  # the KPI registry, read once per table

    table = verification if verification is not None else summary
    rows = table.head(MAX_ROWS)
    names = {m: f"{m} ({ECHO_NOTE})" if is_echo(m) else m for m in rows["metric"]}
    width = max(len(m) for m in names.values()) if len(rows) else 10
    header = f"{'metric':<{width}}  {'mean':>10}  {'95% CI':>23}"
    if verification is not None:
        header += f"  {'theory':>10}  in CI"
    lines = [header, "-" * len(header)]
    for row in rows.itertuples(index=False):
        ci = f"[{_fmt(row.ci_low)}, {_fmt(row.ci_high)}]"
        line = f"{names[row.metric]:<{width}}  {_fmt(row.mean):>10}  {ci:>23}"
        if verification is not None:
            line += f"  {_fmt(row.theory):>10}  {'yes' if row.theory_within_ci else 'NO'}"
        lines.append(line)
    if len(table) > MAX_ROWS:
        lines.append(f"... and {len(table) - MAX_ROWS} more in summary.csv")
    return lines


def print_summary(summary: pd.DataFrame, verification: pd.DataFrame | None, run_dir: str) -> None:
    """Print the run's headline table and where its files are."""
    out = sys.stdout
    for line in summary_lines(summary, verification):
        print(line, file=out)
    print(f"\nresults: {run_dir}", file=out)


def print_error(message: str) -> None:
    """One line on stderr, no traceback."""
    print(f"nhsim: error: {message}", file=sys.stderr)


def verdict(verification: pd.DataFrame | None, warnings: list) -> str:
    """A job's verdict in a few words: theory checks outside their CI, then warnings."""
    parts = []
    if verification is not None and len(verification):
        missed = int((~verification["theory_within_ci"].astype(bool)).sum())
        checked = len(verification)
        parts.append(f"{missed} of {checked} outside theory CI" if missed else "theory ok")
    if warnings:
        parts.append(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''} (see run.json)")
    return "; ".join(parts) or "ok"


def job_line(num: int, label: str, seconds: float, outcome: object) -> str:
    """One line for one finished sweep job: number, scenario label, time, verdict."""
    text = verdict(getattr(outcome, "verification", None), list(getattr(outcome, "warnings", [])))
    return f"job {num:>3}  {label:<40}  {seconds:7.1f} s  {text}"
