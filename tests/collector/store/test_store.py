"""The store on both databases: enrolment, idempotent ingest, derived rows."""

from __future__ import annotations

import time

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
    row = store.find_device("SER123")
    assert (row["hostname"], row["batches"], row["points"]) == ("host-a", 1, 6)
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
