"""The real collector (uvicorn, subprocess) and the real agent (subprocess), on both databases."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import time
from pathlib import Path

import httpx

from kitlife.collector.store import Store
from kitlife.protocol import decode_batch, metric_by_name
from tests.conftest import Agent, Collector


def _enrol(collector: Collector, agent: Agent) -> str:
    token = collector.kitlife("token", "create", "--role", "enroll").stdout.strip()
    assert token.startswith("kle_") and "\n" not in token
    agent.run("enroll", "--url", collector.url, "--token", token)
    creds = json.loads((agent.state_dir / "device.json").read_text())
    assert (agent.state_dir / "device.json").stat().st_mode & 0o777 == 0o600
    return str(creds["device_id"])


def test_enrol_once_and_list(collector: Collector, agent: Agent) -> None:
    device_id = _enrol(collector, agent)
    agent.run("once")
    listed = json.loads(collector.kitlife("devices", "list", "--json").stdout)
    (row,) = [d for d in listed if d["device_uid"] == device_id]
    assert row["batches"] == 1 and row["hostname"] and row["os_name"] == "Linux"
    shown = collector.kitlife("devices", "show", device_id).stdout
    assert "mem.total_bytes" in shown and "uptime_s" in shown
    status = json.loads(agent.run("status", "--json").stdout)
    assert status["spool"]["batches"] == 0 and status["last_upload_s"]


def test_upload_failure_keeps_data_and_exits_nonzero(collector: Collector, agent: Agent) -> None:
    _enrol(collector, agent)
    collector.stop()
    failed = agent.run("once", check=False)
    assert failed.returncode == 1 and "stay spooled" in failed.stderr
    status = json.loads(agent.run("status", "--json").stdout)
    assert status["spool"]["batches"] == 1 and status["last_error"]


def _uptime_stamps(db_url: str, device_id: str) -> list[int]:
    """Every uptime reading the collector holds for the device, from its raw chunks."""
    store = Store.from_url(db_url)
    try:
        ref = store.find_device(device_id)
        uptime = metric_by_name("uptime_s").id
        return sorted(
            t
            for body in store.batch_bodies(ref["id"])
            for s in decode_batch(body).series
            if s.metric_id == uptime
            for t in s.timestamps_s
        )
    finally:
        store.close()


def test_killed_uploads_lose_nothing_and_double_nothing(
    collector: Collector, agent: Agent, tmp_path: Path
) -> None:
    device_id = _enrol(collector, agent)
    # Spool some cycles while the collector is away, each sealed as its own batch.
    collector.stop()
    cycles = 6
    for _ in range(cycles):
        assert agent.run("once", check=False).returncode == 1
        time.sleep(1.05)  # one uptime reading per second-stamp
    spool = sqlite3.connect(agent.state_dir / "spool.db")
    sealed = spool.execute("SELECT count(*) FROM batches").fetchone()[0]
    spool.close()
    assert sealed == cycles
    from tests.conftest import start_collector

    port = int(collector.url.rsplit(":", 1)[1])
    server = start_collector(collector.db_url, tmp_path / "collector2.log", port=port)
    try:
        rng = random.Random(7)
        for _ in range(8):  # kill -9 at random points of the upload
            proc = agent.popen("upload")
            time.sleep(rng.uniform(0.05, 0.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        agent.run("upload")
    finally:
        server.stop()
    stamps = _uptime_stamps(collector.db_url, device_id)
    assert len(stamps) == cycles and len(set(stamps)) == cycles
    status = json.loads(agent.run("status", "--json").stdout)
    assert status["spool"]["batches"] == 0 and status["spool"]["readings"] == 0


def _post(
    url: str, body: bytes, key: str | None, ctype: str = "application/vnd.kitlife.batch"
) -> httpx.Response:
    headers = {"Content-Type": ctype}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.post(url + "/v1/batches", content=body, headers=headers, timeout=10)


def test_bad_batches_get_4xx_with_a_reason_and_write_nothing(
    collector: Collector, agent: Agent
) -> None:
    _enrol(collector, agent)
    key = json.loads((agent.state_dir / "device.json").read_text())["device_key"]
    agent.run("once")
    store = Store.from_url(collector.db_url)
    before = store.batch_count()
    good = b"KLB\x01" + b"\x00" * 10
    cases = [
        (b"garbage", key, "application/vnd.kitlife.batch", 400),
        (good, key, "application/vnd.kitlife.batch", 400),
        (b"KLB\x02xxxx", key, "application/vnd.kitlife.batch", 415),
        (b"KLB\x01", key, "application/json", 415),
        (b"x" * (2 << 20), key, "application/vnd.kitlife.batch", 413),
        (b"KLB\x01", None, "application/vnd.kitlife.batch", 401),
        (b"KLB\x01", "kld_not-a-key", "application/vnd.kitlife.batch", 401),
    ]
    for body, k, ctype, expected in cases:
        response = _post(collector.url, body, k, ctype)
        assert response.status_code == expected, (expected, response.text)
        assert response.json()["detail"]
    assert store.batch_count() == before
    store.close()


def test_only_healthz_answers_without_credentials(collector: Collector) -> None:
    assert httpx.get(collector.url + "/healthz").status_code == 200
    assert httpx.get(collector.url + "/v1/devices").status_code == 401
    assert httpx.get(collector.url + "/v1/devices/x").status_code == 401
    assert httpx.post(collector.url + "/v1/enroll", json={}).status_code == 401


def test_show_prints_exactly_what_the_next_upload_sends(collector: Collector, agent: Agent) -> None:
    device_id = _enrol(collector, agent)
    collector.stop()
    agent.run("once", check=False)  # one sealed batch, spooled while the collector is away
    shown = json.loads(agent.run("show", "--json").stdout)  # plus one fresh, unsealed cycle
    assert len(shown) == 2
    port = int(collector.url.rsplit(":", 1)[1])
    from tests.conftest import start_collector

    server = start_collector(collector.db_url, collector.log, port=port)
    try:
        agent.run("upload")
    finally:
        server.stop()
    store = Store.from_url(collector.db_url)
    try:
        stored = [decode_batch(b) for b in store.batch_bodies(store.find_device(device_id)["id"])]
    finally:
        store.close()
    sent = {b.batch_id: b for b in stored}
    for batch in shown:
        got = sent[batch["batch_id"]]
        assert [(s["metric"], s["values"]) for s in batch["series"]] == [
            (metric_name(s.metric_id), list(s.values)) for s in got.series
        ]
        assert [t["value"] for t in batch["texts"]] == [t.value for t in got.texts]


def metric_name(metric_id: int) -> str:
    from kitlife.protocol import metric_by_id

    m = metric_by_id(metric_id)
    return m.name if m else f"#{metric_id}"


def test_a_landed_batch_is_rescored_in_the_background(collector: Collector, agent: Agent) -> None:
    device_id = _enrol(collector, agent)
    agent.run("once")
    store = Store.from_url(collector.db_url)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = store.find_device(device_id)
            if row["scored_s"]:
                break
            time.sleep(0.3)
        # This machine has no battery or SMART disk: scored, and honestly so.
        assert row["decision"] == "insufficient_data"
        assert row["scored_s"] is not None
    finally:
        store.close()
