"""SimPy building blocks: service nodes, time-weighted monitors and per-visit records.

The pieces avoid a SimPy process per customer: a node keeps its own queue and schedules each
service completion as a timeout with a callback, which is several times cheaper than the
idiomatic ``Resource.request`` process per customer and gives the same queueing behaviour.
"""

from sim.engine.monitor import TimeWeighted
from sim.engine.node import ServiceNode, Visit
from sim.engine.records import Outcome, VisitLog

__all__ = ["Outcome", "ServiceNode", "TimeWeighted", "Visit", "VisitLog"]
