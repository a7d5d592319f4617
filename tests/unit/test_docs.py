"""Documentation that quotes config values stays true to the config files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ARRANGEMENTS = ("status_quo", "trust_led", "federation_led", "alliance")


def _side_by_side_rows() -> list[list[str]]:
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    table = text.split("### Mechanism values side by side", 1)[1].split("\n## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| Key")
    ]
    return rows


def _lookup(data: dict, dotted: str) -> object:
    for part in dotted.split("."):
        data = data[part]
    return data


@pytest.mark.parametrize("row", _side_by_side_rows(), ids=lambda r: r[0])
def test_scenarios_doc_table_matches_the_arrangement_files(row):
    """Each value in docs/scenarios.md's side-by-side table is the value in the YAML file."""
    key, *values, _basis = row
    assert len(values) == len(ARRANGEMENTS)
    for name, shown in zip(ARRANGEMENTS, values, strict=True):
        conf = yaml.safe_load((ROOT / "conf" / "lead_provider" / f"{name}.yaml").read_text())
        actual = _lookup(conf, key)
        if isinstance(actual, bool):
            assert shown.lower() == str(actual).lower(), (key, name)
        elif isinstance(actual, int | float):
            assert float(shown) == pytest.approx(float(actual)), (key, name)
        else:
            assert shown == str(actual), (key, name)


def test_every_mechanism_appears_in_the_table():
    """Every top-level mechanism key of an arrangement file is in the side-by-side table."""
    keys = {row[0].split(".")[0] for row in _side_by_side_rows()}
    conf = yaml.safe_load((ROOT / "conf" / "lead_provider" / "status_quo.yaml").read_text())
    # alliances: described in prose; basis: provenance, not a mechanism
    mechanisms = set(conf) - {"defaults", "name", "alliances", "basis"}
    assert mechanisms <= keys, mechanisms - keys


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def shipped_experiments(root: Path = ROOT) -> set[str]:
    """Names of the experiment files under version control (all of them outside a checkout).

    A user who copies an experiment file, as the README invites, adds an untracked file: the
    README documents the shipped experiments only, so the copy must not turn the suite red.
    """
    folder = root / "scenarios" / "experiment"
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--", "scenarios/experiment/*.yaml"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        tracked = {Path(line).stem for line in out.stdout.splitlines() if line.strip()}
    except (OSError, subprocess.SubprocessError):
        tracked = set()
    return tracked or {p.stem for p in folder.glob("*.yaml")}


def test_readme_lists_every_experiment_and_group_option():
    """The README's experiments table and config-group table name exactly what is shipped."""
    experiments = _readme_section("Experiments")
    names = shipped_experiments()
    listed = {
        line.split("|")[1].strip().strip("`")
        for line in experiments.splitlines()
        if line.startswith("| `")
    }
    assert listed == names, f"README lists {sorted(listed)}, shipped: {sorted(names)}"
    groups = _readme_section("What is modelled")
    for group in ("place", "lead_provider", "model"):
        options = {p.stem for p in (ROOT / "conf" / group).glob("*.yaml")}
        row = next(line for line in groups.splitlines() if line.startswith(f"| `{group}`"))
        assert {o for o in options if f"`{o}`" in row} == options, group


def test_readme_commands_name_real_modules_and_experiments():
    """Every ``python -m sim.<module>`` and ``+experiment=<name>`` in the README exists."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for module in set(re.findall(r"python -m (sim(?:\.\w+)*)", text)):
        path = ROOT / Path(*module.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__main__.py").is_file(), module
    for name in set(re.findall(r"\+experiment=(\w+)", text)):
        assert (ROOT / "scenarios" / "experiment" / f"{name}.yaml").is_file(), name
    for doc in set(re.findall(r"`(docs/[\w.]+\.md)`", text)):
        assert (ROOT / doc).is_file(), doc


def test_a_users_copied_experiment_keeps_the_readme_check_green(tmp_path):
    """An untracked copy of an experiment file (the README's advice) is not required in the
    README table; a tracked one is."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the check falls back to every file")
    repo = tmp_path / "repo"
    (repo / "scenarios" / "experiment").mkdir(parents=True)
    (repo / "scenarios" / "experiment" / "shipped.yaml").write_text("# @package _global_\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    (repo / "scenarios" / "experiment" / "my_copy.yaml").write_text("# @package _global_\n")
    assert shipped_experiments(repo) == {"shipped"}, shipped_experiments(repo)
    subprocess.run([*git, "add", "."], check=True)
    assert shipped_experiments(repo) == {"shipped", "my_copy"}, shipped_experiments(repo)
