"""Operations: metrics count what happened, logs are JSON, retention runs on its own."""

from __future__ import annotations

import gc
import json
import logging
import time

from kitlife.collector.runtime.logs import JsonFormatter
from kitlife.collector.runtime.settings import Settings
from kitlife.protocol import Batch, Series, encode_batch
from tests.collector.api.conftest import Live, running
from tests.collector.api.test_ingest_http import body_for, post


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_batches_bytes_and_rejections(live: Live) -> None:
    uid, key = live.enroll()
    with live.client(live.servicedesk) as c:
        before = c.get("/metrics").text
    body = body_for(uid)
    assert post(live, key, body)[0] == 200
    assert post(live, key, body)[0] == 200  # a retry
    assert post(live, key, b"KLB\x01garbage")[0] == 400
    with live.client(live.servicedesk) as c:
        r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    after = r.text
    for name, delta in [
        ('kitlife_ingest_batches_total{result="stored"}', 1),
        ('kitlife_ingest_batches_total{result="duplicate"}', 1),
        ('kitlife_ingest_rejected_total{reason="bad_batch"}', 1),
        ("kitlife_ingest_bytes_total", len(body)),
        ("kitlife_ingest_seconds_count", 3),
    ]:
        assert _metric(after, name) - _metric(before, name) == delta, name
    assert "kitlife_ingest_group_size_bucket" in after


def test_json_log_lines_carry_extra_fields() -> None:
    record = logging.LogRecord(
        "kitlife.x", logging.WARNING, __file__, 1, "hello %s", ("you",), None
    )
    record.device = "abc"
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["msg"], line["device"]) == (
        "warning",
        "kitlife.x",
        "hello you",
        "abc",
    )
    assert line["t"].endswith("Z")


def test_retention_prunes_on_a_schedule_inside_the_server(db_url: str) -> None:
    settings = Settings(
        db_url=db_url,
        prune_first_delay_s=0.2,
        prune_interval_s=0.2,
        raw_retention_days=90,
    )
    with running(settings) as live:
        _, key = live.enroll()
        device = live.store.device_for_key(key)
        assert device is not None
        old = int(time.time()) - 100 * 86400
        b = Batch(device.uid, "s", 1, old, "t", (Series(5, "", (old,), (1.0,)),))
        live.store.ingest(device, encode_batch(b), now_s=old)
        assert live.store.batch_count() == 1
        deadline = time.monotonic() + 10
        while live.store.batch_count():
            assert time.monotonic() < deadline, "scheduled prune did not run"
            time.sleep(0.05)
        assert any(e["actor"] == "scheduler" for e in live.store.audit_entries())
    # leaving `running` shut the server down: the prune task was cancelled cleanly
    assert live.server.should_exit


def test_what_start_up_built_is_frozen_while_serving_and_released_after(
    settings: Settings,
) -> None:
    """Full collections skip start-up's objects while the server runs (p99: see
    docs/collector.md), and a stopped app leaves nothing pinned in the process."""
    gc.unfreeze()
    with running(settings) as live:
        assert gc.get_freeze_count() > 10_000
        with live.client() as client:
            assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == 0
