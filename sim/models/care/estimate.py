"""Expected memory and time of one replication of the care model, before it runs.

The per-unit costs were measured with ``benchmarks/model.py`` and ``benchmarks/soak.py`` on
the reference machine (docs/performance.md) and rounded up, so the estimate errs on the side
of more memory and more time.
"""

from __future__ import annotations

from typing import Any

from sim.models.base import BASE_MB, Estimate

# Memory = interpreter + per person + per person-year simulated. The KPIs are tallied as the
# run goes, so what grows with simulated time is the demand drawn up front for the whole run
# (GP requests, urgent candidates, joiners and their spells) and, when the event log is kept,
# the log (about 1.05 KB a person-year). Measured 2026-12-05 after the memory round
# (docs/performance.md, "Memory of one replication"): 425-day runs peaked at 151 MB (50k),
# 253 MB (250k) and 920 MB (1.9M), about 0.42-0.52 KB a person above the interpreter; the
# 10-year soak of 50k grew 12.4 MB a simulated year, 0.25 KB a person-year. Rounded up:
# 0.3 KB a person and 0.3 KB a person-year (estimates 181, 309 and 1,355 MB for those runs;
# 0.5 and 0.6 before the round, when sel_1_9m peaked at 1,469 MB). Per person raised back to
# 0.5: in CI's fresh environment a 400-day 50k run peaked at 180 MB, above the 176 MB that
# 0.3 gave (the estimate must stay an upper bound; tests/unit/test_cost.py).
KB_PER_PERSON = 0.5
KB_PER_PERSON_YEAR = 0.3
LOG_KB_PER_PERSON_YEAR = 1.2
US_PER_PERSON_YEAR = 25.0  # 15 measured for mnp_250k after the change (docs/performance.md)


def estimate(params: Any) -> Estimate:
    """Expected peak memory and single-core time of one replication of ``params``.

    Parameters
    ----------
    params
        Validated parameters of one job (:class:`sim.config.params.Params`).

    Returns
    -------
    Estimate
        Naming the most populous area (or the horizon, for very long runs) as the key to
        shrink first.
    """
    horizon = params.run.horizon
    years = horizon / 365.0
    people = float(params.model.population)
    person_years = people * years
    per_person_year = KB_PER_PERSON_YEAR + (
        LOG_KB_PER_PERSON_YEAR if params.output.event_log else 0.0
    )
    mb = BASE_MB + (people * KB_PER_PERSON + person_years * per_person_year) / 1024
    if years > 20:
        key, value = "run.horizon", horizon
    else:
        key, value = _largest_area(params.model)
    return Estimate(
        peak_gb=mb / 1024,
        seconds_per_replication=person_years * US_PER_PERSON_YEAR * 1e-6,
        key=key,
        value=value,
        size=f"{people:,.0f} people for {years:,.1f} simulated years",
        advice="use fewer people, a shorter run.horizon or fewer run.workers",
    )


def _largest_area(model: Any) -> tuple[str, int]:
    """The key and value of the most populous area, the one to shrink first."""
    sizes = dict(zip(model.area_names, model.area_population, strict=True))
    name = max(sizes, key=sizes.__getitem__)
    return f"place.areas.{name}.population", sizes[name]
