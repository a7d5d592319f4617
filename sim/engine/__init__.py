"""SimPy building blocks: resources with tallies, time-weighted monitors, per-visit records.

Generator processes use :class:`Servers` (FIFO), :class:`PriorityServers` (non-pre-emptive
priority), :class:`Caseload` (places from enrolment to discharge) and :class:`Teams` (loss
when no team is free within a response window), :class:`Rota` (teams with working hours)
and :class:`Hours` (a divisible capacity,
such as care hours) with ``with resource.request() as req:
yield req``, as they would ``simpy.Resource``; each keeps time-weighted tallies that ignore
the warm-up, per-class waits, and an optional capacity K whose refusals the caller handles.
Capacities may be 0 (nothing is ever granted) or ``math.inf`` (nothing ever waits).
:class:`Level` keeps time-weighted counts that are not resources (daily and after warm-up).
docs/verification.md lists what each is checked against; ``benchmarks/engine.py`` times
them against plain SimPy and Ciw.
"""

from sim.engine.monitor import Level, Marks, TimeWeighted
from sim.engine.records import Outcome, VisitLog
from sim.engine.servers import (
    Caseload,
    Hours,
    PriorityServers,
    Request,
    Rota,
    Servers,
    Teams,
)

__all__ = [
    "Caseload",
    "Hours",
    "Level",
    "Marks",
    "Outcome",
    "PriorityServers",
    "Request",
    "Rota",
    "Servers",
    "Teams",
    "TimeWeighted",
    "VisitLog",
]
