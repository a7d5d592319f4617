"""Errors that the CLI turns into one readable line."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value that makes no sense.

    Parameters
    ----------
    key
        Dotted path of the offending key, e.g. ``model.nodes.a.servers``.
    value
        The value that was given.
    allowed
        Plain-English statement of what is allowed.
    """

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"{key} = {value!r}: {allowed}")
