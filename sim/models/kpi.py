"""KPIs as data: one record per KPI (or family of KPIs) with everything said about it.

A model declares its KPIs once, as a :class:`KpiSet` on its
:class:`~sim.models.base.ModelSpec` (``spec.kpis``). The plot labels, the report, the
terminal, the headline list and the docs' KPI dictionary all read them from there, so no KPI
is described twice and generic code names no KPI.

A record's ``name`` is either a metric name (``"los_mean_days"``) or a pattern with named
parts in braces (``"emergency_admissions_per_1000__q{q}"``, ``"cost__{organisation}"``).
Each part is a :class:`Part`: what it matches and how it reads in words. In ``label``,
``short``, ``definition`` and ``echo`` a part ``{x}`` is replaced by its words,
``{x_lower}`` by its words in lower case and ``{x_id}`` by the matched text. Per-area
variants (``<name>__area_<slug>``, written by models with more than one area) need no record
of their own: a record with ``by_area=True`` covers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

Better = Literal["higher", "lower", "neutral"]
BETTER: tuple[str, ...] = ("higher", "lower", "neutral")

AREA_SEPARATOR = "__area_"

_ACRONYMS = {
    "gp": "GP",
    "ed": "A&E",
    "ucr": "UCR",
    "eol": "end-of-life",
    "nhs111": "NHS 111",
    "sel": "SEL",  # South East London
}


def humanise(name: str) -> str:
    """Turn a snake_case name into words, sentence case, with NHS acronyms kept.

    Parameters
    ----------
    name
        A name such as ``"federation_led"`` or ``"gp_practices"``.

    Returns
    -------
    str
        E.g. ``"Federation led"``, ``"GP practices"``.
    """
    words = [_ACRONYMS.get(w, w) for w in re.split(r"[_\s]+", name.strip()) if w]
    if not words:
        return name
    first = words[0]
    words[0] = first if first.isupper() or first[:1].isupper() else first[:1].upper() + first[1:]
    return " ".join(words)


@dataclass(frozen=True)
class Part:
    """One named part of a KPI name pattern.

    Attributes
    ----------
    pattern
        Regular expression the part matches (no groups of its own).
    words
        How a matched value reads in a label, e.g. ``"5"`` -> ``"most deprived fifth"``.
    describe
        What the part stands for, for the docs (``"deprivation quintile 1-5"``).
    """

    pattern: str
    words: Callable[[str], str] = humanise
    describe: str = ""


QUINTILE_WORDS = {
    "1": "least deprived fifth",
    "2": "second-least deprived fifth",
    "3": "middle fifth",
    "4": "second-most deprived fifth",
    "5": "most deprived fifth",
}

# Parts every model may use; a model adds its own (care settings, organisations).
COMMON_PARTS: dict[str, Part] = {
    "q": Part("[1-5]", QUINTILE_WORDS.__getitem__, "deprivation quintile, 1 least to 5 most"),
    # Node names may hold single underscores; "__" separates the parts of a metric name.
    "node": Part("[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*", str, "a node named in the model config"),
}


@dataclass(frozen=True)
class Kpi:
    """Everything said about one KPI, or one family of KPIs.

    Attributes
    ----------
    name
        Metric name, or a pattern with parts in braces (see the module docstring).
    label
        Plain-English name, sentence case, no variable names.
    unit
        Unit of the displayed value (after ``scale``), e.g. ``"days"`` or ``"%"``.
    definition
        One line: what is counted, over what, per what denominator, after warm-up.
    source
        The tally or computation it comes from (e.g. ``"EventTally.post: emergency_admission"``).
    better
        ``"higher"``, ``"lower"`` or ``"neutral"`` (no direction is better, or it depends).
    scale
        Factor from the stored value to the displayed value (100 for shares shown as %).
    short
        A short label for tight panels; empty means the label.
    headline
        Rank among the headline KPIs (1 first); 0 when not headline.
    echo
        The config key whose value this KPI repeats (an input, not an outcome); ``None`` for
        a KPI the simulation produces.
    by_area
        The model also writes ``<name>__area_<slug>`` for each area when there are several.
    group
        Section of the KPI dictionary it is listed under.
    """

    name: str
    label: str
    unit: str
    definition: str
    source: str
    better: Better = "neutral"
    scale: float = 1.0
    short: str = ""
    headline: int = 0
    echo: str | None = None
    by_area: bool = False
    group: str = ""

    @property
    def short_label(self) -> str:
        """The short label, or the full label when none was given."""
        return self.short or self.label

    @property
    def is_pattern(self) -> bool:
        """True for a family of KPIs (a name with parts in braces)."""
        return "{" in self.name


_PART = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class KpiSet:
    """A model's KPI records and the parts its name patterns use.

    Attributes
    ----------
    entries
        The records, in the order of the KPI dictionary.
    parts
        Named parts the patterns may use, beyond :data:`COMMON_PARTS`.
    """

    entries: tuple[Kpi, ...] = ()
    parts: Mapping[str, Part] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [k.name for k in self.entries]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"KPI registry: names listed twice: {dup}")
        for k in self.entries:
            if k.better not in BETTER:
                raise ValueError(f"KPI {k.name}: better={k.better!r}; allowed: {BETTER}")
            unknown = set(_PART.findall(k.name)) - set(self.all_parts)
            if unknown:
                raise ValueError(f"KPI {k.name}: unknown parts {sorted(unknown)}")
            if k.echo and k.headline:
                raise ValueError(
                    f"KPI {k.name}: headline={k.headline} but it repeats {k.echo}; an input "
                    "echo is not an outcome and cannot be headline"
                )

    @property
    def all_parts(self) -> dict[str, Part]:
        """Common parts and this model's own."""
        return {**COMMON_PARTS, **self.parts}

    @cached_property
    def _exact(self) -> dict[str, Kpi]:
        return {k.name: k for k in self.entries if not k.is_pattern}

    @cached_property
    def _patterns(self) -> list[tuple[re.Pattern[str], Kpi]]:
        parts = self.all_parts
        out = []
        for k in self.entries:
            if k.is_pattern:
                pieces = _PART.split(k.name)  # text, part, text, part, ...
                rx = "".join(
                    re.escape(p) if i % 2 == 0 else f"(?P<{p}>{parts[p].pattern})"
                    for i, p in enumerate(pieces)
                )
                out.append((re.compile(rx), k))
        return out

    def covering(self, metric: str) -> list[Kpi]:
        """Every record whose name or pattern matches ``metric`` (one, in a sound registry)."""
        out = [k for k in self.entries if k.name == metric]
        out += [k for rx, k in self._patterns if rx.fullmatch(metric)]
        base, sep, slug = metric.partition(AREA_SEPARATOR)
        if sep and slug:
            out += [k for k in self.covering(base) if k.by_area]
        return out

    def entry(self, metric: str) -> Kpi | None:
        """The record that covers ``metric`` (itself, not resolved), or ``None``."""
        found = self._match(metric)
        return found[0] if found else None

    def _match(self, metric: str) -> tuple[Kpi, dict[str, str]] | None:
        if metric in self._exact:
            return self._exact[metric], {}
        for rx, k in self._patterns:
            hit = rx.fullmatch(metric)
            if hit:
                return k, hit.groupdict()
        base, sep, slug = metric.partition(AREA_SEPARATOR)
        if sep and slug:
            found = self._match(base)
            if found and found[0].by_area:
                return found[0], {**found[1], "area": slug}
        return None

    def find(self, metric: str) -> Kpi | None:
        """The record for ``metric`` with its name, label and definition filled in.

        Parameters
        ----------
        metric
            A metric name as written to ``summary.csv``, e.g.
            ``"emergency_admissions_per_1000__q5"`` or ``"bed_occupancy_mean__area_bexley"``.

        Returns
        -------
        Kpi or None
            A concrete record (``name == metric``), or ``None`` when no record covers it.
        """
        found = self._match(metric)
        if found is None:
            return None
        k, values = found
        parts = self.all_parts
        area = values.pop("area", None)
        fill = {p: parts[p].words(v) for p, v in values.items()}
        fill.update({f"{p}_lower": w.lower() for p, w in list(fill.items())})
        fill.update({f"{p}_id": v for p, v in values.items()})
        out = replace(
            k,
            name=metric,
            label=k.label.format(**fill),
            short=k.short.format(**fill),
            definition=k.definition.format(**fill),
            echo=k.echo.format(**fill) if k.echo else None,
        )
        if area is not None:
            words = humanise(area).title()
            out = replace(
                out,
                label=f"{out.label}, {words}",
                short=f"{out.short_label}, {words}",
                definition=f"{out.definition} In area {words} only.",
                headline=0,
            )
        return out

    @property
    def headline(self) -> tuple[str, ...]:
        """Names of the headline KPIs, in rank order (written once, in the records)."""
        ranked = sorted((k for k in self.entries if k.headline), key=lambda k: k.headline)
        return tuple(k.name for k in ranked)

    @property
    def echoes(self) -> dict[str, str]:
        """KPI name (or pattern) -> the config key it repeats."""
        return {k.name: k.echo for k in self.entries if k.echo}

    def unmatched(self, metrics: Iterable[str]) -> tuple[list[str], list[str]]:
        """Metrics no record covers, and records that cover none of ``metrics``.

        Per-area variants count towards their base record's use but a record needs a
        metric of its own name (or pattern) to count as used.
        """
        names = list(metrics)
        missing = [m for m in names if self.entry(m) is None]
        used = {id(self.entry(m)) for m in names if AREA_SEPARATOR not in m}
        unused = [k.name for k in self.entries if id(k) not in used]
        return missing, unused


def find(sets: Iterable[KpiSet], metric: str) -> Kpi | None:
    """The first record among several models' KPI sets that covers ``metric``."""
    for kpis in sets:
        hit = kpis.find(metric)
        if hit is not None:
            return hit
    return None
