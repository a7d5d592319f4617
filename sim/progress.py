"""Progress bars on stderr: shown on a terminal only, and sized even when the terminal is not.

A pseudo-terminal that reports a size of 0 x 0 (``script``, ``docker exec -t``, many CI
runners) makes tqdm hide its bar entirely; the bar then takes the usual 80 x 24 instead.
"""

from __future__ import annotations

import shutil
import sys

from tqdm import tqdm


def wanted(enabled: bool = True) -> bool:
    """True when a bar should show: asked for, and stderr is a terminal."""
    return enabled and sys.stderr.isatty()


def bar(total: int, desc: str, unit: str, enabled: bool = True, leave: bool = False) -> tqdm:
    """A tqdm bar on stderr, disabled unless :func:`wanted`."""
    show = wanted(enabled)
    cols, rows = shutil.get_terminal_size(fallback=(80, 24)) if show else (80, 24)
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not show,
        leave=leave,
        file=sys.stderr,
        ncols=cols or 80,
        nrows=rows or 24,
    )
