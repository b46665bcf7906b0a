"""The spool: bounded with counted oldest-first drops, and never a crash loop on a bad file."""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import stat
from pathlib import Path

import pytest

from kitlife.agent.readings import SourceResult
from kitlife.agent.spool import Spool, SpoolError
from kitlife.protocol import decode_batch


def _cycle(n: int, rng: random.Random) -> list[SourceResult]:
    """n incompressible readings, as a many-core laptop's per-core CPU would give."""
    result = SourceResult("system")
    for i in range(n):
        result.add("cpu.busy_pct", round(rng.uniform(0, 100), 1), f"core{i}")
    return [result]


def test_counts_every_reading_added(tmp_path: Path) -> None:
    rng = random.Random(0)
    with Spool(tmp_path / "s.db") as spool:
        for t in range(5):
            assert spool.add(_cycle(7, rng), 1_700_000_000 + t) == 7
        assert spool.stats().added_points == 35
        spool.seal("dev", "t", 10)
        stats = spool.stats()
        assert (stats.added_points, stats.readings, stats.batches) == (35, 25, 1)


def test_bound_drops_oldest_first_and_counts_it(tmp_path: Path) -> None:
    rng = random.Random(1)
    bound = 256 * 1024
    t0 = 1_700_000_000
    with Spool(tmp_path / "s.db", bound) as spool:
        for i in range(400):
            spool.add(_cycle(40, rng), t0 + 60 * i)
            if i % 50 == 49:
                spool.seal("dev", "t", 1000, now_s=t0 + 60 * i)
        stats = spool.stats()
        assert stats.bytes <= bound
        assert stats.dropped_points > 0
        kept_in_batches = sum(decode_batch(b).n_points for _, b in spool.pending())
        assert stats.added_points == stats.dropped_points + stats.readings + kept_in_batches
        # What survives is the newest data: the last cycle is all there.
        newest = spool._db.execute("SELECT max(t), count(*) FROM readings").fetchone()
        assert newest[0] == t0 + 60 * 399
        oldest_kept = (
            min(min(s.timestamps_s) for _, b in spool.pending() for s in decode_batch(b).series)
            if spool.pending()
            else newest[0]
        )
        assert oldest_kept > t0  # the first cycles were evicted
    # The WAL is bounded too, so the whole spool on disk stays near the bound.
    on_disk = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert on_disk <= bound + 1024 * 1024 + 64 * 1024


def _assert_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR), Spool(tmp_path / "spool.db") as spool:
        assert spool.set_aside_as is not None
        assert spool.stats().set_aside == 1
        assert spool.meta("set_aside_name") == spool.set_aside_as
        spool.add(_cycle(3, random.Random(2)), 1_700_000_000)  # and it works
    assert (tmp_path / spool.set_aside_as).exists()
    assert "set aside" in caplog.text


def test_garbage_file_is_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "spool.db").write_bytes(b"this is not a database" * 300)
    _assert_set_aside(tmp_path, caplog)


def test_truncated_spool_is_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        for t in range(200):
            spool.add(_cycle(40, random.Random(t)), 1_700_000_000 + t)
    data = (tmp_path / "spool.db").read_bytes()
    (tmp_path / "spool.db").write_bytes(data[: len(data) // 3])
    _assert_set_aside(tmp_path, caplog)


def test_damaged_pages_are_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        for t in range(200):
            spool.add(_cycle(40, random.Random(t)), 1_700_000_000 + t)
    path = tmp_path / "spool.db"
    data = bytearray(path.read_bytes())
    for offset in range(4096 * 2, len(data), 4096 * 3):  # scribble over every third page
        data[offset + 8 : offset + 200] = bytes(range(192))
    path.write_bytes(bytes(data))
    _assert_set_aside(tmp_path, caplog)


def test_foreign_sqlite_file_is_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = sqlite3.connect(tmp_path / "spool.db")
    db.execute("CREATE TABLE someone_elses (x)")
    db.commit()
    db.close()
    _assert_set_aside(tmp_path, caplog)


def test_a_second_set_aside_gets_its_own_name(tmp_path: Path) -> None:
    names = set()
    for _ in range(2):
        (tmp_path / "spool.db").write_bytes(b"junk" * 2000)
        with Spool(tmp_path / "spool.db") as spool:
            names.add(spool.set_aside_as)
    assert len(names) == 2
    assert len(list(tmp_path.glob("spool.db.bad-*"))) >= 2


def test_locked_spool_is_not_thrown_away(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path) as spool:
        spool.add(_cycle(5, random.Random(3)), 1_700_000_000)
    # Another process holds an exclusive lock (what a stuck writer looks like).
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(SpoolError, match="not usable now"):
            Spool(path, busy_timeout_s=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not list(tmp_path.glob("spool.db.bad-*"))
    with Spool(path) as spool:
        assert spool.stats().readings == 5


def test_readonly_open_never_changes_anything(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with pytest.raises(SpoolError):
        Spool(path, readonly=True)
    assert not path.exists()
    path.write_bytes(b"junk" * 2000)
    with pytest.raises(SpoolError):
        Spool(path, readonly=True)
    assert path.read_bytes() == b"junk" * 2000
    assert not list(tmp_path.glob("spool.db.bad-*"))


def test_child_mode_refuses_to_repair(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    path.write_bytes(b"junk" * 2000)
    with pytest.raises(SpoolError, match="damaged"):
        Spool(path, repair=False)
    assert path.read_bytes() == b"junk" * 2000


def test_spool_created_without_an_id_gets_one(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path) as spool:
        spool._db.execute("DELETE FROM meta WHERE key='spool_id'")
    with Spool(path) as spool:
        assert len(spool.meta("spool_id")) == 32


def test_durability_settings_are_wal_and_full_sync(tmp_path: Path) -> None:
    """The exactly-once upload rests on FULL: a sealed batch id must survive power loss.

    NORMAL would save no CPU (measured: the fsync is one blocking call inside a
    cycle that is awake anyway) and could roll back a seal whose batch the
    collector already has; see the spool module's docstring.
    """
    with Spool(tmp_path / "s.db") as spool:
        assert spool._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert spool._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_size_and_counter_agree_with_the_pragmas_across_reopens(tmp_path: Path) -> None:
    rng = random.Random(1)
    for _ in range(3):
        with Spool(tmp_path / "s.db") as spool:
            spool.add(_cycle(50, rng), 1_700_000_000)
            db = spool._db
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            free = db.execute("PRAGMA freelist_count").fetchone()[0]
            size = db.execute("PRAGMA page_size").fetchone()[0]
            assert spool.size_bytes() == (pages - free) * size > 0
    with Spool(tmp_path / "s.db") as spool:
        assert spool.stats().added_points == 150
        assert spool.meta("added_points") == "150"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_state_folder_and_spool_are_owner_only_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    from kitlife.agent.credentials import Credentials, save_credentials

    state = tmp_path / "state"
    old = os.umask(umask)
    try:
        with Spool(state / "spool.db") as spool:
            spool.add(_cycle(3, random.Random(5)), 1_700_000_000)
            files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in state.iterdir()}
        save_credentials(state, Credentials("https://c", "dev", "key"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert {"spool.db", "spool.db-wal", "spool.db-shm"} <= set(files)
    assert set(files.values()) == {0o600}, files
    assert stat.S_IMODE((state / "device.json").stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_folder_an_older_agent_left_open_is_tightened(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    (state / "spool.db").touch(mode=0o644)
    os.chmod(state, 0o755)
    os.chmod(state / "spool.db", 0o644)
    Spool(state / "spool.db").close()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "spool.db").stat().st_mode) == 0o600
