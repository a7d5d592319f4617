"""nhsim's sweeper, where Hydra looks for plugins: classes defined under ``hydra_plugins``.

The behaviour lives in :mod:`sim.cli.sweeper`; only the class's home is here.
"""

from sim.cli import sweeper as _impl


class NhsimSweeper(_impl.GridSweeper):
    """Hydra's grid sweep over the jobs the pre-flight checked (see sim.cli.sweeper)."""
