"""The store on both databases: enrolment, idempotent ingest, derived rows."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kitlife.collector.store import AuthError, Store
from kitlife.protocol import Batch, Series, Text, Unavailable, encode_batch


def _batch(uid: str, seq: int, t0: int) -> Batch:
    return Batch(
        uid,
        "spoolA",
        seq,
        t0 + 120,
        "test",
        (
            Series(5, "", (t0, t0 + 60, t0 + 120), (10.0, 30.0, 20.0), -1),
            Series(9999, "", (t0,), (1.0,), 0),
        ),
        (Text(400, "", t0, "host-a"), Text(406, "", t0, "SER123")),
        (Unavailable("battery", "", "no battery"),),
    )


def test_enrol_token_is_use_limited(store: Store) -> None:
    token = store.create_enrol_token(uses=1, expires_in_s=60)
    store.enroll(token, {"inv.hostname": "a"})
    with pytest.raises(AuthError):
        store.enroll(token, {"inv.hostname": "b"})


def test_expired_enrol_token_is_refused(store: Store) -> None:
    token = store.create_enrol_token(uses=5, expires_in_s=1)
    time.sleep(1.1)
    with pytest.raises(AuthError):
        store.enroll(token, {})


def test_batch_stored_once_with_rollups_and_latest(store: Store) -> None:
    uid, key = store.enroll(store.create_enrol_token(1, 60), {"inv.hostname": "host-a"})
    device = store.device_for_key(key)
    assert device is not None and device.uid == uid
    t0 = 1_790_000_000 - 1_790_000_000 % 86400  # start of a day
    batch = _batch(uid, 1, t0)
    body = encode_batch(batch)
    assert store.ingest(device, body) is True
    assert store.ingest(device, body) is False
    assert store.batch_count(device.id) == 1
    latest = {(r["metric_id"], r["component"]): r for r in store.latest_readings(device.id)}
    assert latest[(5, "")]["num"] == pytest.approx(20.0)
    assert latest[(406, "")]["txt"] == "SER123"
    assert (9999, "") not in latest  # unknown metric ids stay in the raw chunk only
    (rollup,) = store.daily_rollups(device.id, [5])
    assert (rollup["n"], rollup["min"], rollup["max"], rollup["last"]) == (3, 10.0, 30.0, 20.0)
    assert rollup["sum"] == pytest.approx(60.0)
    assert store.batch_bodies(device.id) == [body]
    row = store.find_device("host-a")  # the hostname from the batch; the serial is enrolment's
    assert (row["hostname"], row["batches"], row["points"], row["serial"]) == ("host-a", 1, 6, "")
    assert [u["reason"] for u in store.unavailable_sources(device.id)] == ["no battery"]


def test_rollups_merge_across_batches(store: Store) -> None:
    uid, key = store.enroll(store.create_enrol_token(1, 60), {})
    device = store.device_for_key(key)
    assert device is not None
    t0 = 1_790_000_000 - 1_790_000_000 % 86400
    for seq, (t, v) in enumerate([(t0 + 500, 5.0), (t0 + 100, 50.0)], start=1):
        b = Batch(uid, "s", seq, t, "test", (Series(5, "", (t,), (v,), -1),))
        store.ingest(device, encode_batch(b))
    (rollup,) = store.daily_rollups(device.id, [5])
    assert (rollup["n"], rollup["min"], rollup["max"]) == (2, 5.0, 50.0)
    assert rollup["last"] == 5.0  # the later reading, though it arrived first
    (latest,) = [r for r in store.latest_readings(device.id) if r["metric_id"] == 5]
    assert latest["num"] == 5.0


def test_revoked_device_key_stops_at_once(store: Store) -> None:
    _uid, key = store.enroll(store.create_enrol_token(1, 60), {"inv.hostname": "gone"})
    assert store.device_for_key(key) is not None
    store.revoke_device("gone")
    assert store.device_for_key(key) is None


def test_api_token_roles(store: Store) -> None:
    admin = store.create_api_token("admin", "ops")
    desk = store.create_api_token("servicedesk", "desk")
    assert store.role_for_token(admin) == "admin"
    assert store.role_for_token(desk) == "servicedesk"
    assert store.role_for_token("kla_nonsense") is None
    (desk_row,) = [t for t in store.list_tokens() if t["role"] == "servicedesk"]
    store.revoke_token(desk_row["id"])
    assert store.role_for_token(desk) is None


def test_prune_keeps_rollups(store: Store) -> None:
    uid, key = store.enroll(store.create_enrol_token(1, 60), {})
    device = store.device_for_key(key)
    assert device is not None
    b = _batch(uid, 1, 1_700_000_000)
    store.ingest(device, encode_batch(b), now_s=1_700_000_000)
    assert store.prune(retention_days=90) == 1
    assert store.batch_count() == 0
    assert store.daily_rollups(device.id, [5])


def test_the_sqlite_file_and_its_companions_are_private(tmp_path: Path) -> None:
    """Issue 19.9: the database holds digests, hostnames and readings: 0600, not 0644."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        store = Store.from_url(f"sqlite:///{tmp_path / 'new' / 'kitlife.sqlite3'}")
        store.upgrade()
        store.enroll(store.create_enrol_token(1, 600), {"inv.hostname": "h"})
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "new").iterdir()}
        store.close()
    finally:
        os.umask(old)
    assert modes["kitlife.sqlite3"] == 0o600
    assert all(m & 0o077 == 0 for m in modes.values()), modes
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    import stat

    path = tmp_path / "old.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    Store.from_url(f"sqlite:///{path}").close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
