"""How scenarios read in figures and tables (sim.plots.labels.scenario_label)."""

from __future__ import annotations

import pytest

from sim.plots import labels


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("trust_led", "Trust-led"),
        ("lead_provider=federation_led", "Federation-led"),
        ("borough_arrangements=all_status_quo", "All status quo"),
        ("+borough_arrangements=sel_mix", "SEL mix"),
        ("+sensitivity=payment_spent_low", "Payment spent low"),
        # A dotted key, or several choices, keep the whole name: the value alone ("3",
        # "envelope 80pct") would not say what was chosen.
        ("run.replications=3", "Run.replications=3"),
        ("lead_provider=trust_led,budget=envelope_80pct",
         "Lead provider=trust led,budget=envelope 80pct"),
    ],
)  # fmt: skip
def test_scenario_label(name, label):
    """Arrangements by their names; a sweep job of one config-group choice by the choice."""
    assert labels.scenario_label(name) == label


def test_baseline_phrase_reads_after_difference_from():
    """The baseline in lower case after "Difference from", acronyms kept."""
    assert labels.baseline_phrase("borough_arrangements=all_status_quo") == "all status quo"
    assert labels.baseline_phrase("+borough_arrangements=sel_mix") == "SEL mix"
    assert labels.baseline_phrase(None) == "the baseline"
