"""The docs' KPI dictionary, generated from the models' KPI registries.

A Markdown file holds a generated section between two markers, the first naming the model::

    <!-- kpi-dictionary: care -->
    ...generated, do not edit...
    <!-- /kpi-dictionary -->

``python -m sim.models.kpi_docs`` rewrites every such section in ``docs/*.md`` from
``MODELS[kind].kpis``; ``--check`` changes nothing and exits 1 when a section is out of date
(the unit tests run the same check).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.models import MODELS
from sim.models.kpi import Kpi, KpiSet
from sim.paths import REPO_DIR

START = re.compile(r"<!-- kpi-dictionary: (\w+) -->\n")
END = "<!-- /kpi-dictionary -->"
BETTER_WORDS = {"higher": "higher", "lower": "lower", "neutral": "–"}


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _notes(k: Kpi) -> str:
    notes = []
    if k.headline:
        notes.append(f"headline #{k.headline}")
    if k.echo:
        notes.append(f"**input, not an outcome**: repeats `{k.echo}`")
    if k.by_area:
        notes.append("also per area")
    return "; ".join(notes)


def _unit(k: Kpi) -> str:
    if k.scale == 100.0 and k.unit == "%":
        return "% (stored as a fraction 0–1)"
    return f"{k.unit} (shown x{k.scale:g})" if k.scale != 1.0 else k.unit


def dictionary(kpis: KpiSet) -> str:
    """The KPI dictionary of one model as Markdown (a table per group).

    Parameters
    ----------
    kpis
        The model's registry (``MODELS[kind].kpis``).

    Returns
    -------
    str
        Markdown, ending with a newline.
    """
    out = [
        "Generated from the model's KPI registry by `python -m sim.models.kpi_docs`; edit the "
        "registry, not this table. A name in braces stands for a family: "
        + "; ".join(
            f"`{{{name}}}` is {part.describe}"
            for name, part in kpis.all_parts.items()
            if any(f"{{{name}}}" in k.name for k in kpis.entries)
        )
        + (
            ". *Also per area*: with more than one area the model also writes "
            "`<name>__area_<area>` for that area alone."
            if any(k.by_area for k in kpis.entries)
            else "."
        ),
        "",
    ]
    groups: dict[str, list[Kpi]] = {}
    for k in kpis.entries:
        groups.setdefault(k.group or "Other", []).append(k)
    for group, entries in groups.items():
        out += [
            f"**{group}**",
            "",
            "| KPI | Label | Unit | Better | Definition | Source | Notes |",
            "|---|---|---|---|---|---|---|",
        ]
        for k in entries:
            cells = (f"`{k.name}`", k.label, _unit(k), BETTER_WORDS[k.better], k.definition,
                     f"`{k.source}`", _notes(k))  # fmt: skip
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def render(text: str) -> str:
    """``text`` with every marked KPI-dictionary section regenerated.

    Raises
    ------
    ValueError
        If a marker names an unknown model or has no end marker.
    """
    out, pos = [], 0
    for start in START.finditer(text):
        if start.start() < pos:
            continue
        kind = start.group(1)
        if kind not in MODELS:
            raise ValueError(f"kpi-dictionary marker names model {kind!r}; known: {sorted(MODELS)}")
        end = text.find(END, start.end())
        if end < 0:
            raise ValueError(f"kpi-dictionary: {kind}: no closing {END}")
        out += [text[pos : start.end()], dictionary(MODELS[kind].kpis)]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def marked_files(root: Path = REPO_DIR / "docs") -> list[Path]:
    """The Markdown files under ``root`` that hold a KPI-dictionary section."""
    return sorted(p for p in root.glob("*.md") if START.search(p.read_text(encoding="utf-8")))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m sim.models.kpi_docs [--check] [FILE ...]``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.models.kpi_docs", description=__doc__.split("\n")[0]
    )
    parser.add_argument("files", nargs="*", type=Path, help="default: docs/*.md with a marker")
    parser.add_argument("--check", action="store_true", help="exit 1 if any section is stale")
    args = parser.parse_args(argv)
    stale = []
    for path in args.files or marked_files():
        try:
            text = path.read_text(encoding="utf-8")
            new = render(text)
        except (OSError, ValueError) as exc:
            print(f"nhsim: error: {path}: {exc}", file=sys.stderr)
            return 2
        if new == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {path}")
    if args.check and stale:
        print(
            "nhsim: KPI dictionary out of date in "
            + ", ".join(map(str, stale))
            + "; run python -m sim.models.kpi_docs",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
