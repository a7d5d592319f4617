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
# and, when the event log is kept, the log (about 1.05 KB a person-year); time per
# person-year. The demand grew when post-discharge risk raised urgent.headroom from 1.25 to
# 5.5 (about three times as many crisis candidates, thinned at event time): a 50k year peaked
# at 183 MB against an estimate of 181 MB, so the per-person-year cost was raised from 0.3 KB.
# 0.5 KB a person (0.3 before the care model v2): the open population's spells and joiners,
# the post-discharge stream's two uniforms and the trajectories' copy of the death times are
# per person; a 50k year then peaked at 193 MB against an estimate of 192 MB.
KB_PER_PERSON = 0.5
KB_PER_PERSON_YEAR = 0.6
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
