"""Image comparison: three key figures, drawn from fixed synthetic tables, match baselines.

The structural tests in ``test_plots.py`` check what a figure contains (colours, labels, CI
whiskers); these check how it looks, so that a change in layout, clipping, legend position or
colour is seen in review rather than in a workshop. Baselines live in ``baseline_images/``
and are PNGs at half the slide resolution (960x540), to keep them small.

A deliberate change to a figure needs new baselines. Refresh them on purpose, look at them,
and say why in the commit::

    python tests/unit/test_figure_images.py

On a failure, the drawn image and a difference image are written to pytest's temporary
directory and their paths are given in the message.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.testing.compare import calculate_rms, compare_images

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_results import BASELINE, HEADLINE, SCENARIOS, comparison, daily  # noqa: E402

from sim.plots import figures, timeseries  # noqa: E402

BASELINES = Path(__file__).resolve().parent / "baseline_images"
DPI = 60  # half of the figures' 120 dpi: 960x540 pixels
# Root-mean-square difference allowed, in grey levels (0-255), over the whole image. A redraw
# with the same matplotlib is bit-identical (RMS 0); the slack is for antialiasing in other
# builds. Measured: moving one forest-plot dot by 2 units gives RMS 3.3, recolouring one
# scenario 4.5, dropping one scenario 28 (the first is checked below).
TOLERANCE = 1.0


def _forest() -> Figure:
    return figures.forest(comparison(), metrics=HEADLINE, baseline=BASELINE)


def _end_of_life() -> Figure:
    return figures.end_of_life(comparison())


def _hospital_pressure() -> Figure:
    return timeseries.hospital_pressure({s: daily(s) for s in SCENARIOS}, warm_up=20)


FIGURES: dict[str, Callable[[], Figure]] = {
    "forest": _forest,
    "end_of_life": _end_of_life,
    "hospital_pressure": _hospital_pressure,
}


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG without metadata (so identical drawings give identical bytes)."""
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_matches_its_baseline(name: str, tmp_path: Path) -> None:
    expected = BASELINES / f"{name}.png"
    assert expected.is_file(), f"no baseline {expected}; run python {__file__}"
    actual = save(FIGURES[name](), tmp_path / f"{name}.png")
    failure = compare_images(str(expected), str(actual), tol=TOLERANCE, in_decorator=True)
    if failure is not None:
        pytest.fail(
            f"{name} differs from its baseline by RMS {failure['rms']:.2f} (allowed "
            f"{TOLERANCE}); drawn: {failure['actual']}, difference: {failure['diff']}. "
            f"If the change is meant, refresh with: python {__file__} "
            f"(matplotlib {matplotlib.__version__})",
            pytrace=False,
        )


def test_a_small_visible_change_exceeds_the_tolerance(tmp_path: Path) -> None:
    """The comparison is not vacuous: one dot of the forest plot moved by 2 units fails it."""
    table = comparison()
    moved = (table["scenario"] == "trust_led") & (
        table["metric"] == "emergency_admissions_per_1000"
    )
    for column in ("diff_mean", "diff_ci_low", "diff_ci_high"):
        table.loc[moved, column] += 2.0
    actual = save(
        figures.forest(table, metrics=HEADLINE, baseline=BASELINE), tmp_path / "forest.png"
    )
    expected, drawn = (
        (imread(path) * 255).astype(np.int16) for path in (BASELINES / "forest.png", actual)
    )
    assert expected.shape == drawn.shape
    assert calculate_rms(expected, drawn) > 2 * TOLERANCE


def main() -> None:
    """Redraw every baseline (a deliberate refresh: look at them before committing)."""
    BASELINES.mkdir(exist_ok=True)
    for name, build in FIGURES.items():
        path = save(build(), BASELINES / f"{name}.png")
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")
    print(f"matplotlib {matplotlib.__version__}: look at them, then commit with the reason.")


if __name__ == "__main__":
    main()
