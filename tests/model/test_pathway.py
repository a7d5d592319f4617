"""The urgent pathway as processes: a death ends every process of the person."""

from __future__ import annotations

import numpy as np

STARTS = (
    "eol_enrolment",
    "step_down_start",
    "virtual_ward_start",
    "care_home_admission",
    "proactive_enrolment",
    "emergency_admission",
    "ucr_response",
)


def test_nobody_starts_care_after_their_death(run_care):
    """No place is granted, and no visit or admission starts, after the person's death: the
    death interrupts their processes and withdraws every request still waiting (before the
    port, a person who died waiting for an end-of-life place was still enrolled when a place
    freed, and held it for the rest of the run)."""
    events = run_care("output.event_log=true").tables["events"]
    deaths = events[events["event"] == "death"].set_index("person_id")["time_days"]
    late = {}
    for name in STARTS:
        e = events[events["event"] == name]
        died = deaths.reindex(e["person_id"]).to_numpy()
        late[name] = int(np.count_nonzero(e["time_days"].to_numpy() > died))
    assert not any(late.values()), f"starts after death: {late}"


def test_every_death_in_hospital_closes_the_stay(run_care):
    """Admissions are conserved: each ends in a discharge, a death in the bed, or is still in
    a bed at the end (a death that did not close its stay would break the count)."""
    d = run_care("output.event_log=true").diagnostics
    assert d["in_bed_at_end"] >= 0, d["in_bed_at_end"]
    assert d["admissions"] == d["discharges"] + d["deaths_in_bed"] + d["in_bed_at_end"], d
