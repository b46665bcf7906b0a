"""Bad input and overload on POST /v1/batches: a 4xx, nothing written, nothing read in vain."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy import select as sql_select

from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store.schema import batches, device_days, device_state
from kitlife.protocol import CONTENT_TYPE, ProtocolError, decode_batch
from tests.collector.api.conftest import Live, running
from tests.collector.api.test_ingest_http import body_for, post


def _counts(live: Live) -> tuple[object, ...]:
    """What a write would change: the batch count and every derived row, whole."""
    with live.store.engine.connect() as conn:
        return (
            int(conn.execute(sql_select(func.count()).select_from(batches)).scalar_one()),
            sorted(tuple(r) for r in conn.execute(sql_select(device_days))),
            sorted(tuple(r) for r in conn.execute(sql_select(device_state))),
        )


def test_made_up_and_truncated_batches_get_4xx_and_write_nothing(live: Live) -> None:
    uid, key = live.enroll()
    good = body_for(uid)
    before = _counts(live)
    client = live.client(key)
    headers = {"Content-Type": CONTENT_TYPE}
    stored = [0]

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        st.one_of(
            st.binary(max_size=2048),
            st.integers(0, len(good) - 1).map(lambda n: good[:n]),  # truncated
            st.tuples(st.integers(4, len(good) - 1), st.binary(min_size=1, max_size=8)).map(
                lambda t: good[: t[0]] + t[1] + good[t[0] + len(t[1]) :]  # corrupted
            ),
        )
    )
    def check(body: bytes) -> None:
        r = client.post("/v1/batches", content=body, headers=headers)
        try:
            valid = decode_batch(body).device_id == uid
        except ProtocolError:
            valid = False
        if valid:
            # A flipped byte can still decode to a well-formed batch (v1 carries no
            # checksum; TLS guards the transit): it is then stored like any other.
            assert r.status_code == 200
            stored[0] += not r.json()["duplicate"]
        else:
            assert 400 <= r.status_code < 500, (r.status_code, r.text)

    try:
        check()
    finally:
        client.close()
    after = _counts(live)
    assert after[0] == before[0] + stored[0]
    if not stored[0]:
        assert after == before


def test_declared_oversize_gets_413_without_reading(live: Live) -> None:
    _, key = live.enroll()
    with socket.create_connection(("127.0.0.1", live.server.config.port)) as s:
        s.sendall(
            f"POST /v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: {CONTENT_TYPE}\r\nContent-Length: {1 << 40}\r\n\r\n".encode()
        )
        assert s.recv(4096).startswith(b"HTTP/1.1 413")


def test_chunked_endless_body_is_cut_off_at_the_limit(live: Live) -> None:
    """No Content-Length: the server counts while reading and answers 413 near the limit."""
    _, key = live.enroll()
    limit = Settings().limits.max_compressed_bytes
    chunk = b"\0" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    reply = b""
    with socket.create_connection(("127.0.0.1", live.server.config.port)) as s:
        s.sendall(
            f"POST /v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: {CONTENT_TYPE}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        s.setblocking(False)
        deadline = time.monotonic() + 20
        while not reply and sent < 256 * limit and time.monotonic() < deadline:
            readable, writable, _ = select.select([s], [s], [], 1.0)
            if readable:
                reply = s.recv(4096)
            elif writable:
                with contextlib.suppress(BlockingIOError):
                    sent += s.send(frame)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    # It stopped reading near the limit, not at our 256 MiB; socket buffers hold a few MiB.
    assert sent < 32 * limit


@contextlib.contextmanager
def _writes_blocked(live: Live) -> Iterator[None]:
    """Another connection holds the database's write lock: the collector's writer waits."""
    with live.store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.begin()
            conn.exec_driver_sql("LOCK TABLE batches IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


def _send_in_thread(live: Live, key: str, body: bytes) -> tuple[threading.Thread, list[int]]:
    codes: list[int] = []

    def send() -> None:
        codes.append(post(live, key, body)[0])

    thread = threading.Thread(target=send)
    thread.start()
    return thread, codes


def test_overload_answers_429_with_retry_after(db_url: str) -> None:
    """One slot: a batch waiting for the database holds it; the next is told to come back."""
    settings = Settings(db_url=db_url, max_inflight_ingests=1, prune_interval_s=0)
    with running(settings) as live:
        uid_a, key_a = live.enroll("a")
        uid_b, key_b = live.enroll("b")
        with _writes_blocked(live):
            thread, codes = _send_in_thread(live, key_a, body_for(uid_a))
            time.sleep(0.5)  # admitted, its write waiting for the lock
            with live.client(key_b) as c:
                r = c.post(
                    "/v1/batches", content=body_for(uid_b), headers={"Content-Type": CONTENT_TYPE}
                )
            assert r.status_code == 429
            assert int(r.headers["Retry-After"]) == settings.retry_after_s
        thread.join(30)
        assert codes == [200]
        # the slot is free again
        assert post(live, key_b, body_for(uid_b))[0] == 200
        assert live.store.batch_count() == 2


def _stalled(live: Live, key: str, body: bytes) -> socket.socket:
    """A connection that sent its headers and three bytes of its body, then nothing."""
    s = socket.create_connection(("127.0.0.1", live.server.config.port))
    s.sendall(
        f"POST /v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body[:3]
    )
    return s


def test_slow_bodies_hold_no_slot_and_time_out(db_url: str) -> None:
    """Issue 19.4: 64 stalled bodies (the whole admission limit) lock no other device out."""
    settings = Settings(
        db_url=db_url, max_inflight_ingests=64, prune_interval_s=0, body_timeout_s=2.0
    )
    with running(settings) as live:
        devices = [live.enroll(f"slow{i}") for i in range(32)]
        uid, key = live.enroll("victim")
        stalled = [
            _stalled(live, k, body_for(u)) for u, k in devices for _ in range(2)
        ]  # two each: the per-device limit
        try:
            time.sleep(0.3)
            t0 = time.monotonic()
            assert post(live, key, body_for(uid))[0] == 200
            assert time.monotonic() - t0 < 1.0
            for s in stalled:
                s.settimeout(10)
                assert s.recv(4096).startswith(b"HTTP/1.1 408")
        finally:
            for s in stalled:
                s.close()
        assert live.store.batch_count() == 1


def test_one_device_cannot_hold_more_than_its_share(live: Live) -> None:
    uid, key = live.enroll("greedy")
    stalled = [_stalled(live, key, body_for(uid)) for _ in range(2)]
    try:
        time.sleep(0.3)
        code, reply = post(live, key, body_for(uid))
        assert code == 429 and "this device" in str(reply["detail"])
        other_uid, other_key = live.enroll("other")
        assert post(live, other_key, body_for(other_uid))[0] == 200
    finally:
        for s in stalled:
            s.close()
