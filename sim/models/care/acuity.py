"""How urgent a need is: one scale for candidate urgent events and ED attendances."""

from __future__ import annotations

from enum import IntEnum


class Acuity(IntEnum):
    """Urgency of a candidate urgent event, carried unchanged into the ED and the bed queue.

    The codes are stored in int8 arrays of candidate events, so an event's kind *is* the
    acuity it arrives with.
    """

    MINOR = 0  # a minor attendance: walks into ED, never a crisis
    CRISIS = 1  # a crisis or deterioration
    TERMINAL = 2  # a deterioration in the last phase of life
