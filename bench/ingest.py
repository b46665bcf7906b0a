"""Ingest benchmark: batches/s and latency of POST /v1/batches, side by side.

Targets, each on its own server process at loopback, in one run:

- ``noop``: the same uvicorn and FastAPI with a route that only reads the
  body and answers small JSON: the ceiling this machine's HTTP stack allows;
- ``sqlite``: ``kitlife serve`` on a fresh SQLite file;
- ``postgresql``: ``kitlife serve --workers N`` on a fresh schema of the
  local PostgreSQL.

Load comes from ``--procs`` separate processes, each with its own
``httpx.AsyncClient`` and ``--concurrency`` requests in flight, posting real
encoded typical 15-minute batches (15 one-minute samples of 25 metrics plus
5 texts, ~0.8 kB) for ``--devices`` simulated devices enrolled beforehand.
Every batch has a new id, so every request is a real insert.

Run (about two minutes)::

    .venv/bin/python -m bench.ingest                      # 20 s per target
    .venv/bin/python -m bench.ingest --targets sqlite --duration 600 --rate-hint 800  # memory check

The 10-minute memory check: compare ``rss_start`` (after warm-up) with
``rss_end``; flat means within a few MB.

``cpu ms/batch`` is the server's own CPU time (all its processes) per stored
batch over the measured window: unlike batches/s it hardly moves when
something else on the machine competes for the cores, so it is the figure
to compare between code versions. ``db cpu`` is PostgreSQL's own server
processes per batch (SQLite works inside the server, so it is in ``cpu``);
``load cpu`` the load generator's, which shares the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing as mp
import os
import pickle
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.typical import typical_body
from kitlife.protocol import CONTENT_TYPE

PG_BASE = os.environ.get("KITLIFE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
T0 = 1_790_000_000


@dataclass
class Result:
    target: str
    ok: int
    errors: dict[int, int]
    seconds: float
    p50_ms: float
    p99_ms: float
    rss_start_mb: float
    rss_end_mb: float
    cpu_s: float = float("nan")  # the server's CPU seconds (all its processes) while measured
    db_cpu_s: float = float("nan")  # PostgreSQL's own processes, same window (SQLite: in cpu_s)
    load_cpu_s: float = float("nan")  # the load generator's processes, same window

    @property
    def load_cpu_ms_per_batch(self) -> float:
        return self.load_cpu_s * 1000 / self.ok if self.ok else float("nan")

    @property
    def db_cpu_ms_per_batch(self) -> float:
        return self.db_cpu_s * 1000 / self.ok if self.ok else float("nan")

    @property
    def cpu_ms_per_batch(self) -> float:
        return self.cpu_s * 1000 / self.ok if self.ok else float("nan")

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _make_devices(n: int) -> list[tuple[str, str]]:
    return [(uuid.uuid4().hex, "kld_" + secrets.token_urlsafe(32)) for _ in range(n)]


def _seed(url: str, devs: list[tuple[str, str]]) -> None:
    """Enrol the simulated devices in bulk (the HTTP enrol path is not what is measured)."""
    from kitlife.collector.store import Store
    from kitlife.collector.store.schema import device_keys, devices
    from kitlife.collector.store.secrets import hash_secret

    store = Store.from_url(url)
    store.upgrade()
    now = int(time.time())
    with store.engine.begin() as conn:
        conn.execute(
            devices.insert(),
            [
                {"device_uid": uid, "hostname": f"bench-{i}", "enrolled_s": now}
                for i, (uid, _) in enumerate(devs)
            ],
        )
        ids = dict(
            conn.execute(
                devices.select().with_only_columns(devices.c.device_uid, devices.c.id)
            ).all()
        )
        conn.execute(
            device_keys.insert(),
            [
                {"device_id": ids[uid], "key_hash": hash_secret(key), "created_s": now}
                for uid, key in devs
            ],
        )
    store.close()


def _more(devs: list[tuple[str, str]], seq: int) -> Iterator[tuple[str, bytes]]:
    for s in itertools.count(seq):
        for uid, key in devs:
            yield key, typical_body(uid, s, T0 + s * 900)


def _bodies(devs: list[tuple[str, str]], per_device: int) -> list[tuple[str, bytes]]:
    """(key, body) pairs: each device's batches in sequence, devices interleaved."""
    out: list[tuple[str, bytes]] = []
    for seq in range(1, per_device + 1):
        for uid, key in devs:
            out.append((key, typical_body(uid, seq, T0 + seq * 900)))
    return out


async def _drive_raw(
    url: str,
    work: Iterable[tuple[str, bytes]],
    concurrency: int,
    start: float,
    warm_end: float,
    end: float,
) -> tuple[int, dict[int, int], list[float]]:
    """A minimal keep-alive HTTP/1.1 client: costs the CPU it must, so the server is measured."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors: dict[int, int] = {}
    ok = 0
    it = iter(work)
    while time.time() < start:
        await asyncio.sleep(0.005)

    async def worker() -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for key, body in it:
                now = time.time()
                if now >= end:
                    return
                request = (
                    f"POST /v1/batches HTTP/1.1\r\nHost: {host}\r\n"
                    f"Content-Type: {CONTENT_TYPE}\r\nAuthorization: Bearer {key}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode() + body
                t = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                code = int(head[9:12])
                i = head.lower().find(b"content-length:")
                length = int(head[i + 15 : head.index(b"\r\n", i)]) if i >= 0 else 0
                await reader.readexactly(length)
                dt = time.perf_counter() - t
                if now < warm_end:
                    continue
                if code == 200:
                    ok += 1
                    latencies.append(dt)
                else:
                    errors[code] = errors.get(code, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, errors, latencies


def _drive_httpx(
    url: str,
    work: Iterable[tuple[str, bytes]],
    concurrency: int,
    start: float,
    warm_end: float,
    end: float,
) -> tuple[int, dict[int, int], list[float]]:
    """httpx, as the agent uses it: one sync Client per thread (faster than AsyncClient here)."""
    import threading

    latencies: list[float] = []
    errors: dict[int, int] = {}
    ok = [0]
    it = iter(work)
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while time.time() < start:
                time.sleep(0.005)
            while True:
                with lock:
                    item = next(it, None)
                now = time.time()
                if item is None or now >= end:
                    return
                key, body = item
                t = time.perf_counter()
                try:
                    code = client.post(
                        "/v1/batches",
                        content=body,
                        headers={"Content-Type": CONTENT_TYPE, "Authorization": f"Bearer {key}"},
                    ).status_code
                except httpx.HTTPError:
                    code = 0
                dt = time.perf_counter() - t
                if now < warm_end:
                    continue
                with lock:
                    if code == 200:
                        ok[0] += 1
                        latencies.append(dt)
                    else:
                        errors[code] = errors.get(code, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return ok[0], errors, latencies


def _load_proc(
    args: tuple[str, str, str, int, float, float, float],
) -> tuple[int, dict[int, int], list[float]]:
    client, url, work_file, concurrency, start, warm_end, end = args
    with open(work_file, "rb") as f:
        prebuilt, devs, next_seq = pickle.load(f)
    # Past the pre-built bodies (long runs), new ones are encoded on the fly.
    work = itertools.chain(prebuilt, _more(devs, next_seq))
    if client == "httpx":
        return _drive_httpx(url, work, concurrency, start, warm_end, end)
    try:
        import uvloop

        return uvloop.run(_drive_raw(url, work, concurrency, start, warm_end, end))
    except ImportError:
        return asyncio.run(_drive_raw(url, work, concurrency, start, warm_end, end))


def _rss_mb(pid: int) -> float:
    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
        return sum(q.memory_info().rss for q in procs) / 2**20
    except psutil.Error:
        return float("nan")


def _cpu_of(procs: Iterable[psutil.Process]) -> float:
    """CPU seconds (user + system) of these processes; one that is gone counts 0."""
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _cpu_s(pid: int) -> float:
    """CPU seconds of the server and its workers (the load generator is not counted)."""
    try:
        p = psutil.Process(pid)
        return _cpu_of([p, *p.children(recursive=True)])
    except psutil.Error:
        return float("nan")


def _load_cpu_s(server_pid: int) -> float:
    """CPU seconds of this benchmark's other children: the load generator's pool."""
    return _cpu_of(p for p in psutil.Process().children() if p.pid != server_pid)


def _postgres_cpu_s() -> float:
    """CPU seconds of every PostgreSQL server process on this machine."""
    return _cpu_of(
        p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")
    )


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not come up")


def _start(target: str, port: int, db_url: str | None, workers: int) -> subprocess.Popen[bytes]:
    py = sys.executable
    env = dict(os.environ)
    if target == "noop":
        cmd = [
            py,
            "-m",
            "uvicorn",
            "bench.noop_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
        ]
    else:
        assert db_url is not None
        cmd = [
            py,
            "-c",
            "from kitlife.collector.cli.main import main; main()",
            "--db",
            db_url,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
    return subprocess.Popen(
        cmd, env=env, cwd=Path(__file__).resolve().parent.parent, start_new_session=True
    )


def run_target(
    target: str,
    args: argparse.Namespace,
    work_files: list[str],
    devs: list[tuple[str, str]],
    tmp: Path,
) -> Result:
    db_url: str | None = None
    schema = None
    if target == "sqlite":
        db_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    elif target == "postgresql":
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        db_url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    if db_url:
        _seed(db_url, devs)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start(target, port, db_url, args.workers)
    try:
        _wait_ready(url, server)
        start = time.time() + 1.0
        warm_end = start + args.warmup
        end = warm_end + args.duration
        with mp.get_context("spawn").Pool(args.procs) as pool:
            pending = pool.map_async(
                _load_proc,
                [
                    (args.client, url, wf, args.concurrency, start, warm_end, end)
                    for wf in work_files
                ],
            )
            time.sleep(max(0.0, warm_end - time.time()))
            rss_start = _rss_mb(server.pid)
            cpu_start = _cpu_s(server.pid)
            db_start = _postgres_cpu_s() if target == "postgresql" else float("nan")
            load_start = _load_cpu_s(server.pid)
            # RSS every tenth of the run, to tell a plateau from a leak.
            samples = [rss_start]
            step = args.duration / 10
            while time.time() < end - 0.5:
                time.sleep(max(0.0, min(step, end - 0.5 - time.time())))
                samples.append(_rss_mb(server.pid))
            rss_end = samples[-1]
            cpu_used = _cpu_s(server.pid) - cpu_start
            db_used = _postgres_cpu_s() - db_start
            load_used = _load_cpu_s(server.pid) - load_start
            print(
                f"{target} rss MB over the run: " + " ".join(f"{x:.0f}" for x in samples),
                file=sys.stderr,
            )
            parts = pending.get()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        if schema:
            import psycopg

            with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    ok = sum(p[0] for p in parts)
    errors: dict[int, int] = {}
    for p in parts:
        for code, n in p[1].items():
            errors[code] = errors.get(code, 0) + n
    lat = sorted(x for p in parts for x in p[2])
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan")
    return Result(
        target,
        ok,
        errors,
        args.duration,
        p50,
        p99,
        rss_start,
        rss_end,
        cpu_used,
        db_used,
        load_used,
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--targets", default="noop,sqlite,postgresql")
    ap.add_argument("--duration", type=float, default=20.0, help="measured seconds per target")
    ap.add_argument(
        "--warmup",
        type=float,
        default=10.0,
        help="seconds of load before measuring (every device seen by every worker)",
    )
    ap.add_argument("--procs", type=int, default=2, help="load-generator processes")
    ap.add_argument("--concurrency", type=int, default=32, help="requests in flight per process")
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="raw: a minimal HTTP/1.1 client, so the server (not the client) is measured; "
        "httpx: the agent's client library (costs ~0.5 ms of CPU per request)",
    )
    ap.add_argument(
        "--rate-hint",
        type=float,
        default=6000.0,
        help="batches/s to pre-build bodies for; past them the load processes encode on "
        "the fly, which costs them ~0.2 ms a batch and lowers what they can send",
    )
    ap.add_argument("--workers", type=int, default=2, help="uvicorn workers, every target")
    args = ap.parse_args(argv)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="kitlife-bench-"))
    try:
        devs = _make_devices(args.devices)
        total = int(args.rate_hint * (args.duration + args.warmup) * 1.3)
        per_device = max(1, -(-total // args.devices))
        t = time.time()
        # Each load process gets its own devices' batches, encoded in parallel.
        shares = [devs[i :: args.procs] for i in range(args.procs)]
        with mp.get_context("spawn").Pool(args.procs) as pool:
            works = pool.starmap(_bodies, [(share, per_device) for share in shares])
        print(
            f"built {sum(map(len, works))} batches ({len(works[0][0][1])} bytes each) "
            f"in {time.time() - t:.1f}s",
            file=sys.stderr,
        )
        work_files = []
        for i, (work, share) in enumerate(zip(works, shares, strict=True)):
            wf = tmp / f"work{i}.pickle"
            with open(wf, "wb") as f:
                pickle.dump((work, share, per_device + 1), f)
            work_files.append(str(wf))
        results = []
        for target in targets:
            print(f"running {target} ...", file=sys.stderr)
            results.append(run_target(target, args, work_files, devs, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ceiling = next((r.rate for r in results if r.target == "noop"), None)
    print(
        f"\ncpus={os.cpu_count()} procs={args.procs} concurrency={args.concurrency} "
        f"devices={args.devices} duration={args.duration:.0f}s workers={args.workers}"
    )
    head = (
        f"{'target':<11}{'batches/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs noop':>9}"
        f"{'cpu ms/batch':>13}{'db cpu':>8}{'load cpu':>9}{'rss start':>11}{'rss end':>9}  errors"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        ratio = f"{r.rate / ceiling:.0%}" if ceiling else "-"
        print(
            f"{r.target:<11}{r.rate:>10.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{ratio:>9}"
            f"{r.cpu_ms_per_batch:>13.2f}{r.db_cpu_ms_per_batch:>8.2f}"
            f"{r.load_cpu_ms_per_batch:>9.2f}{r.rss_start_mb:>9.0f}MB{r.rss_end_mb:>7.0f}MB"
            f"  {r.errors or '-'}"
        )


if __name__ == "__main__":
    main()
