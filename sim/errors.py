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
        super().__init__(
            f"{shorten(key, 200)} = {shorten(repr(value), 200)}: {shorten(allowed, 1000)}"
        )


def shorten(text: str, limit: int = 200) -> str:
    """``text``, or its start with an ellipsis and its length when longer than ``limit``.

    An error line stays readable (and bounded) whatever the size of the input it quotes.
    """
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}... ({len(text):,} chars)"
