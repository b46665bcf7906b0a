"""Latency of the device page and the device's JSON report on a simulated estate.

Builds an estate with ``kitlife simulate`` (the real ingest path, then scored),
starts ``kitlife serve`` on a loopback port, signs in as the service desk, and
fetches random devices' web page (``/web/devices/{uid}``, charts and all) and
JSON report (``/v1/devices/{uid}``) one request at a time, after a warm-up.
Prints p50, p99 and max per target and database. The target (issue 17): p99
under 100 ms on a 72,000-device estate.

The estate is simulated at ``--devices`` (default 2,000): building 72,000
through the ingest path takes about 1.5 hours on two cores. The pages' reads are
per device (index lookups and the device's own packed days), so their cost does
not grow with the estate; ``--devices 72000`` measures it at full size.

    .venv/bin/python -m bench.web                         # SQLite and PostgreSQL
    .venv/bin/python -m bench.web --targets sqlite --devices 500 --requests 200
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

PG_BASE = os.environ.get("KITLIFE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BIN = Path(sys.executable).parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _db_url(target: str, tmp: Path) -> str:
    if target == "sqlite":
        return f"sqlite:///{tmp / 'web.sqlite3'}"
    import psycopg

    schema = f"bench_web_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{PG_BASE}?options=-csearch_path%3D{schema}"


def _kitlife(url: str, *args: str) -> str:
    return subprocess.run(
        [str(BIN / "kitlife"), "--db", url, *args], check=True, capture_output=True, text=True
    ).stdout


def _sign_in(client: httpx.Client, token: str) -> None:
    form = client.get("/web/sign-in")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert csrf
    r = client.post(
        "/web/sign-in",
        data={"csrf": csrf.group(1), "token": token},
        headers={"Cookie": f"kitlife_csrf={form.cookies['kitlife_csrf']}"},
    )
    client.headers["Cookie"] = f"kitlife_session={r.cookies['kitlife_session']}"


def _time(client: httpx.Client, paths: list[str]) -> list[float]:
    out = []
    for path in paths:
        t0 = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return out


def run(target: str, devices: int, requests: int, tmp: Path) -> None:
    url = _db_url(target, tmp)
    t0 = time.perf_counter()
    _kitlife(url, "db", "upgrade")
    _kitlife(url, "simulate", "--devices", str(devices), "--months", "18", "--seed", "1")
    build_s = time.perf_counter() - t0
    token = _kitlife(url, "token", "create", "--role", "servicedesk").strip()
    port = _port()
    log = (tmp / f"{target}.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "kitlife"), "--db", url, "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=30) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            uids = [d["device_uid"] for d in client.get("/v1/devices").json()]
            _sign_in(client, token)
            rng = random.Random(1)
            for name, prefix in (("device page", "/web/devices/"), ("JSON report", "/v1/devices/")):
                _time(client, [prefix + u for u in rng.sample(uids, min(20, len(uids)))])
                ms = sorted(_time(client, [prefix + rng.choice(uids) for _ in range(requests)]))
                p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
                print(
                    f"{target:10} {devices:>6} devices  {name:12} p50 {statistics.median(ms):6.1f}"
                    f" ms  p99 {p99:6.1f} ms  max {ms[-1]:6.1f} ms  ({requests} requests;"
                    f" estate built in {build_s:.0f} s)",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="sqlite,postgresql")
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kitlife-bench-web-") as tmp:
        for target in args.targets.split(","):
            run(target, args.devices, args.requests, Path(tmp))


if __name__ == "__main__":
    main()
