"""Colours, fonts and figure sizes shared by every figure.

Figures are shown on 1920×1080 screens to rooms of people, so the default size is 16×9 inches
at 120 dpi and text is large. Colours are the Okabe–Ito palette (safe for the common forms of
colour blindness), with Paul Tol's "muted" set as overflow. Each scenario keeps one colour in
every figure: named arrangements are fixed, any other name gets a colour from a stable hash of
its name (blake2b, never Python's salted ``hash``), so the same name is the same colour in every
report on every machine.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import matplotlib

# Figures are files, never windows: Agg works on servers and in CI without a display.
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

P = ParamSpec("P")
R = TypeVar("R")

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
GREY = "#7A7A7A"
LIGHT_GREY = "#D9D9D9"
TEXT = "#222222"

SCENARIO_COLOURS: dict[str, str] = {
    "status_quo": GREY,
    "trust_led": OKABE_ITO["blue"],
    "federation_led": OKABE_ITO["orange"],
    "alliance": OKABE_ITO["bluish_green"],
}

# Colours for names not listed above. Yellow is left out: it vanishes on white.
EXTRA_COLOURS: tuple[str, ...] = (
    OKABE_ITO["vermillion"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
    # Paul Tol "muted", also colour-blind safe.
    "#332288",
    "#117733",
    "#882255",
    "#999933",
    "#44AA99",
    "#AA4499",
)

# Places of death and other fixed categories keep one colour everywhere too.
CATEGORY_COLOURS: dict[str, str] = {
    "hospital": OKABE_ITO["vermillion"],
    "home": OKABE_ITO["bluish_green"],
    "care_home": OKABE_ITO["sky_blue"],
    "hospice": OKABE_ITO["reddish_purple"],
    "other": LIGHT_GREY,
}

# Sizes for a 1920×1080 screen viewed from the back of a room.
FIGSIZE = (16.0, 9.0)
DPI = 120
FONT = {"base": 17, "title": 24, "panel": 19, "tick": 15, "small": 14}

RC: dict[Any, Any] = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "font.size": FONT["base"],
    "axes.titlesize": FONT["panel"],
    "axes.titleweight": "bold",
    "axes.labelsize": FONT["base"],
    "xtick.labelsize": FONT["tick"],
    "ytick.labelsize": FONT["tick"],
    "legend.fontsize": FONT["tick"],
    "legend.frameon": False,
    "figure.titlesize": FONT["title"],
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.labelcolor": TEXT,
    "text.color": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "axes.grid": False,
    "axes.axisbelow": True,  # grid lines behind bars, not striped across them
    "grid.color": "#E5E5E5",
    "lines.linewidth": 2.5,
    "errorbar.capsize": 6,
    "svg.fonttype": "none",  # keep SVG text as text: searchable, and editable for papers
}


def _stable_index(name: str, modulo: int) -> int:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % modulo


def scenario_colour(name: str) -> str:
    """The colour of one scenario, the same in every figure and every run.

    Parameters
    ----------
    name
        Scenario name, e.g. ``"trust_led"`` or a sweep label.

    Returns
    -------
    str
        A hex colour: fixed for the named arrangements, else picked by a stable hash of
        ``name``.
    """
    if name in SCENARIO_COLOURS:
        return SCENARIO_COLOURS[name]
    return EXTRA_COLOURS[_stable_index(name, len(EXTRA_COLOURS))]


def scenario_palette(names: Iterable[str]) -> dict[str, str]:
    """Colours for a set of scenarios shown together, with no two the same.

    Named arrangements keep their fixed colour. Other names start from their hash colour and,
    if it is taken, move to the next free one (names taken in sorted order, so the result
    depends only on the set of names). Pass the same palette to every figure of a report.

    Parameters
    ----------
    names
        Scenario names.

    Returns
    -------
    dict[str, str]
        Name to hex colour.
    """
    unique = sorted(set(names))
    out = {n: SCENARIO_COLOURS[n] for n in unique if n in SCENARIO_COLOURS}
    used = set(out.values())
    for name in unique:
        if name in out:
            continue
        start = _stable_index(name, len(EXTRA_COLOURS))
        for k in range(len(EXTRA_COLOURS)):
            colour = EXTRA_COLOURS[(start + k) % len(EXTRA_COLOURS)]
            if colour not in used:
                break
        else:  # more scenarios than colours: repeat the hash colour
            colour = EXTRA_COLOURS[start]
        out[name] = colour
        used.add(colour)
    return out


def order_scenarios(names: Iterable[str], baseline: str | None = None) -> list[str]:
    """Scenarios in display order: baseline first, then the named arrangements, then the rest."""
    unique = list(dict.fromkeys(names))
    known = [n for n in SCENARIO_COLOURS if n in unique and n != baseline]
    rest = sorted(n for n in unique if n not in SCENARIO_COLOURS and n != baseline)
    return ([baseline] if baseline in unique else []) + known + rest


@contextmanager
def figure_style() -> Iterator[None]:
    """Apply the shared matplotlib settings inside a ``with`` block (restored afterwards)."""
    with matplotlib.rc_context(RC):
        yield


def styled(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a figure function so that everything it draws uses the shared style.

    Text sizes are read from rcParams when each artist is made, so the style must be active
    for the whole function, not just while the figure is created.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with figure_style():
            return func(*args, **kwargs)

    return wrapper


def new_figure(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Figure, Any]:
    """A figure and axes sized for a 1920×1080 slide, with constrained layout.

    Call inside :func:`figure_style` (or a :func:`styled` function).

    Parameters
    ----------
    nrows, ncols
        Grid of panels.
    **kwargs
        Passed to :meth:`matplotlib.figure.Figure.subplots`; ``figsize`` and ``layout``
        override the defaults.

    Returns
    -------
    tuple
        ``(figure, axes)``; axes as from :meth:`~matplotlib.figure.Figure.subplots`.
    """
    # A bare Figure, not pyplot: no global registry of open figures to leak or close.
    fig = Figure(figsize=kwargs.pop("figsize", FIGSIZE), layout=kwargs.pop("layout", "constrained"))
    return fig, fig.subplots(nrows, ncols, **kwargs)
