"""Abuse probes against a real ``kitlife serve``: what issue 19's attackers did, measured.

Each probe attacks a collector on loopback while a monitor samples the
server's memory (RSS of the process and its children, every 20 ms), times
``GET /healthz`` (every 50 ms) and has a victim laptop post a real batch
every 200 ms. A probe passes when the server answers the attack with a 4xx
without reading what it need not, its memory stays under twice its idle
figure, /healthz answers within 100 ms and every victim batch is stored.

The test suite (``tests/collector/api/test_probes.py``) runs every probe at a
small scale on SQLite and PostgreSQL; this module's ``main`` runs them at
the issue's full scale and prints the figures (docs/security.md)::

    .venv/bin/python -m bench.probes                       # SQLite and PostgreSQL
    .venv/bin/python -m bench.probes --targets sqlite --fuzz 100000

Loopback only; every connection, size and wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgpack
import psutil
import zstandard

from bench.typical import typical_body
from kitlife.collector.store import Store
from kitlife.protocol import CONTENT_TYPE, MAGIC, Batch, Series, Text, encode_batch, metric_by_name

BIN = Path(sys.executable).parent
# Short deadlines, so the slow-body and slow-header probes end in seconds.
PROBE_ENV = {"KITLIFE_BODY_TIMEOUT_S": "3", "KITLIFE_HEADER_TIMEOUT_S": "3"}


@dataclass(frozen=True)
class Scale:
    """How hard each probe pushes: the issue's figures (FULL) or a CI-sized cut (SHORT)."""

    body_bytes: int
    header_bytes: int
    header_conns: int = 8
    slow_conns: int = 64
    bomb_posts: int = 20


FULL = Scale(body_bytes=256 << 20, header_bytes=200 << 20)
SHORT = Scale(body_bytes=32 << 20, header_bytes=16 << 20, bomb_posts=8)


# -- the server ---------------------------------------------------------------------------
@dataclass
class Server:
    url: str
    port: int
    db_url: str
    process: subprocess.Popen[bytes]
    admin: str
    enrol: str

    def rss(self) -> int:
        """Resident memory of the server and its workers, bytes."""
        try:
            proc = psutil.Process(self.process.pid)
            return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
        except psutil.NoSuchProcess:
            return 0

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def enroll(self, hostname: str, **facts: str) -> tuple[str, str]:
        with self.client(self.enrol) as c:
            r = c.post("/v1/enroll", json={"facts": {"inv.hostname": hostname, **facts}})
        r.raise_for_status()
        body = r.json()
        return str(body["device_id"]), str(body["device_key"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(db_url: str, log: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``kitlife serve`` in a subprocess on a free loopback port, with an admin and a
    100-use enrolment token; stopped afterwards."""
    store = Store.from_url(db_url)
    store.upgrade()
    admin = store.create_api_token("admin", "probe admin")
    enrol = store.create_enrol_token(1000, 3600, "probes")
    store.close()
    port = _free_port()
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [str(BIN / "kitlife"), "--db", db_url, "serve", "--port", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **PROBE_ENV, **(env or {})},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"collector did not start: {log.read_text()[-2000:]}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Server(url, port, db_url, process, admin, enrol)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the monitor -------------------------------------------------------------------------
@dataclass
class Figures:
    """What the monitor saw during one probe."""

    name: str
    idle_rss: int
    peak_rss: int = 0
    healthz_ms: list[float] = field(default_factory=list)
    victim_codes: list[int] = field(default_factory=list)
    observed: dict[str, Any] = field(default_factory=dict)

    @property
    def rss_ratio(self) -> float:
        return self.peak_rss / self.idle_rss

    @property
    def healthz_max_ms(self) -> float:
        return max(self.healthz_ms, default=0.0)

    @property
    def healthz_p50_ms(self) -> float:
        return statistics.median(self.healthz_ms) if self.healthz_ms else 0.0

    def row(self) -> dict[str, Any]:
        return {
            "probe": self.name,
            "idle_mb": round(self.idle_rss / 1e6, 1),
            "peak_mb": round(self.peak_rss / 1e6, 1),
            "ratio": round(self.rss_ratio, 2),
            "healthz_p50_ms": round(self.healthz_p50_ms, 1),
            "healthz_max_ms": round(self.healthz_max_ms, 1),
            "victim_ok": f"{self.victim_codes.count(200)}/{len(self.victim_codes)}",
            **self.observed,
        }


class Victim:
    """A laptop that keeps uploading during the probes: its batches must all be stored."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.uid, self.key = server.enroll("victim")
        self.seq = 0

    def post(self) -> int:
        self.seq += 1
        body = typical_body(self.uid, self.seq, int(time.time()) - 900)
        with self.server.client(self.key) as c:
            r = c.post("/v1/batches", content=body, headers={"Content-Type": CONTENT_TYPE})
        return r.status_code


@contextlib.contextmanager
def monitored(name: str, server: Server, victim: Victim, idle_rss: int) -> Iterator[Figures]:
    """Sample memory, /healthz and the victim's uploads while the body runs."""
    figures = Figures(name, idle_rss)
    stop = threading.Event()

    def memory() -> None:
        while not stop.is_set():
            figures.peak_rss = max(figures.peak_rss, server.rss())
            stop.wait(0.02)

    def health() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as c:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    c.get("/healthz")
                    figures.healthz_ms.append((time.perf_counter() - t0) * 1000)
                except httpx.HTTPError:
                    figures.healthz_ms.append(10_000.0)
                stop.wait(0.05)

    def uploads() -> None:
        while not stop.is_set():
            try:
                figures.victim_codes.append(victim.post())
            except httpx.HTTPError:
                figures.victim_codes.append(0)
            stop.wait(0.2)

    threads = [threading.Thread(target=f, daemon=True) for f in (memory, health, uploads)]
    for t in threads:
        t.start()
    try:
        yield figures
    finally:
        time.sleep(0.3)  # one more round of samples after the attack
        stop.set()
        for t in threads:
            t.join(15)


# -- raw sockets ---------------------------------------------------------------------------
def flood(
    port: int, head: bytes, filler: bytes, max_bytes: int, timeout_s: float
) -> tuple[int, bytes]:
    """Send ``head`` then ``filler`` over and over until the server answers or closes,
    ``max_bytes`` are sent, or ``timeout_s`` passes; (bytes sent, first reply bytes)."""
    sent = 0
    reply = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head)
        s.setblocking(False)
        deadline = time.monotonic() + timeout_s
        while sent < max_bytes and time.monotonic() < deadline:
            readable, writable, _ = select.select([s], [s], [], 0.5)
            if readable:
                with contextlib.suppress(OSError):
                    reply = s.recv(4096)
                break
            if writable:
                try:
                    sent += s.send(filler)
                except BlockingIOError:
                    continue
                except OSError:  # reset: the server closed on us
                    break
        if not reply:
            s.setblocking(True)
            s.settimeout(2)
            with contextlib.suppress(OSError):
                reply = s.recv(4096)
    return sent, reply


def in_parallel(n: int, fn: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def status(reply: bytes) -> int:
    """The status code of a raw HTTP reply, 0 when there was none."""
    parts = reply.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


# -- the probes (issue 19's numbering) ---------------------------------------------------------
def probe_unauthenticated_bodies(server: Server, scale: Scale) -> dict[str, Any]:
    """1: huge bodies without a credential to the JSON routes, declared and chunked."""
    chunk = b"0" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    cases = []
    for method, path in (("POST", "/v1/enroll"), ("POST", "/v1/tokens"), ("PUT", "/v1/assets")):
        declared = (
            f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {scale.body_bytes}\r\n\r\n"
        ).encode()
        chunked = (
            f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
        cases += [(declared, chunk), (chunked, frame)]
    results = in_parallel(
        len(cases), lambda i: flood(server.port, *cases[i], scale.body_bytes, 30.0)
    )
    return {
        "codes": sorted({status(reply) for _, reply in results}),
        "max_sent_mb": round(max(sent for sent, _ in results) / 1e6, 1),
    }


def probe_endless_headers(server: Server, scale: Scale) -> dict[str, Any]:
    """2: connections that send header bytes and never finish the head."""
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "
    results = in_parallel(
        scale.header_conns,
        lambda _: flood(server.port, head, b"a" * 65536, scale.header_bytes, 30.0),
    )
    return {
        "codes": sorted({status(reply) for _, reply in results}),
        "max_sent_mb": round(max(sent for sent, _ in results) / 1e6, 1),
    }


def nested_empties(uid: str, n_outer: int = 14, n_inner: int = 500_000) -> bytes:
    """A valid v1 header and then 7 MiB of empty arrays, in about 400 bytes of zstd."""
    head = msgpack.packb([1, uid, "s", 1, int(time.time()), "v", [""], [], [], []])
    inner = b"\xdd" + n_inner.to_bytes(4, "big") + b"\x90" * n_inner
    outer = b"\xdd" + n_outer.to_bytes(4, "big") + inner * n_outer
    return MAGIC + zstandard.ZstdCompressor().compress(bytes([head[0] + 1]) + head[1:] + outer)


def probe_decode_amplification(server: Server, scale: Scale) -> dict[str, Any]:
    """3: one device key posts frames that unpack to millions of empty arrays."""
    uid, key = server.enroll("bomber")
    bomb = nested_empties(uid)

    def post(_: int) -> list[int]:
        codes = []
        with server.client(key) as c:
            for _ in range(scale.bomb_posts // 2):
                r = c.post("/v1/batches", content=bomb, headers={"Content-Type": CONTENT_TYPE})
                codes.append(r.status_code)
        return codes

    codes = [c for cs in in_parallel(2, post) for c in cs]
    return {"codes": sorted(set(codes)), "frame_bytes": len(bomb)}


def probe_slow_bodies(server: Server, scale: Scale) -> dict[str, Any]:
    """4: connections that send their headers and 3 body bytes, then nothing."""
    devices = [server.enroll(f"slow-{i}") for i in range(scale.slow_conns // 2)]
    socks = []
    for uid, key in devices:
        body = typical_body(uid, 1, int(time.time()))
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(
                f"POST /v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                f"Content-Type: {CONTENT_TYPE}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body[:3]
            )
            socks.append(s)
    t0 = time.monotonic()
    codes = []
    try:
        for s in socks:
            try:
                codes.append(status(s.recv(4096)))
            except OSError:
                codes.append(0)
    finally:
        for s in socks:
            s.close()
    return {"codes": sorted(set(codes)), "answered_after_s": round(time.monotonic() - t0, 1)}


def _batch(uid: str, seq: int, t_s: int, host: str) -> bytes:
    hostname = metric_by_name("inv.hostname").id
    return encode_batch(
        Batch(
            uid,
            "s",
            seq,
            t_s,
            "t",
            (Series(5, "", (t_s,), (1.0,), -1),),
            (Text(hostname, "", t_s, host),),
        )
    )


def probe_future_timestamp(server: Server, scale: Scale) -> dict[str, Any]:
    """5: a batch dated 2^40, then one at the current time: the second must win."""
    del scale
    uid, key = server.enroll("clock")
    headers = {"Content-Type": CONTENT_TYPE}
    with server.client(key) as c:
        future = c.post("/v1/batches", content=_batch(uid, 1, 2**40, "pinned"), headers=headers)
        ahead = c.post(
            "/v1/batches", content=_batch(uid, 2, int(time.time()) + 3000, "ahead"), headers=headers
        )
        now = c.post(
            "/v1/batches", content=_batch(uid, 3, int(time.time()), "now"), headers=headers
        )
    with server.client(server.admin) as c:
        report = c.get(f"/v1/devices/{uid}").json()
    latest = {r["metric"]: r["value"] for r in report["readings"]}
    return {
        "codes": [future.status_code, ahead.status_code, now.status_code],
        "hostname": report["device"]["hostname"],
        "latest_hostname": latest.get("inv.hostname"),
    }


def probe_trailing_data(server: Server, scale: Scale) -> dict[str, Any]:
    """11: a valid batch followed by garbage, and by a second 50 MiB frame."""
    del scale
    uid, key = server.enroll("trailer")
    body = typical_body(uid, 1, int(time.time()))
    second = zstandard.ZstdCompressor().compress(b"\0" * (50 << 20))
    headers = {"Content-Type": CONTENT_TYPE}
    with server.client(key) as c:
        codes = [
            c.post("/v1/batches", content=body + extra, headers=headers).status_code
            for extra in (b"garbage", second)
        ]
    with server.client(server.admin) as c:
        stored = c.get(f"/v1/devices/{uid}").json()["device"]["batches"]
    return {"codes": codes, "stored": stored}


def probe_hostile_register(server: Server, scale: Scale) -> dict[str, Any]:
    """7: register cells that crashed the import: 131,073 characters, 2^64, NUL."""
    del scale
    head = "serial,holder_id,role,site,purchase_date,purchase_route,warranty_end,previous_holders\n"
    rows = [
        f"SN1,h,office,{'x' * 131_073},2023-01-10,new,2026-01-10,0\n",
        f"SN1,h,office,York,2023-01-10,new,2026-01-10,{2**64}\n",
        "SN1,h,office,Yo\0rk,2023-01-10,new,2026-01-10,0\n",
    ]
    with server.client(server.admin) as c:
        replies = [c.put("/v1/assets", content=(head + row).encode()) for row in rows]
    return {
        "codes": [r.status_code for r in replies],
        "lines_named": all("line 2" in r.text for r in replies),
    }


def probe_csv_and_audit(server: Server, scale: Scale) -> dict[str, Any]:
    """6 and 8: a hostname a spreadsheet would run, the CSV export; the audit log's actor."""
    del scale
    server.enroll("=cmd|' /C calc'!A0")
    with server.client(server.admin) as c:
        c.post("/v1/tokens", json={"role": "servicedesk", "name": "@SUM(1)"}).raise_for_status()
    cli = [str(BIN / "kitlife"), "--db", server.db_url]
    devices = subprocess.run(
        [*cli, "devices", "list", "--csv"], check=True, capture_output=True, text=True, timeout=60
    )
    tokens = subprocess.run(
        [*cli, "token", "list", "--csv"], check=True, capture_output=True, text=True, timeout=60
    )
    store = Store.from_url(server.db_url)
    try:
        actor = store.audit_entries(1)[0]["actor"]
    finally:
        store.close()
    return {
        "formula_cells": [
            line
            for line in (devices.stdout + tokens.stdout).splitlines()
            if any(f",{c}" in line or line.startswith(c) for c in "=+-@")
        ],
        "audit_actor": actor,
    }


def probe_serial_claim(server: Server, scale: Scale) -> dict[str, Any]:
    """12: a device key reports another laptop's serial in its inventory."""
    del scale
    facts = {"inv.vendor": "LENOVO", "inv.serial": f"PF{uuid.uuid4().hex[:8].upper()}"}
    victim_uid, _ = server.enroll("real-owner", **facts)
    uid, key = server.enroll("claimant")
    t = int(time.time())
    claim = encode_batch(
        Batch(
            uid,
            "s",
            1,
            t,
            "t",
            (),
            (
                Text(metric_by_name("inv.vendor").id, "", t, facts["inv.vendor"]),
                Text(metric_by_name("inv.serial").id, "", t, facts["inv.serial"]),
            ),
        )
    )
    with server.client(key) as c:
        code = c.post(
            "/v1/batches", content=claim, headers={"Content-Type": CONTENT_TYPE}
        ).status_code
    with server.client(server.admin) as c:
        found = c.get(f"/v1/devices/{facts['inv.serial']}")
    return {
        "code": code,
        "show_serial": found.status_code,
        "is_owner": found.status_code == 200 and found.json()["device"]["device_uid"] == victim_uid,
    }


PROBES: dict[str, Callable[[Server, Scale], dict[str, Any]]] = {
    "1 unauthenticated bodies": probe_unauthenticated_bodies,
    "2 endless headers": probe_endless_headers,
    "3 decode amplification": probe_decode_amplification,
    "4 slow bodies": probe_slow_bodies,
    "5 future timestamp": probe_future_timestamp,
    "6+8 csv export, audit actor": probe_csv_and_audit,
    "7 hostile register": probe_hostile_register,
    "11 trailing data": probe_trailing_data,
    "12 serial claim": probe_serial_claim,
}


def idle_figure(server: Server, victim: Victim) -> int:
    """The server's RSS after a warm-up of normal work (each route once, a few batches)."""
    for _ in range(5):
        victim.post()
    with server.client(server.admin) as c:
        for path in ("/v1/devices", "/v1/tokens", "/v1/assets", "/metrics", "/healthz"):
            c.get(path)
    time.sleep(0.5)
    return server.rss()


def run_probe(server: Server, victim: Victim, idle: int, name: str, scale: Scale) -> Figures:
    with monitored(name, server, victim, idle) as figures:
        figures.observed = PROBES[name](server, scale)
    return figures


def run_all(
    db_url: str, log: Path, scale: Scale, fuzz_inputs: int = 0, openapi_examples: int = 0
) -> tuple[list[Figures], dict[str, Any]]:
    """Every probe against one server, then the HTTP and OpenAPI fuzzers if asked."""
    with serving(db_url, log) as server:
        victim = Victim(server)
        idle = idle_figure(server, victim)
        figures = []
        for name in PROBES:
            figures.append(run_probe(server, victim, idle, name, scale))
            print(json.dumps(figures[-1].row()), flush=True)
        fuzzed: dict[str, Any] = {}
        if fuzz_inputs:
            from bench.fuzz import fuzz_http

            uid, key = server.enroll("fuzzed")
            with monitored("fuzz", server, victim, idle) as seen:
                fuzzed["http"] = fuzz_http(server.url, uid, key, fuzz_inputs)
            fuzzed["http_monitor"] = seen.row()
        if openapi_examples:
            from bench.fuzz import fuzz_openapi

            spec = json.loads((Path(__file__).parents[1] / "docs" / "openapi.json").read_text())
            fuzzed["openapi_5xx"] = fuzz_openapi(server.url, server.admin, spec, openapi_examples)
        return figures, fuzzed


# -- the command ----------------------------------------------------------------------------
def _pg_url() -> str:
    base = os.environ.get("KITLIFE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    import psycopg

    schema = f"probes_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{base}?options=-csearch_path%3D{schema}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--targets", default="sqlite,postgresql")
    ap.add_argument("--short", action="store_true", help="the CI-sized scale")
    ap.add_argument(
        "--fuzz", type=int, default=100_000, help="fuzzed batches, decoded and posted (0: none)"
    )
    ap.add_argument(
        "--openapi-examples", type=int, default=200, help="schemathesis examples per operation"
    )
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = ap.parse_args(argv)
    scale = SHORT if args.short else FULL
    import tempfile

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kitlife-probes-") as tmp:
        for target in args.targets.split(","):
            url = f"sqlite:///{tmp}/probes.sqlite3" if target == "sqlite" else _pg_url()
            figures, fuzzed = run_all(
                url, Path(tmp) / f"{target}.log", scale, args.fuzz, args.openapi_examples
            )
            rows += [{"target": target, **f.row()} for f in figures]
            rows.append({"target": target, "fuzz": fuzzed})
            print(json.dumps(rows[-1]), flush=True)
    if args.fuzz:
        from bench.fuzz import fuzz_decoder

        rows.append({"decoder_fuzz": fuzz_decoder(args.fuzz)})
        print(json.dumps(rows[-1]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
