"""`kitlife` admin commands against a real SQLite file, and `kitlife serve` as a subprocess."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from kitlife.collector.cli.main import cli
from kitlife.collector.store import Store
from kitlife.collector.store.migrate import alembic_config
from kitlife.protocol import CONTENT_TYPE, Batch, Series, encode_batch
from tests.collector.api.conftest import free_port


def run(url: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_tokens_are_created_listed_without_secret_and_revoked(sqlite_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(sqlite_url)).get_current_head()
    assert f"revision {head}" in run(sqlite_url, "db", "upgrade")
    secret = run(sqlite_url, "token", "create", "--role", "servicedesk", "--name", "desk").strip()
    assert secret.startswith("kls_")
    enrol = run(sqlite_url, "token", "create", "--role", "enroll", "--uses", "3", "--expires", "1h")
    listing = run(sqlite_url, "token", "list")
    assert "desk" in listing and secret not in listing and enrol.strip() not in listing
    assert "revoked a1" in run(sqlite_url, "token", "revoke", "a1")
    store = Store.from_url(sqlite_url)
    try:
        assert store.role_for_token(secret) is None
        states = {t["id"]: t["state"] for t in store.list_tokens()}
        assert states == {"e1": "active", "a1": "revoked"}
    finally:
        store.close()
    bad = CliRunner().invoke(cli, ["--db", sqlite_url, "token", "revoke", "a99"])
    assert bad.exit_code != 0 and "no token" in bad.output


def test_devices_revoke_by_hostname_stops_the_key(sqlite_url: str) -> None:
    store = Store.from_url(sqlite_url)
    store.upgrade()
    try:
        uid, key = store.enroll(store.create_enrol_token(1, 60), {"inv.hostname": "lap-7"})
        assert "lap-7" in run(sqlite_url, "devices", "list")
        assert uid in run(sqlite_url, "devices", "revoke", "lap-7")
        assert store.device_for_key(key) is None
        assert "REVOKED" in run(sqlite_url, "devices", "show", "lap-7")
    finally:
        store.close()


def test_db_prune_keeps_recent_batches(sqlite_url: str) -> None:
    store = Store.from_url(sqlite_url)
    store.upgrade()
    try:
        _, key = store.enroll(store.create_enrol_token(1, 60), {})
        device = store.device_for_key(key)
        assert device is not None
        now = int(time.time())
        for seq, received in ((1, now - 100 * 86400), (2, now)):
            b = Batch(device.uid, "s", seq, received, "t", (Series(5, "", (received,), (1.0,)),))
            store.ingest(device, encode_batch(b), now_s=received)
        assert "pruned 1 batches" in run(sqlite_url, "db", "prune", "--days", "90")
        assert store.batch_count() == 1
        assert len(store.daily_rollups(device.id)) == 2  # rollups stay
    finally:
        store.close()


def test_serve_refuses_several_workers_on_an_in_memory_sqlite() -> None:
    result = CliRunner().invoke(cli, ["--db", "sqlite://", "serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "several workers on SQLite need a database file" in result.output


@contextmanager
def serving(
    url: str, *args: str, scheme: str = "http"
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from kitlife.collector.cli.main import main; main()",
            "--db",
            url,
            "serve",
            "--port",
            str(port),
            *args,
        ],
        start_new_session=True,
    )
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_healthy(
    base: str, proc: subprocess.Popen[bytes], verify: ssl.SSLContext | bool = True
) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, "kitlife serve exited"
        try:
            return httpx.get(base + "/healthz", verify=verify, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_serve_runs_several_workers_on_postgresql(pg_url: str) -> None:
    store = Store.from_url(pg_url)
    store.upgrade()
    token = store.create_api_token("servicedesk")
    store.close()
    with serving(pg_url, "--workers", "2") as (base, proc):
        assert wait_healthy(base, proc).json() == {"status": "ok", "database": "ok"}
        deadline = time.monotonic() + 20
        while len(psutil.Process(proc.pid).children(recursive=True)) < 2:
            assert time.monotonic() < deadline, "uvicorn did not start two workers"
            time.sleep(0.2)
        for _ in range(10):
            assert httpx.get(base + "/healthz", timeout=5).status_code == 200
        # The workers' metrics are added up (PROMETHEUS_MULTIPROC_DIR), whichever answers.
        r = httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 200 and "kitlife_ingest_seconds" in r.text


@pytest.mark.slow
def test_serve_speaks_tls_with_the_given_certificate(sqlite_url: str, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    trust = ssl.create_default_context(cafile=str(cert))
    with serving(
        sqlite_url, "--ssl-certfile", str(cert), "--ssl-keyfile", str(key), scheme="https"
    ) as (base, proc):
        assert wait_healthy(base, proc, verify=trust).status_code == 200
        with pytest.raises(httpx.TransportError):  # plain HTTP is not served
            httpx.get(base.replace("https", "http") + "/healthz", timeout=2)


@pytest.mark.slow
def test_several_workers_on_one_sqlite_file_store_every_batch_once(
    sqlite_url: str,
) -> None:
    """Two workers take turns to write: 8 devices x 25 batches, each posted twice, all at once.

    Each device posts its batches in order twice over, the two streams at once: the
    most a device may have in flight (``max_inflight_per_device``, 2), 16 in all.
    """
    store = Store.from_url(sqlite_url)
    store.upgrade()
    token = store.create_enrol_token(8, 60)
    keys = [store.enroll(token, {"inv.hostname": f"w{i}"}) for i in range(8)]
    store.close()
    bodies = [
        (key, encode_batch(Batch(uid, "s", seq, 1_790_000_000 + seq, "t", (_point(seq),))))
        for uid, key in keys
        for seq in range(25)
    ]
    with serving(sqlite_url, "--workers", "2") as (base, proc):
        wait_healthy(base, proc)
        deadline = time.monotonic() + 20
        while len(psutil.Process(proc.pid).children(recursive=True)) < 2:
            assert time.monotonic() < deadline, "uvicorn did not start two workers"
            time.sleep(0.2)

        def post(item: tuple[str, bytes]) -> int:
            key, body = item
            with httpx.Client(base_url=base, timeout=30) as client:
                return client.post(
                    "/v1/batches",
                    content=body,
                    headers={"Authorization": f"Bearer {key}", "Content-Type": CONTENT_TYPE},
                ).status_code

        def stream(key: str) -> list[int]:
            return [post(item) for item in bodies if item[0] == key]

        streams = [key for _, key in keys] * 2
        with ThreadPoolExecutor(len(streams)) as pool:
            codes = [code for codes in pool.map(stream, streams) for code in codes]
    assert codes == [200] * len(codes)
    store = Store.from_url(sqlite_url)
    try:
        for uid, _ in keys:
            device = store.find_device(uid)
            assert device is not None
            assert len(store.batch_bodies(device["id"])) == 25
            assert device["batches"] == 25
    finally:
        store.close()


def _point(seq: int) -> Series:
    return Series(5, "", (1_790_000_000 + seq,), (float(seq),), -1)


def test_csv_exports_neutralise_formulas(sqlite_url: str) -> None:
    """Issue 19.6: a hostname or token name a spreadsheet would run comes out as text."""
    store = Store.from_url(sqlite_url)
    store.upgrade()
    store.enroll(store.create_enrol_token(1, 600), {"inv.hostname": "=cmd|' /C calc'!A0"})
    store.create_api_token("servicedesk", "+SUM(1)")
    store.close()
    devices = run(sqlite_url, "devices", "list", "--csv")
    assert "'=cmd" in devices and "\n=cmd" not in devices and ",=cmd" not in devices
    tokens = run(sqlite_url, "token", "list", "--csv")
    assert "'+SUM(1)" in tokens and ",+SUM" not in tokens
