"""The replication cache: exact round trips, keys that ignore only execution settings, and
entries that are discarded, never returned, when damaged."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from sim.models.base import ReplicationResult
from sim.run.cache import ReplicationCache, cache_key, library_versions


def test_round_trip_is_exact(tmp_path):
    """A stored result loads back with identical metrics (bit for bit), order and tables."""
    table = pd.DataFrame({"time_days": [0.0, 1.0], "beds": [3.0, 4.0]})
    result = ReplicationResult(
        replication=3,
        metrics={"b": 0.1 + 0.2, "a": 1 / 3},
        tables={"timeseries": table},
        diagnostics={"events": 10.0},
    )
    cache = ReplicationCache(tmp_path, "k")
    assert cache.load(3) is None
    cache.store(result)
    loaded = cache.load(3)
    assert loaded is not None
    assert list(loaded.metrics.items()) == list(result.metrics.items())
    pd.testing.assert_frame_equal(loaded.tables["timeseries"], table)
    assert not [p for p in (tmp_path / "k").iterdir() if p.name.startswith(".tmp")]


def test_key_ignores_execution_settings_only():
    """Replications, workers, progress and cache flags do not change the key; a seed does."""
    base = {"run": {"seed": 1, "replications": 5, "workers": 1, "progress": True}, "model": {}}
    same = {"run": {"seed": 1, "replications": 50, "workers": 2, "progress": False}, "model": {}}
    other = {"run": {"seed": 2, "replications": 5, "workers": 1, "progress": True}, "model": {}}
    assert cache_key(base) == cache_key(same)
    assert cache_key(base) != cache_key(other)


# --------------------------------------------------------------------------- cannot lie
def _result(replication: int = 0) -> ReplicationResult:
    table = pd.DataFrame({"time_days": [0.0, 1.0, 2.0], "beds": [3.0, 4.0, 5.0]})
    return ReplicationResult(
        replication=replication,
        metrics={"wait_mean__a": 1.525, "utilisation__a": 0.9},
        tables={"timeseries": table},
        diagnostics={"events": 10.0},
    )


def _stored(tmp_path: Path) -> tuple[ReplicationCache, Path]:
    cache = ReplicationCache(tmp_path, "k")
    cache.store(_result(0))
    return cache, tmp_path / "k" / "rep-000000"


def _change_one_digit(entry: Path) -> None:
    text = (entry / "result.json").read_text()
    assert "1.525" in text, text
    (entry / "result.json").write_text(text.replace("1.525", "1.526"))


def _truncate_json(entry: Path) -> None:
    path = entry / "result.json"
    path.write_bytes(path.read_bytes()[:40])


def _empty_json(entry: Path) -> None:
    (entry / "result.json").write_bytes(b"")


def _binary_json(entry: Path) -> None:
    (entry / "result.json").write_bytes(bytes(range(256)))


def _json_list(entry: Path) -> None:
    (entry / "result.json").write_text("[1, 2, 3]")


def _missing_json(entry: Path) -> None:
    (entry / "result.json").unlink()


def _old_format(entry: Path) -> None:
    meta = json.loads((entry / "result.json").read_text())
    for key in ("format", "checksum", "files"):
        meta.pop(key)
    (entry / "result.json").write_text(json.dumps(meta))


def _truncate_parquet(entry: Path) -> None:
    path = entry / "timeseries.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_parquet_byte(entry: Path) -> None:
    path = entry / "timeseries.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _missing_parquet(entry: Path) -> None:
    (entry / "timeseries.parquet").unlink()


def _entry_is_a_file(entry: Path) -> None:
    shutil.rmtree(entry)
    entry.write_text("not an entry")


def _swap_checksum_of_metrics(entry: Path) -> None:
    meta = json.loads((entry / "result.json").read_text())
    meta["metrics"][0][1] = 99.0  # a plausible number, checksum left as it was
    (entry / "result.json").write_text(json.dumps(meta))


CORRUPTIONS = {
    "one_digit_changed": _change_one_digit,
    "result_json_truncated": _truncate_json,
    "result_json_empty": _empty_json,
    "result_json_binary": _binary_json,
    "result_json_wrong_shape": _json_list,
    "result_json_missing": _missing_json,
    "entry_of_old_format": _old_format,
    "parquet_truncated": _truncate_parquet,
    "parquet_one_bit_flipped": _flip_parquet_byte,
    "parquet_missing": _missing_parquet,
    "entry_is_a_file": _entry_is_a_file,
    "metric_replaced": _swap_checksum_of_metrics,
}


@pytest.mark.parametrize("damage", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_a_damaged_entry_is_discarded_with_one_line_never_returned(tmp_path, capsys, damage):
    """Every kind of damage to an entry makes ``load`` return None, say so in one stderr
    line naming the entry, and remove it, so the replication is simulated and stored again."""
    cache, entry = _stored(tmp_path)
    CORRUPTIONS[damage](entry)
    assert cache.load(0) is None, f"{damage}: a damaged entry was returned"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nhsim: cache: discarded replication 0"), err
    assert str(entry) in err[0], err
    assert not entry.exists(), f"{damage}: the damaged entry is still there"
    leftovers = [p.name for p in (tmp_path / "k").iterdir()]
    assert leftovers == [], f"{damage}: left {leftovers}"
    cache.store(_result(0))  # the recomputed result takes its place
    again = cache.load(0)
    assert again is not None and again.metrics == _result(0).metrics, again
    assert capsys.readouterr().err == ""


def test_an_intact_entry_loads_without_a_word(tmp_path, capsys):
    """An untouched entry loads silently, with the stored numbers."""
    cache, _ = _stored(tmp_path)
    loaded = cache.load(0)
    assert loaded is not None and loaded.metrics == _result(0).metrics, loaded
    assert capsys.readouterr().err == ""


def test_key_includes_the_versions_of_result_libraries():
    """Another numpy (or simpy, pandas, scipy) version gives another key; the installed
    versions are part of the default key."""
    config = {"run": {"seed": 1}, "model": {}}
    one = cache_key(config, libraries=(("numpy", "1.26.0"), ("simpy", "4.1.1")))
    two = cache_key(config, libraries=(("numpy", "2.0.0"), ("simpy", "4.1.1")))
    three = cache_key(config, libraries=(("numpy", "1.26.0"), ("simpy", "4.1.2")))
    assert len({one, two, three}) == 3, (one, two, three)
    names = [name for name, _ in library_versions()]
    for name in ("python", "numpy", "simpy", "pandas", "scipy"):
        assert name in names, names
    assert cache_key(config) == cache_key(config, libraries=library_versions())


def test_key_ignores_the_overwrite_switch():
    """``run.overwrite`` decides where a run may write, never what it computes."""
    base = {"run": {"seed": 1, "overwrite": False}, "model": {}}
    same = {"run": {"seed": 1, "overwrite": True}, "model": {}}
    assert cache_key(base) == cache_key(same)


def test_entries_are_written_with_the_umask(tmp_path):
    """Under umask 022 a cache entry is a 0755 directory of 0644 files (not mkdtemp's 0700)."""
    old = os.umask(0o022)
    try:
        cache, entry = _stored(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o755, oct(entry.stat().st_mode)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in entry.iterdir()}
    assert set(modes.values()) == {0o644}, {k: oct(v) for k, v in modes.items()}


def _store_many(root: str) -> None:
    cache = ReplicationCache(Path(root), "k")
    for r in range(40):
        cache.store(_result(r))


def test_two_processes_storing_the_same_entries_do_not_corrupt_them(tmp_path, capsys):
    """Two processes storing the same 40 replications at once leave 40 intact entries and
    no temporary directory; every entry loads without being discarded."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_store_many, args=(str(tmp_path),)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0], [p.exitcode for p in procs]
    names = sorted(p.name for p in (tmp_path / "k").iterdir())
    assert names == [f"rep-{r:06d}" for r in range(40)], names
    cache = ReplicationCache(tmp_path, "k")
    for r in range(40):
        loaded = cache.load(r)
        assert loaded is not None and loaded.replication == r, r
    assert capsys.readouterr().err == ""


def test_a_run_with_a_corrupt_entry_recomputes_the_same_numbers(tmp_path, compose_cfg, capsys):
    """With one entry altered by one digit, a real (queue model) run simulates that
    replication again and gets exactly the numbers of an uncached run."""
    from sim.config.params import to_container, validate
    from sim.run.replications import run_replications

    cfg = compose_cfg("model=queue", "run.replications=2", "run.horizon=300", "run.warm_up=30")
    params = validate(cfg)
    fresh = run_replications(params)
    cache = ReplicationCache(tmp_path, cache_key(to_container(cfg)))
    run_replications(params, cache=cache)
    entry = cache.dir / "rep-000001"
    meta = json.loads((entry / "result.json").read_text())
    meta["metrics"][0][1] = float(meta["metrics"][0][1]) + 1.0
    (entry / "result.json").write_text(json.dumps(meta))
    capsys.readouterr()
    again = run_replications(params, cache=cache)
    err = capsys.readouterr().err
    assert "discarded replication 1" in err, err
    assert [r.metrics for r in again] == [r.metrics for r in fresh]
