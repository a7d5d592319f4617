"""Per-visit records, stored column by column: the seed of the event log."""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pandas as pd


class Outcome(IntEnum):
    """How a visit ended (or had not ended when the run stopped)."""

    IN_SYSTEM = 0
    SERVED = 1
    BLOCKED = 2
    DIVERTED = 3


class VisitLog:
    """One row per visit to a node: arrival, service start, end, outcome.

    Rows are appended as a visit arrives and filled in as it progresses; times not reached
    stay NaN. Plain Python lists are the cheapest thing to append to in the hot path; numpy
    arrays are built once, at the end.
    """

    __slots__ = ("node", "customer", "priority", "arrival", "start", "end", "outcome")

    def __init__(self) -> None:
        self.node: list[int] = []
        self.customer: list[int] = []
        self.priority: list[int] = []
        self.arrival: list[float] = []
        self.start: list[float] = []
        self.end: list[float] = []
        self.outcome: list[int] = []

    def open(self, node: int, customer: int, priority: int, arrival: float) -> int:
        """Add a visit that has just arrived; returns its row."""
        self.node.append(node)
        self.customer.append(customer)
        self.priority.append(priority)
        self.arrival.append(arrival)
        self.start.append(np.nan)
        self.end.append(np.nan)
        self.outcome.append(Outcome.IN_SYSTEM)
        return len(self.arrival) - 1

    def __len__(self) -> int:
        return len(self.arrival)

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns as numpy arrays."""
        return {
            "node": np.asarray(self.node, dtype=np.int32),
            "customer": np.asarray(self.customer, dtype=np.int64),
            "priority": np.asarray(self.priority, dtype=np.int16),
            "arrival": np.asarray(self.arrival, dtype=float),
            "start": np.asarray(self.start, dtype=float),
            "end": np.asarray(self.end, dtype=float),
            "outcome": np.asarray(self.outcome, dtype=np.int8),
        }

    def to_frame(self, node_names: list[str] | None = None) -> pd.DataFrame:
        """The log as a table; node ids become names when ``node_names`` is given."""
        cols = self.arrays()
        frame = pd.DataFrame(cols)
        if node_names is not None:
            frame["node"] = pd.Categorical.from_codes(cols["node"], categories=node_names)
        frame["outcome"] = pd.Categorical.from_codes(
            cols["outcome"], categories=[o.name.lower() for o in Outcome]
        )
        return frame
