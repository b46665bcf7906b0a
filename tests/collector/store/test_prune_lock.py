"""Scheduled prunes: on PostgreSQL one worker deletes at a time, the others skip the round."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from kitlife.collector.store import Store
from kitlife.protocol import Batch, Series, encode_batch
from tests.collector.conftest import open_store

OLD = 1_700_000_000
NOW = OLD + 100 * 86400


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    yield from open_store(pg_url)


def _old_batch(store: Store) -> None:
    uid, key = store.enroll(store.create_enrol_token(1, 600), {"inv.hostname": "old"})
    device = store.device_for_key(key)
    assert device is not None
    b = Batch(uid, "s", 1, OLD, "t", (Series(5, "", (OLD,), (1.0,)),))
    store.ingest(device, encode_batch(b), now_s=OLD)


def _prunes(store: Store) -> list[str]:
    return [e["detail"] for e in store.audit_entries() if e["action"] == "db.prune"]


def test_prune_if_free_prunes_when_nobody_else_does(store: Store) -> None:
    _old_batch(store)
    assert store.prune_if_free(90, NOW) == 1
    assert store.prune_if_free(90, NOW) == 0  # and the lock was given back
    assert store.batch_count() == 0


def test_a_second_worker_skips_while_the_first_prunes(pg_store: Store, pg_url: str) -> None:
    """Worker A is held inside its delete (a row lock taken here); worker B must not queue."""
    _old_batch(pg_store)
    schema = pg_url.rsplit("%3D", 1)[1]
    plain = pg_url.split("?", maxsplit=1)[0].replace("+psycopg", "")
    worker_b = Store.from_url(pg_url)  # another process's pool, as another uvicorn worker
    results: dict[str, int | None] = {}
    with psycopg.connect(plain, options=f"-csearch_path={schema}") as blocker:
        blocker.execute("SELECT id FROM batches FOR UPDATE")  # open transaction holds the row
        a = threading.Thread(target=lambda: results.update(a=pg_store.prune_if_free(90, NOW)))
        a.start()
        deadline = time.monotonic() + 10
        while not _advisory_lock_held(plain, schema):  # A has the lock and waits on the row
            assert time.monotonic() < deadline, "worker A never took the prune lock"
            time.sleep(0.02)
        b = threading.Thread(target=lambda: results.update(b=worker_b.prune_if_free(90, NOW)))
        b.start()
        b.join(5)
        assert not b.is_alive(), "worker B queued behind worker A instead of skipping"
        blocker.rollback()
    a.join(10)
    worker_b.close()
    assert results == {"a": 1, "b": None}
    assert _prunes(pg_store) == ["1 batches older than 90 days"]  # one delete, one audit entry
    assert pg_store.prune_if_free(90, NOW) == 0  # A gave the lock back


def _advisory_lock_held(plain: str, schema: str) -> bool:
    """This schema's prune lock is granted (other test sessions may share the database)."""
    with psycopg.connect(plain) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid::bigint = (hashtext(%s)::bigint & 4294967295)",
            (0x6B6C, schema),
        ).fetchone()
    return bool(row and row[0])
