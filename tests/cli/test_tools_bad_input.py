"""The follow-up tools on damaged results: one line naming the file, never a traceback.

``sim.analysis.compare``, ``sim.report``, ``sim.analysis.warmup`` and ``sim.analysis.rerun``
are called through their ``main()`` on run and sweep directories written with the results
contract (``tests/unit/synthetic_results.py``), after one file has been damaged: binary or
wrongly-shaped CSVs, a manifest that is not a JSON object, a saved config or overrides file
with a YAML tag, a damaged Parquet file, a file where a directory belongs. A single run
with a bad file is refused with one line; in a sweep the damaged job is left out as
unfinished and named, and the rest is analysed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from synthetic_results import SCENARIOS, write_run  # noqa: E402

from sim.analysis import compare, rerun, warmup  # noqa: E402
from sim.report import build  # noqa: E402

BINARY = bytes(range(256)) * 8
# A tag that would create a file if anything ever constructed it.
EXPLOIT = "!!python/object/apply:os.system ['touch PWNED']\n"


def _write(name: str, data: bytes | str) -> Callable[[Path], str]:
    def damage(run: Path) -> str:
        target = run / name
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data)
        return name

    return damage


# fault -> (damage, words the one line must contain)
FAULTS: dict[str, tuple[Callable[[Path], str], str]] = {
    "summary_binary": (_write("summary.csv", BINARY), "is binary"),
    "summary_wrong_columns": (_write("summary.csv", "a,b\n1,2\n"), "lacks column(s)"),
    "summary_empty": (_write("summary.csv", ""), "is empty"),
    "replications_binary": (_write("replications.csv", BINARY), "is binary"),
    "replications_wrong_columns": (_write("replications.csv", "x,y\n1,2\n"), "lacks column"),
    "replications_not_numbers": (
        _write("replications.csv", "replication,metric,value\n0,x,abc\n"),
        "holds a non-number ('abc')",
    ),
    "replications_latin1": (
        _write("replications.csv", "replication,metric,value\n0,caf\xe9,1\n".encode("latin-1")),
        "not UTF-8",
    ),
    "manifest_binary": (_write("run.json", BINARY), "is binary"),
    "manifest_a_list": (_write("run.json", "[1, 2]"), "holds a JSON list, not an object"),
    "manifest_malformed": (_write("run.json", '{"seed": '), "is not valid JSON"),
    "overrides_yaml_tag": (_write(".hydra/overrides.yaml", EXPLOIT), "YAML tag !!python"),
    "overrides_a_mapping": (_write(".hydra/overrides.yaml", "a: 1\n"), "must be a list"),
    "overrides_a_number": (_write(".hydra/overrides.yaml", "5\n"), "not an int"),
    "config_yaml_tag": (_write(".hydra/config.yaml", EXPLOIT), "YAML tag !!python"),
    "config_a_list": (_write(".hydra/config.yaml", "- 1\n- 2\n"), "must be a mapping"),
    "config_malformed": (_write(".hydra/config.yaml", "run: [\n"), "is not valid YAML"),
    "timeseries_damaged": (_write("timeseries.parquet", BINARY), "is not a Parquet file"),
}


@pytest.fixture
def sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A four-job sweep of synthetic results; the working directory is ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "sweep"
    for i, scenario in enumerate(SCENARIOS):
        write_run(root / str(i), scenario)
    return root


def _single_error(capsys: pytest.CaptureFixture[str], rc: int, prefix: str) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc == 2, f"exit {rc}; stderr {err}"
    assert len(err) == 1 and err[0].startswith(prefix), err
    return err[0]


TOOLS: dict[str, tuple[Callable[[list[str]], int], list[str], str]] = {
    "report": (build.main, [], "nhsim: error:"),
    "warmup": (warmup.main, ["--no-figure"], "nhsim.warmup: error:"),
    "rerun": (rerun.main, [], "nhsim.rerun: error:"),
    "compare": (compare.main, [], "nhsim: error:"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("tool", ["report", "warmup", "rerun"])
def test_a_run_with_a_damaged_file_is_refused_in_one_line(sweep, capsys, tool, fault):
    """A single run directory with one damaged file: exit 2 and one line naming the file
    and what is wrong with it; nothing a YAML tag names is ever run."""
    damage, words = FAULTS[fault]
    name = damage(sweep / "1")
    main, extra, prefix = TOOLS[tool]
    line = _single_error(capsys, main([str(sweep / "1"), *extra]), prefix)
    assert f"1/{name}:" in line and words in line, line
    assert not (sweep.parent / "PWNED").exists(), "a YAML tag ran code"


@pytest.mark.parametrize("fault", list(FAULTS))
def test_compare_leaves_out_a_damaged_job_and_names_it(sweep, capsys, fault):
    """In a sweep, a job with a damaged file is unfinished: compare names it (with the
    file and the problem), compares the other three, and exits 0."""
    damage, words = FAULTS[fault]
    name = damage(sweep / "1")
    rc = compare.main([str(sweep)])
    err = capsys.readouterr().err.splitlines()
    assert rc == 0, err
    notes = [line for line in err if line.startswith("nhsim: note: job 1 left out")]
    assert len(notes) == 1 and f"1/{name}:" in notes[0] and words in notes[0], err
    assert any("not finished: job 1" in line for line in err), err
    table = pd.read_csv(sweep / "comparison.csv")
    assert "trust_led" not in set(table["scenario"]), sorted(set(table["scenario"]))
    assert not (sweep.parent / "PWNED").exists(), "a YAML tag ran code"


@pytest.mark.parametrize("fault", ["summary_binary", "overrides_yaml_tag", "manifest_a_list"])
def test_report_leaves_out_a_damaged_job_and_names_it(sweep, capsys, fault):
    """The report of a sweep with one damaged job is built from the other jobs; one note
    names the job and its file."""
    damage, words = FAULTS[fault]
    name = damage(sweep / "1")
    rc = build.main([str(sweep)])
    err = capsys.readouterr().err.splitlines()
    assert rc == 0, err
    assert len(err) == 1 and f"1/{name}:" in err[0] and words in err[0], err
    html = (sweep / "report.html").read_text(encoding="utf-8")
    assert "Jobs 1 have not finished" in html, "job 1 is not named in the report"


@pytest.mark.parametrize("fault", ["summary_binary", "config_yaml_tag", "timeseries_damaged"])
def test_warmup_leaves_out_a_damaged_job_and_names_it(sweep, capsys, fault):
    """MSER-5 over a sweep with one damaged job: one note names it, the rest is analysed."""
    damage, words = FAULTS[fault]
    name = damage(sweep / "1")
    rc = warmup.main([str(sweep), "--no-figure"])
    err = capsys.readouterr().err.splitlines()
    assert rc == 0, err
    assert len(err) == 1 and f"1/{name}:" in err[0] and words in err[0], err
    assert (sweep / "warmup.csv").is_file()


@pytest.mark.parametrize("tool", list(TOOLS))
@pytest.mark.parametrize("where", ["a_file", "missing"])
def test_a_file_or_a_missing_path_is_refused_in_one_line(tmp_path, capsys, tool, where):
    """A file where a run or sweep directory belongs, or a path that does not exist."""
    target = tmp_path / "results"
    if where == "a_file":
        target.write_text("metric,mean\n")
    main, extra, prefix = TOOLS[tool]
    line = _single_error(capsys, main([str(target), *extra]), prefix)
    expected = "is a file, not a run or sweep directory" if where == "a_file" else "does not exist"
    assert f"{target}: {expected}" in line, line
