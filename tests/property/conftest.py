"""Hypothesis settings profiles for the property tier.

``HYPOTHESIS_PROFILE`` selects one:

``ci`` (default)
    Derandomised (the same examples on every run, so CI never flakes on a new example), a
    few hundred examples across the tier, well under two minutes on two cores.
``dev``
    Random examples, five times as many; for local runs while changing the model.
``long``
    Random examples, fifty times as many; an overnight soak of the invariants.

Each test asks for a share of the profile's budget with :func:`examples`, so the relative
weight of the cheap (queue, validation-only) and expensive (care model) properties is kept
whatever the profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # a care-model example takes about a second; timing is not a property
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=100, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=500, **_COMMON)
settings.register_profile("long", max_examples=5000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples(share: float) -> int:
    """``share`` of the loaded profile's ``max_examples`` (at least 3)."""
    return max(3, round(settings.default.max_examples * share))
