"""Named random streams: derived from (seed, replication, name), stable and independent."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sim.rng import BufferedStream, Streams, generator, name_key, seed_sequence

NAMES = ("arrivals/a", "service/a", "routing/b", "priority/c", "")


def _draws(seed: int, replication: int, name: str, n: int = 5) -> list[float]:
    return generator(seed, replication, name).random(n).tolist()


def test_name_key_is_blake2b_of_the_utf8_name():
    """The name's integer is the documented BLAKE2b-64 digest, not Python's salted hash()."""
    for name in (*NAMES, "ünïcode/stream"):
        digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
        assert name_key(name) == int.from_bytes(digest, "little")
        assert 0 <= name_key(name) < 2**64


def test_stream_is_pcg64_seeded_from_seed_replication_and_name():
    """A stream equals PCG64(SeedSequence([seed, replication, name_key(name)])), as documented."""
    seed, rep, name = 20261125, 3, "service/a"
    expected = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, rep, name_key(name)]))
    )
    assert generator(seed, rep, name).random(10).tolist() == expected.random(10).tolist()
    assert seed_sequence(seed, rep, name).entropy == [seed, rep, name_key(name)]


_CHILD = """
import json, sys
from sim.rng import generator, name_key
names = json.loads(sys.argv[1])
print(json.dumps({n: [name_key(n), generator(7, 2, n).random(4).tolist()] for n in names}))
"""


@pytest.mark.parametrize("hash_seed", ["0", "1", "12345"])
def test_streams_are_identical_in_other_processes_whatever_the_hash_seed(hash_seed):
    """Keys and draws do not depend on the process or on PYTHONHASHSEED."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(NAMES)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    child = json.loads(out.stdout)
    for name in NAMES:
        assert child[name] == [name_key(name), generator(7, 2, name).random(4).tolist()], name


def test_streams_do_not_depend_on_creation_order_or_other_streams():
    """A stream's numbers are the same whichever streams were created or used before it."""
    first, second = Streams(seed=11, replication=0), Streams(seed=11, replication=0)
    a1 = first.generator("arrivals/a").random(8)
    b1 = first.generator("service/a").random(8)
    # Reverse order, and draw heavily from an unrelated stream in between.
    b2 = second.generator("service/a").random(8)
    second.generator("routing/a").random(10_000)
    a2 = second.generator("arrivals/a").random(8)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)


def test_generator_is_created_once_per_name_and_continues():
    """Asking for the same name again continues the same generator rather than restarting it."""
    s = Streams(seed=5, replication=1)
    x = s.generator("arrivals/a").random(3)
    y = s.generator("arrivals/a").random(3)
    expected = generator(5, 1, "arrivals/a").random(6)
    np.testing.assert_array_equal(np.concatenate([x, y]), expected)
    assert s.names == ["arrivals/a"]


@pytest.mark.parametrize(
    ("other", "what"),
    [
        ((1, 0, "arrivals/b"), "name"),
        ((1, 1, "arrivals/a"), "replication"),
        ((2, 0, "arrivals/a"), "seed"),
    ],
)
def test_changing_any_part_of_the_key_gives_a_different_stream(other, what):
    """Seed, replication and name each select a different stream."""
    base = _draws(1, 0, "arrivals/a", 20)
    changed = _draws(*other, 20)
    assert all(a != b for a, b in zip(base, changed, strict=True)), what


def test_many_names_give_pairwise_different_streams():
    """No two of many stream names share a key or a first draw."""
    names = [f"{kind}/{node}" for kind in ("arrivals", "service", "routing") for node in "abcdefgh"]
    keys = {name_key(n) for n in names}
    firsts = {generator(3, 0, n).random() for n in names}
    assert len(keys) == len(firsts) == len(names)


def test_negative_seed_or_replication_is_rejected():
    """Seeds and replication indices are non-negative."""
    with pytest.raises(ValueError):
        seed_sequence(-1, 0, "a")
    with pytest.raises(ValueError):
        seed_sequence(0, -1, "a")


def test_buffered_stream_hands_out_the_generators_numbers_across_blocks():
    """Buffered scalars equal the vectorised draws of the same stream, across block edges."""
    n = 10_000  # more than two 4096-wide blocks
    for kind in ("exponential", "uniform", "normal"):
        stream = BufferedStream(generator(9, 0, "s"))
        if kind == "exponential":
            got = [stream.exponential(2.5) for _ in range(n)]
            want = 2.5 * generator(9, 0, "s").standard_exponential(n)
        elif kind == "uniform":
            got = [stream.uniform() for _ in range(n)]
            want = generator(9, 0, "s").random(n)
        else:
            got = [stream.normal() for _ in range(n)]
            want = generator(9, 0, "s").standard_normal(n)
        np.testing.assert_array_equal(np.array(got), want, err_msg=kind)


def test_a_name_is_either_buffered_or_unbuffered():
    """Using a name unbuffered and then buffered is refused; buffered streams are reused."""
    s = Streams(seed=1, replication=0)
    s.generator("x")
    with pytest.raises(ValueError, match="already used unbuffered"):
        s.buffered("x")
    assert s.buffered("y") is s.buffered("y")
    assert s.names == ["x", "y"]
