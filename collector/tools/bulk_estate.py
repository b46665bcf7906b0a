"""Building a simulated estate in bulk: the rows ingest would write, folded in worker processes.

Why: :func:`kitlife.collector.tools.simulate.populate` sends every batch
through :meth:`Store.ingest`, a transaction per batch that reads, merges and
rewrites its device's rows: hours for the 72,000-device estate the issue
asks for. Here each device's batches are encoded and decoded exactly as an
agent and the collector would (``encode_batch``, then ``decode_summary`` of
those bytes), folded by the store's own ingest code
(:func:`kitlife.collector.store.bulk.fold_device`) in ``jobs`` worker
processes, and written a few hundred devices per transaction by this one
(SQLite has one writer; PostgreSQL would take more, but the folding is the
cost). Devices are enrolled through :meth:`Store.enroll`, as agents do.

A test checks the rows equal those the HTTP ingest path leaves, on a sample
estate (tests/collector/tools/test_bulk_estate.py).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from kitlife.collector.store.bulk import DeviceRows, fold_device, write_devices
from kitlife.collector.tools.simulate import (
    Estate,
    SimulateStats,
    device_batches,
    enrol_facts,
)
from kitlife.protocol import decode_summary, encode_batch

#: Devices per worker task and per write transaction.
CHUNK = 200

# The estate, set in each forked worker by the pool's initializer (not pickled per task).
_WORKER: dict[str, Estate] = {}


def _init_worker(estate: Estate) -> None:
    _WORKER["estate"] = estate


def _fold(
    estate: Estate, work: Sequence[tuple[int, int, str]], batch_days: int, keep_raw_from_s: int
) -> list[DeviceRows]:
    out = []
    for index, device_id, uid in work:
        received = []
        for batch in device_batches(estate.devices[index], estate, uid, batch_days):
            body = encode_batch(batch)
            received.append((decode_summary(body), body, batch.sent_at_s))
        out.append(fold_device(device_id, uid, received, keep_raw_from_s))
    return out


def _fold_in_worker(args: tuple[Sequence[tuple[int, int, str]], int, int]) -> list[DeviceRows]:
    return _fold(_WORKER["estate"], *args)


def populate_bulk(
    store: Any,
    estate: Estate,
    batch_days: int = 30,
    progress: Callable[[int, int], None] | None = None,
    jobs: int = 1,
    keep_raw_days: int | None = 90,
    now_s: int | None = None,
) -> SimulateStats:
    """Enrol every device and write the rows its batches leave, in bulk.

    ``keep_raw_days``: raw chunks received longer ago than this (by ``now_s``,
    default the wall clock) are left out, as the retention job would delete
    them; None keeps every chunk.
    """
    t0 = time.perf_counter()
    token = store.create_enrol_token(
        uses=len(estate.devices), expires_in_s=3600, note=f"simulate seed {estate.seed}"
    )
    work: list[tuple[int, int, str]] = []
    for index, dev in enumerate(estate.devices):
        _uid, key = store.enroll(token, enrol_facts(dev))
        ref = store.device_for_key(key)
        work.append((index, ref.id, ref.uid))
    t1 = time.perf_counter()
    now = int(time.time()) if now_s is None else now_s
    keep_from = 0 if keep_raw_days is None else now - keep_raw_days * 86_400
    tasks = [(work[i : i + CHUNK], batch_days, keep_from) for i in range(0, len(work), CHUNK)]
    batches = points = wire = done = 0
    fold_s = 0.0

    def write(results: Iterator[list[DeviceRows]]) -> None:
        nonlocal batches, points, wire, done, fold_s
        while True:
            f0 = time.perf_counter()
            rows = next(results, None)
            fold_s += time.perf_counter() - f0
            if rows is None:
                return
            with store.engine.begin() as conn:
                write_devices(conn, rows)
            batches += sum(r.n_batches for r in rows)
            points += sum(r.n_points for r in rows)
            wire += sum(r.wire_bytes for r in rows)
            done += len(rows)
            if progress:
                progress(done, len(work))

    if jobs > 1:
        store.engine.dispose()  # no pooled connection may cross a fork
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=_init_worker, initargs=(estate,)) as pool:
            write(iter(pool.imap(_fold_in_worker, tasks)))
    else:
        write(_fold(estate, *t) for t in tasks)
    t2 = time.perf_counter()
    # generate_s: the time this process waited for folded devices (all of it with one job).
    return SimulateStats(len(estate.devices), batches, points, wire, fold_s, t1 - t0, t2 - t1, jobs)
