"""Two collector hosts over one PostgreSQL: every job round and every rescore done once.

Two real ``kitlife serve`` processes on separate loopback ports share one
schema, as stateless hosts behind a load balancer would. Their prune job
fires every second; the rounds claimed, the prunes in the audit log and the
two hosts' logs must agree that each round ran on exactly one host. A
device whose batches reach both hosts must be scored once.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from kitlife.collector.store import Store
from kitlife.collector.store.jobs import rounds
from kitlife.collector.store.schema import scores
from kitlife.protocol import CONTENT_TYPE, Batch, Series, encode_batch, metric_by_name
from tests.conftest import BIN, free_port


def _serve(db_url: str, log: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "kitlife"),
            "--db",
            db_url,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "info",
        ],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"collector did not start: {log.read_text()[-2000:]}")


def _batch(uid: str, seq: int) -> bytes:
    m = metric_by_name("cpu.busy_pct")
    now = int(time.time())
    return encode_batch(Batch(uid, "s", seq, now, "t", (Series(m.id, "", (now,), (12.5,), -1),)))


def test_two_hosts_share_the_schedule_and_the_rescores(pg_url: str, tmp_path: Path) -> None:
    store = Store.from_url(pg_url)
    store.upgrade()
    uid, key = store.enroll(store.create_enrol_token(1, 600), {"inv.hostname": "both"})
    env = {
        "KITLIFE_PRUNE_FIRST_DELAY_S": "0.5",
        "KITLIFE_PRUNE_INTERVAL_S": "1",
    }
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    started = time.monotonic()
    hosts = [_serve(pg_url, log, env) for log in logs]
    try:
        headers = {"authorization": f"Bearer {key}", "content-type": CONTENT_TYPE}
        for seq, (_p, url) in enumerate(hosts):  # the device's batches reach both hosts
            r = httpx.post(url + "/v1/batches", content=_batch(uid, seq), headers=headers)
            assert r.status_code == 200, r.text
        time.sleep(6)
    finally:
        for process, _url in hosts:
            process.terminate()
        for process, _url in hosts:
            process.wait(timeout=15)
    elapsed = time.monotonic() - started
    claimed = rounds(store)["prune"][2]
    prunes = [e for e in store.audit_entries(1000) if e["action"] == "db.prune"]
    # A round a second at most (0.9 s apart), whichever host fired: never one per host.
    assert 3 <= claimed <= elapsed / 0.9 + 1
    assert len(prunes) == claimed  # each claimed round pruned once
    text = [log.read_text() for log in logs]
    assert any("round taken by another worker" in t for t in text)  # both fired, one ran
    with store.engine.connect() as conn:
        n_scores = conn.execute(select(func.count()).select_from(scores)).scalar_one()
    assert n_scores == 1  # marked on both hosts, claimed by one
    store.close()
