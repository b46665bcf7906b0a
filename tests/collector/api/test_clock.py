"""Issue 19.5: a timestamp from the future is refused and cannot pin latest readings."""

from __future__ import annotations

import time

from kitlife.protocol import CONTENT_TYPE, Batch, Series, Text, encode_batch, metric_by_name
from tests.collector.api.conftest import Live

HOSTNAME = metric_by_name("inv.hostname").id


def _batch(uid: str, seq: int, t_s: int, host: str, value: float) -> bytes:
    return encode_batch(
        Batch(
            uid,
            "s",
            seq,
            t_s,
            "t",
            (Series(5, "", (t_s,), (value,), -1),),
            (Text(HOSTNAME, "", t_s, host),),
        )
    )


def _post(live: Live, key: str, body: bytes) -> tuple[int, str]:
    with live.client(key) as c:
        r = c.post("/v1/batches", content=body, headers={"Content-Type": CONTENT_TYPE})
    return r.status_code, r.text


def test_readings_dated_far_ahead_are_refused_with_the_reason(live: Live) -> None:
    uid, key = live.enroll("pc-1")
    code, text = _post(live, key, _batch(uid, 1, 2**40, "evil", 1.0))
    assert code == 400 and "after the collector's clock" in text
    assert live.store.batch_count() == 0


def test_a_batch_at_the_current_time_replaces_one_from_within_the_skew(live: Live) -> None:
    uid, key = live.enroll("pc-1")
    now = int(time.time())
    assert _post(live, key, _batch(uid, 1, now + 3000, "ahead", 1.0))[0] == 200
    assert _post(live, key, _batch(uid, 2, now, "pc-real", 2.0))[0] == 200
    with live.client(live.servicedesk) as c:
        report = c.get(f"/v1/devices/{uid}").json()
    assert report["device"]["hostname"] == "pc-real", report["device"]
    latest = {r["metric"]: r for r in report["readings"]}
    assert latest["inv.hostname"]["value"] == "pc-real"
    assert latest[metric_by_name("inv.hostname").name]["t_s"] == now
