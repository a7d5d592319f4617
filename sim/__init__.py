"""neighbourhood-sim: discrete-event simulation of neighbourhood health in the English NHS."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neighbourhood-sim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
