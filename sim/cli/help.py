"""``nhsim --help``: usage, config groups, experiments, follow-up tools and examples.

Everything listed is read from the config and scenario trees, so a new option or experiment
appears here without editing this file. Hydra's own help stays at ``nhsim --hydra-help``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sim.paths import conf_dir, scenarios_dir

# Follow-up tools: subcommand, module, what it does.
TOOLS = (
    ("compare", "sim.analysis.compare", "paired comparison of a sweep's scenarios"),
    ("report", "sim.report", "figures and report.html for a run or sweep"),
    ("warmup", "sim.analysis.warmup", "warm-up (MSER-5) check of a run or sweep"),
    ("rerun", "sim.analysis.rerun", "re-run a finished run and check it reproduces exactly"),
    ("priors", "sim.config.priors", "priors on assumed values; --draws N writes checked draws"),
)
WIDTH = 96


def package_version() -> str:
    """The installed package's version."""
    try:
        return version("neighbourhood-sim")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def options(folder: Path) -> list[str]:
    """The option names of one config group folder (its YAML files, without schemas)."""
    return sorted(p.stem for p in folder.glob("*.yaml") if not p.stem.endswith("_schema"))


def describe(path: Path) -> str:
    """An experiment's one-line description: the first sentence of its header comment."""
    words: list[str] = []
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if text.startswith("@package") or text.lower().startswith(("run:", "what it asks")):
            if words:
                break
            continue
        words.append(text)
    sentence = " ".join(words).split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= 70 else sentence[:67].rstrip() + "..."


def groups() -> list[tuple[str, list[str]]]:
    """``(group, options)`` for the config groups and the scenario groups."""
    found = []
    for root in (conf_dir(), scenarios_dir()):
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "experiment"):
            names = options(folder)
            if names:
                found.append((folder.name, names))
    return found


def _wrap(prefix: str, items: list[str]) -> list[str]:
    lines, line = [], prefix
    for item in items:
        piece = item if line == prefix else ", " + item
        if len(line) + len(piece) > WIDTH and line != prefix:
            lines.append(line + ",")
            line = " " * len(prefix) + item
        else:
            line += piece
    return [*lines, line]


def help_text() -> str:
    """The whole ``--help`` text."""
    out = [
        f"nhsim {package_version()}: integrated-care simulation (SimPy + Hydra)",
        "",
        "usage: nhsim [-m] [KEY=VALUE ...]          one run, or a sweep with -m",
        "       nhsim TOOL DIR [OPTIONS]            a follow-up tool on a run or sweep directory",
        "       nhsim --help | --version | --hydra-help",
        "",
        "Every value is checked before anything runs; a bad one gives one line and exit 2.",
        "",
        "config groups (choose one option with GROUP=OPTION):",
    ]
    for name, names in groups():
        out += _wrap(f"  {name:<21}", names)
    out += ["", "experiments (+experiment=NAME, usually with -m):"]
    folder = scenarios_dir() / "experiment"
    for path in sorted(folder.glob("*.yaml")):
        out.append(f"  {path.stem:<26}{describe(path)}")
    out += ["", "follow-up tools (also python -m MODULE DIR):"]
    for name, module, what in TOOLS:
        out.append(f"  nhsim {name:<9}{module:<24}{what}")
    out += [
        "",
        "common settings:",
        "  run.replications=N     run.horizon=DAYS     run.warm_up=DAYS     run.seed=N",
        "  run.workers=N (processes per run)           hydra/launcher=joblib (jobs in parallel)",
        "",
        "examples:",
        "  nhsim model=queue run.replications=3",
        "  nhsim place=neighbourhood_50k lead_provider=alliance",
        "  nhsim -m +experiment=lead_provider_comparison place=neighbourhood_50k",
        "  nhsim compare outputs/sweeps/<stamp>",
        "  nhsim --cfg job model=queue        (show the composed config; runs nothing)",
        "",
        "Options: -m/--multirun, --cfg job|hydra|all, --resolve, -p PACKAGE, --info [WHAT].",
        "Not allowed: --config-path/-cp, --config-name/-cn, --config-dir/-cd and",
        "--experimental-rerun (a config from outside the project). Docs: README.md, docs/.",
    ]
    return "\n".join(out)
