"""Named random streams.

Every random number in the simulator comes from a stream addressed by name. A stream's
seed is derived from ``(seed, replication, name)`` through :class:`numpy.random.SeedSequence`,
with the name turned into an integer by a stable hash (BLAKE2b, not Python's salted
``hash``). Adding a stream therefore never perturbs another, and two scenarios that use
the same names draw the same numbers: common random numbers by construction.
"""

from __future__ import annotations

import hashlib

import numpy as np

_BLOCK = 4096


def name_key(name: str) -> int:
    """Stable 64-bit integer for a stream name (identical across processes and platforms)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def seed_sequence(seed: int, replication: int, name: str) -> np.random.SeedSequence:
    """Seed sequence for one named stream of one replication.

    Parameters
    ----------
    seed
        The run's base seed (``run.seed``).
    replication
        Replication index, from 0.
    name
        Stream name, e.g. ``"arrivals/a"``.
    """
    if seed < 0 or replication < 0:
        raise ValueError("seed and replication must be non-negative")
    return np.random.SeedSequence([seed, replication, name_key(name)])


def generator(seed: int, replication: int, name: str) -> np.random.Generator:
    """A fresh PCG64 generator for one named stream."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, replication, name)))


class BufferedStream:
    """Scalar draws from one named stream, pre-drawn in blocks.

    Drawing numpy scalars one at a time costs about a microsecond each; drawing blocks
    and handing them out one by one costs a fraction of that. Each kind of variate has its
    own buffer, and a stream should serve one purpose, so the sequence a consumer sees does
    not depend on what other consumers do.
    """

    __slots__ = ("_rng", "_exp", "_exp_i", "_uni", "_uni_i", "_nor", "_nor_i")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        # Buffers fill on first use, so a stream used for one kind of variate draws only that.
        self._exp = self._uni = self._nor = np.empty(0)
        self._exp_i = self._uni_i = self._nor_i = _BLOCK

    @property
    def generator(self) -> np.random.Generator:
        """The underlying generator, for vectorised draws."""
        return self._rng

    def exponential(self, mean: float) -> float:
        """One exponential variate with the given mean."""
        i = self._exp_i
        if i == _BLOCK:
            self._exp = self._rng.standard_exponential(_BLOCK)
            i = 0
        self._exp_i = i + 1
        return mean * float(self._exp[i])

    def uniform(self) -> float:
        """One U(0, 1) variate."""
        i = self._uni_i
        if i == _BLOCK:
            self._uni = self._rng.random(_BLOCK)
            i = 0
        self._uni_i = i + 1
        return float(self._uni[i])

    def normal(self) -> float:
        """One standard normal variate."""
        i = self._nor_i
        if i == _BLOCK:
            self._nor = self._rng.standard_normal(_BLOCK)
            i = 0
        self._nor_i = i + 1
        return float(self._nor[i])


class Streams:
    """All named streams of one replication.

    Parameters
    ----------
    seed
        The run's base seed.
    replication
        Replication index, from 0.

    Examples
    --------
    >>> s = Streams(seed=1, replication=0)
    >>> a = s.buffered("arrivals/a").exponential(2.0)
    """

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = int(seed)
        self.replication = int(replication)
        self._generators: dict[str, np.random.Generator] = {}
        self._buffered: dict[str, BufferedStream] = {}

    def generator(self, name: str) -> np.random.Generator:
        """The generator for ``name`` (created on first use, then reused)."""
        rng = self._generators.get(name)
        if rng is None:
            rng = generator(self.seed, self.replication, name)
            self._generators[name] = rng
        return rng

    def buffered(self, name: str) -> BufferedStream:
        """A block-buffered scalar sampler for ``name``.

        A name is used either through :meth:`generator` or through :meth:`buffered`, not
        both, so that buffering never changes which numbers a consumer sees.
        """
        stream = self._buffered.get(name)
        if stream is None:
            if name in self._generators:
                raise ValueError(f"stream {name!r} is already used unbuffered")
            stream = BufferedStream(generator(self.seed, self.replication, name))
            self._buffered[name] = stream
        return stream

    @property
    def names(self) -> list[str]:
        """Names of every stream used so far (for the run manifest)."""
        return sorted({*self._generators, *self._buffered})
