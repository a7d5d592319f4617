"""Citations resolve to docs/sources.md, and every config value says where it comes from."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml

from sim.analysis import provenance as pv
from sim.config.compose import compose_params
from sim.models import MODELS
from sim.models.care.params import load_arrangement

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "docs" / "sources.md"
REQUIRED = ("Authors", "Title", "Year", "Publisher", "URL", "Grade")
# Where citations may appear (the brief's scope): configs, scenarios, docs, code, README.
SCANNED = [ROOT / "conf", ROOT / "scenarios", ROOT / "docs", ROOT / "sim", ROOT / "README.md"]
SUFFIXES = {".yaml", ".yml", ".md", ".py"}
CONF = ROOT / "conf"
MECHANISM_FILES = sorted((CONF / "lead_provider").glob("*.yaml")) + [CONF / "model" / "care.yaml"]
BASIS_FILES = MECHANISM_FILES + sorted((CONF / "place").glob("*.yaml"))
GRADED = re.compile(r"\[src:([a-z0-9-]+)\] \(grade ([ABC])\b")


def _entries() -> dict[str, dict[str, str]]:
    """``{key: {field: value}}`` parsed from the ``### `key` `` sections of docs/sources.md."""
    entries: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in SOURCES.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^### `([a-z0-9][a-z0-9-]*)`\s*$", line)
        if heading:
            current = entries.setdefault(heading.group(1), {})
            continue
        if line.startswith("## "):
            current = None
        field = re.match(r"^- \*\*([A-Za-z ]+):\*\* (.+)$", line)
        if current is not None and field:
            current[field.group(1)] = field.group(2).strip()
    return entries


def _files() -> list[Path]:
    out = []
    for base in SCANNED:
        paths = [base] if base.is_file() else sorted(base.rglob("*"))
        out += [p for p in paths if p.is_file() and p.suffix in SUFFIXES]
    return out


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_sources_file_has_entries_with_every_field():
    """Every entry of docs/sources.md has authors, title, a year, publisher, a URL and a grade."""
    entries = _entries()
    assert len(entries) >= 20, f"only {len(entries)} entries parsed from {SOURCES}"
    for key, fields in entries.items():
        missing = [f for f in REQUIRED if not fields.get(f)]
        assert not missing, f"{key}: missing {missing}"
        assert re.search(r"\b(19|20)\d\d\b", fields["Year"]), f"{key}: year {fields['Year']!r}"
        assert fields["URL"].startswith("https://"), f"{key}: URL {fields['URL']!r}"
        assert fields["Grade"] in ("A", "B", "C"), f"{key}: grade {fields['Grade']!r}"


def test_every_citation_key_resolves_to_an_entry():
    """Each ``[src:key]`` in conf/, scenarios/, docs/, sim/ and README.md names an entry."""
    entries = _entries()
    cited: dict[str, list[str]] = {}
    for path in _files():
        for key in pv.cited_keys(path.read_text(encoding="utf-8")):
            cited.setdefault(key, []).append(str(path.relative_to(ROOT)))
    unknown = {k: v for k, v in cited.items() if k not in entries}
    assert not unknown, f"citation keys with no entry in docs/sources.md: {unknown}"
    assert len(cited) >= 15, f"only {len(cited)} distinct keys cited: {sorted(cited)}"


def test_every_entry_is_cited_somewhere():
    """docs/sources.md lists only sources something in the repository actually cites."""
    cited = {k for path in _files() for k in pv.cited_keys(path.read_text(encoding="utf-8"))}
    unused = sorted(set(_entries()) - cited)
    assert not unused, f"entries nobody cites: {unused}"


def test_stated_grades_match_the_entries():
    """``[src:key] (grade X)`` anywhere states the grade docs/sources.md gives that key."""
    entries = _entries()
    wrong = [
        (str(path.relative_to(ROOT)), key, grade, entries[key]["Grade"])
        for path in _files()
        for key, grade in GRADED.findall(path.read_text(encoding="utf-8"))
        if key in entries and entries[key]["Grade"] != grade
    ]
    assert not wrong, f"(file, key, stated, listed): {wrong}"


def test_no_citation_points_outside_the_repository():
    """No "PM §", parameters.md or /shared/reference path is left in conf, docs, sim, scenarios
    or README.md: citations name entries of docs/sources.md instead."""
    bad = re.compile(r"PM §|parameters\.md|/shared/reference")
    hits = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _files()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bad.search(line)
    ]
    assert not hits, f"{len(hits)} lines still cite outside the repository: {hits[:10]}"


@pytest.mark.parametrize("path", MECHANISM_FILES, ids=lambda p: p.stem)
def test_every_number_in_mechanism_files_has_a_basis(path):
    """Every numeric value in conf/lead_provider/*.yaml and conf/model/care.yaml has a basis
    (sourced, calibrated or assumption) in the file's ``basis`` block."""
    missing = pv.missing_basis(_load(path), numeric_only=True)
    assert not missing, f"{path.name}: no basis for {missing}"


@pytest.mark.parametrize("path", BASIS_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_basis_blocks_are_well_formed(path):
    """Every value has a basis, every basis key names a value, and every basis text is one of
    the documented forms (cited with a grade, calibrated, assumption or unverified)."""
    data = _load(path)
    assert not pv.missing_basis(data), f"{path.name}: no basis for {pv.missing_basis(data)}"
    assert not pv.unknown_basis_keys(data), f"{path.name}: {pv.unknown_basis_keys(data)}"
    for key, text in data["basis"].items():
        kind = pv.basis_kind(text)
        starts = text.startswith(("assumption", "unverified", "calibrated (docs/calibration.md"))
        assert starts or GRADED.match(text), f"{path.name}: {key}: {text!r}"
        if kind == "cited":
            assert GRADED.search(text), f"{path.name}: {key} cites without a grade: {text!r}"


def test_basis_kind_reads_the_first_word():
    """The kind of a basis comes from how it starts; a named source alone makes it cited."""
    assert pv.basis_kind("[src:barker-2017] (grade B): UPC 0.61") == "cited"
    assert pv.basis_kind("calibrated (docs/calibration.md): [src:x] (grade A)") == "calibrated"
    assert pv.basis_kind("assumption: within [src:huntley-2013] (grade A)") == "assumption"
    assert pv.basis_kind("unverified: 367.4m appointments") == "assumption"
    assert pv.basis_kind("Barker 2017") == "assumption", "no [src:] key means no source"
    assert pv.basis_kind("") == "assumption"


def test_value_basis_inherits_from_the_nearest_enclosing_key():
    """A basis on a mapping covers its values; a deeper key's own basis wins; a value with no
    basis anywhere is left out; in a whole config, keys start with their group."""
    section = {
        "name": "x",
        "handoffs": {"same": {"delay": 0.5, "loss": 0.01}, "separate": {"delay": 6.5}},
        "continuity": 0.61,
        "priority_rule": "by_need",
        "basis": {
            "handoffs": "assumption",
            "handoffs.separate.delay": "calibrated (docs/calibration.md): delays",
            "continuity": "[src:barker-2017] (grade B): 0.61",
        },
    }
    got = pv.value_basis(section)
    assert got == {
        "handoffs.same.delay": "assumption",
        "handoffs.same.loss": "assumption",
        "handoffs.separate.delay": "calibrated (docs/calibration.md): delays",
        "continuity": "[src:barker-2017] (grade B): 0.61",
    }, got
    assert pv.missing_basis(section) == ["priority_rule"]
    assert pv.missing_basis(section, numeric_only=True) == []
    whole = pv.value_basis({"lead_provider": section, "run": {"seed": 1}})
    assert whole["lead_provider.continuity"].startswith("[src:barker-2017]"), whole


def test_basis_rows_give_the_report_one_row_per_value():
    """``basis_rows`` gives (key, value, kind, basis) per value, flagging a missing basis."""
    rows = pv.basis_rows(
        {"a": 1.0, "b": {"c": 2}, "alliances": {}, "basis": {"a": "[src:k] (grade A): x"}}
    )
    assert rows == [
        ("a", 1.0, "cited", "[src:k] (grade A): x"),
        ("b.c", 2, "assumption", "no basis given"),
        ("alliances", {}, "assumption", "no basis given"),
    ], rows


def test_unknown_basis_keys_catch_typos():
    """A basis key that names no value (a typo or a removed key) is reported."""
    section = {"budget": {"allocation": {"ucr": 0.1}}, "basis": {"budget.alocation": "x"}}
    assert pv.unknown_basis_keys(section) == ["budget.alocation"]


def test_saved_config_carries_the_basis_of_every_group():
    """The composed config (what a run saves in .hydra/config.yaml) holds each group's basis."""
    params = compose_params(["model=care", "place=neighbourhood_50k", "lead_provider=trust_led"])
    model, place, lead = params.model.model, params.model.place, params.model.lead
    assert lead.basis == _load(CONF / "lead_provider" / "trust_led.yaml")["basis"]
    assert model.basis["urgent.crisis_frailty_multiplier"].startswith("[src:clegg-2016]")
    assert place.basis["areas.neighbourhood.population"].startswith("[src:pulse-10yhp-2025]")


def test_per_area_arrangement_loader_carries_the_basis_block():
    """An arrangement read as plain data for one area keeps its file's basis, like Hydra's."""
    lead = load_arrangement("federation_led")
    assert lead.basis == _load(CONF / "lead_provider" / "federation_led.yaml")["basis"]
    assert lead.practices.autonomy == pytest.approx(0.9)


def test_the_model_never_reads_the_basis():
    """Emptying every basis block changes no KPI of a short run (and no model code names it)."""
    case = ["model=care", "place=neighbourhood_50k", "run.horizon=40", "run.warm_up=5"]
    case += ["run.cache=false", "output.timeseries=false"]
    stripped = ["model.basis={}", "place.basis={}", "lead_provider.basis={}"]
    runs = []
    for overrides in (case, case + stripped):
        params = compose_params(overrides)
        runs.append(MODELS[params.kind].simulate(params.model, params.run, params.output, 0))
    with_basis, without = runs[0].metrics, runs[1].metrics
    assert with_basis.keys() == without.keys()
    differ = {
        k: (with_basis[k], without[k])
        for k in with_basis
        if not (
            math.isclose(with_basis[k], without[k], rel_tol=0, abs_tol=0)
            or (math.isnan(with_basis[k]) and math.isnan(without[k]))
        )
    }
    assert not differ, differ
    readers = [
        p.name
        for p in (ROOT / "sim" / "models").rglob("*.py")
        if p.name != "schema.py" and re.search(r"\.basis\b|\[\"basis\"\]", p.read_text())
    ]
    assert not readers, f"model code reads basis: {readers}"


def test_basis_rows_flag_values_set_for_this_run_without_a_basis():
    """Against the file's values, an override without its own basis is "set for this run";
    an override that brings its own basis keeps it; unchanged values keep the file's basis."""
    file = {"continuity": 0.61, "loss": 0.06, "share": 0.6}
    file["basis"] = {
        "continuity": "[src:barker-2017] (grade B): 0.61",
        "loss": "assumption",
        "share": "assumption",
    }
    run = {"continuity": 0.51, "loss": 0.02, "share": 0.6}
    run["basis"] = {**file["basis"], "loss": "assumption: 2% lost"}
    rows = {key: (kind, text) for key, _value, kind, text in pv.basis_rows(run, file)}
    assert rows["continuity"][0] == "set for this run", rows
    assert rows["continuity"][1].startswith("set for this run (file value 0.61); [src:"), rows
    assert rows["loss"] == ("assumption", "assumption: 2% lost"), rows
    assert rows["share"] == ("assumption", "assumption"), rows
