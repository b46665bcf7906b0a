"""POST /v1/batches over real HTTP: stored once, acked after commit, refusals write nothing."""

from __future__ import annotations

from kitlife.protocol import CONTENT_TYPE, Batch, Series, encode_batch
from tests.collector.api.conftest import Live

T0 = 1_790_000_000


def body_for(uid: str, seq: int = 1) -> bytes:
    return encode_batch(Batch(uid, "s", seq, T0, "t", (Series(5, "", (T0,), (42.0,), -1),)))


def post(live: Live, key: str, body: bytes) -> tuple[int, dict[str, object]]:
    with live.client(key) as c:
        r = c.post("/v1/batches", content=body, headers={"Content-Type": CONTENT_TYPE})
    return r.status_code, r.json()


def test_batch_is_stored_once_and_a_retry_is_acked_as_duplicate(live: Live) -> None:
    uid, key = live.enroll()
    code, ack = post(live, key, body_for(uid))
    assert (code, ack["accepted"], ack["duplicate"]) == (200, ["s:1"], False)
    code, ack = post(live, key, body_for(uid))
    assert (code, ack["duplicate"]) == (200, True)
    assert live.store.batch_count() == 1


def test_another_devices_batch_is_forbidden(live: Live) -> None:
    uid_a, _ = live.enroll("a")
    _, key_b = live.enroll("b")
    code, _ = post(live, key_b, body_for(uid_a))
    assert code == 403
    assert live.store.batch_count() == 0


def test_revoked_key_stops_at_once(live: Live) -> None:
    uid, key = live.enroll("gone")
    assert post(live, key, body_for(uid, 1))[0] == 200  # now the key is cached
    live.store.revoke_device("gone")
    assert post(live, key, body_for(uid, 2))[0] == 401
    assert live.store.batch_count() == 1


def test_key_revoked_by_another_process_stops_at_the_write(live: Live) -> None:
    """A second Store stands for the CLI or another worker: this process's cache never hears."""
    from kitlife.collector.store import Store

    uid, key = live.enroll("elsewhere")
    assert post(live, key, body_for(uid, 1))[0] == 200
    other = Store.from_url(live.store.engine.url.render_as_string(hide_password=False))
    try:
        other.revoke_device("elsewhere")
    finally:
        other.close()
    assert post(live, key, body_for(uid, 2))[0] == 401
    assert live.store.batch_count() == 1


def test_the_longest_batch_id_the_protocol_allows_is_stored(live: Live) -> None:
    """A 128-byte spool id and a 19-digit seq: 181 characters of batch id, over the column's
    160 (a fuzzer found it: 503 on PostgreSQL, for ever). Stored once, a retry recognised."""
    uid, key = live.enroll()
    body = encode_batch(
        Batch(uid, "s" * 128, 2**63 - 1, T0, "t", (Series(5, "", (T0,), (42.0,), -1),))
    )
    assert post(live, key, body)[0] == 200
    assert post(live, key, body)[1]["duplicate"] is True
    assert live.store.batch_count() == 1
