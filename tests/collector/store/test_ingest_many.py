"""Group commit in the store: many batches in one transaction, each judged on its own."""

from __future__ import annotations

import pytest

from kitlife.collector.store import NotFoundError, Store
from kitlife.collector.store.ingest import Item, RevokedError
from kitlife.collector.store.secrets import hash_secret
from kitlife.protocol import Batch, Series, decode_summary, encode_batch

T0 = 1_790_000_000 - 1_790_000_000 % 86400


def _item(store: Store, key: str, seq: int, t: int, v: float) -> Item:
    dev = store.device_for_key(key)
    assert dev is not None
    b = Batch(dev.uid, "s", seq, t, "test", (Series(5, "", (t,), (v,), -1),))
    body = encode_batch(b)
    return Item(dev.id, dev.uid, decode_summary(body), body, hash_secret(key))


def test_group_stores_each_once_and_merges_one_device_twice(store: Store) -> None:
    token = store.create_enrol_token(2, 60)
    _, key_a = store.enroll(token, {"inv.hostname": "a"})
    _, key_b = store.enroll(token, {"inv.hostname": "b"})
    a1 = _item(store, key_a, 1, T0 + 100, 50.0)
    a2 = _item(store, key_a, 2, T0 + 200, 5.0)
    b1 = _item(store, key_b, 1, T0 + 100, 7.0)
    assert store.ingest_many([a1, a2, b1, a1]) == [True, True, True, False]
    dev_a = store.find_device("a")
    assert (dev_a["batches"], dev_a["points"]) == (2, 2)
    (rollup,) = store.daily_rollups(dev_a["id"], [5])
    assert (rollup["n"], rollup["min"], rollup["max"], rollup["last"]) == (2, 5.0, 50.0, 5.0)
    (latest,) = store.latest_readings(dev_a["id"])
    assert latest["num"] == 5.0
    assert store.batch_count() == 3


def test_revoked_key_in_a_group_fails_alone(store: Store) -> None:
    token = store.create_enrol_token(2, 60)
    _, key_a = store.enroll(token, {"inv.hostname": "a"})
    _, key_b = store.enroll(token, {"inv.hostname": "b"})
    a1 = _item(store, key_a, 1, T0, 1.0)
    b1 = _item(store, key_b, 1, T0, 1.0)
    store.revoke_device("a")
    result = store.ingest_many([a1, b1])
    assert isinstance(result[0], RevokedError) and result[1] is True
    assert store.batch_count() == 1


def test_nul_characters_are_stored_alike_on_both_databases(store: Store) -> None:
    """PostgreSQL text cannot hold NUL; the store replaces it so both databases agree."""
    from kitlife.protocol import Text, Unavailable

    _, key = store.enroll(store.create_enrol_token(1, 60), {})
    dev = store.device_for_key(key)
    assert dev is not None
    b = Batch(
        dev.uid,
        "sp\0ol",
        1,
        T0,
        "v\0",
        (Series(5, "c\0", (T0,), (1.0,), -1),),
        (Text(400, "", T0, "host\0name"),),
        (Unavailable("src\0", "", "why\0"),),
    )
    assert store.ingest(dev, encode_batch(b)) is True
    assert store.ingest(dev, encode_batch(b)) is False
    assert store.find_device(dev.uid)["hostname"] == "host\ufffdname"
    assert {r["component"] for r in store.latest_readings(dev.id)} == {"c\ufffd", ""}
    assert store.unavailable_sources(dev.id)[0]["reason"] == "why\ufffd"
    with pytest.raises(NotFoundError):
        store.find_device("host\0name")
