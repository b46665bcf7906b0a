"""Building a simulated estate in bulk: the rows ingest would write, folded in worker processes.

Why: :func:`kitlife.collector.tools.simulate.populate` sends every batch
through :meth:`Store.ingest`, a transaction per batch that reads, merges and
rewrites its device's rows: hours for the 72,000-device estate the issue
asks for. Here each device's batches are summarised as ``decode_summary``
would summarise their encoded bytes (:func:`summarise`, the wire's
arithmetic vectorised), folded by the store's own ingest code
(:func:`kitlife.collector.store.bulk.fold_device`) in ``jobs`` worker
processes, and written a few hundred devices per transaction by this one.
Only the raw chunks kept (within the retention window) are encoded. Devices
are enrolled through :meth:`Store.enroll`, as agents do.

A test checks the rows equal those the HTTP ingest path leaves, on a sample
estate (tests/collector/tools/test_bulk_estate.py).
"""

from __future__ import annotations

import itertools
import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from kitlife.collector.store.bulk import DeviceRows, fold_device, write_devices
from kitlife.collector.tools.simulate import (
    Estate,
    SimulateStats,
    device_batches,
    enrol_facts,
)
from kitlife.protocol import Batch, BatchSummary, DayAggregate, Series, decode_summary, encode_batch

_DAY_S = 86_400

#: Devices per worker task and per write transaction.
CHUNK = 200

# The estate, set in each forked worker by the pool's initializer (not pickled per task).
_WORKER: dict[str, Estate] = {}


def _init_worker(estate: Estate) -> None:
    _WORKER["estate"] = estate


def _days(s: Series) -> list[DayAggregate]:
    """One series' day aggregates with the wire's arithmetic, vectorised.

    Quantised as ``encode_batch`` does (``round(v / 10.0**e)``, half to even
    in both Python and numpy), grouped by UTC day, summed as integers, and
    dequantised as ``decode_summary`` does (``q * 10**e``, or ``q / 10**-e``:
    exact for integers below 2**53, as these are).
    """
    e = s.exponent
    v = np.asarray(s.values, dtype=np.float64)
    q = np.round(v / 10.0**e).astype(np.int64) if e else np.round(v).astype(np.int64)
    t = np.asarray(s.timestamps_s, dtype=np.int64)
    if t.size > 1 and (np.diff(t) < 0).any():
        raise ValueError("bulk summaries take series oldest first, as the simulator makes them")
    day = t // _DAY_S
    starts = np.flatnonzero(np.diff(day)) + 1
    bounds = np.empty(starts.size + 2, dtype=np.int64)
    bounds[0], bounds[1:-1], bounds[-1] = 0, starts, day.size
    starts, ends, n = bounds[:-1], bounds[1:] - 1, np.diff(bounds)
    total = np.add.reduceat(q, starts)
    lo, hi = np.minimum.reduceat(q, starts), np.maximum.reduceat(q, starts)

    def deq(x: np.ndarray[Any, Any]) -> list[float]:
        if e >= 0:
            return (x * 10**e).astype(np.float64).tolist()  # type: ignore[no-any-return]
        return (x / 10 ** (-e)).tolist()  # type: ignore[no-any-return]

    return list(
        map(
            DayAggregate,
            itertools.repeat(s.metric_id),
            itertools.repeat(s.component),
            day[starts].tolist(),
            n.tolist(),
            deq(total),
            deq(lo),
            deq(hi),
            deq(q[ends]),
            t[ends].tolist(),
        )
    )


def summarise(batch: Batch) -> BatchSummary:
    """What ``decode_summary(encode_batch(batch))`` gives, without the bytes.

    The bulk path's one shortcut: decoding a 30-day batch day by day was most
    of its time. Held equal to the real decoder by a test over every batch of
    a sample estate, and at run time on the first batch of every chunk
    (:func:`_fold`).
    """
    days = [a for s in batch.series for a in _days(s)]
    stamps = [t for s in batch.series for t in (s.timestamps_s[0], s.timestamps_s[-1])]
    stamps += [x.t_s for x in batch.texts]
    return BatchSummary(
        batch.device_id,
        batch.spool_id,
        batch.seq,
        batch.sent_at_s,
        batch.agent_version,
        tuple(days),
        batch.texts,
        batch.unavailable,
        sum(len(s.values) for s in batch.series) + len(batch.texts),
        min(stamps, default=batch.sent_at_s),
        max(stamps, default=batch.sent_at_s),
    )


class SummaryMismatchError(RuntimeError):
    """The bulk summary of a batch differs from the real decoder's."""


def _fold(
    estate: Estate, work: Sequence[tuple[int, int, str]], batch_days: int, keep_raw_from_s: int
) -> list[DeviceRows]:
    """The chunk's devices folded; raw chunks are encoded only where they are kept."""
    out = []
    for k, (index, device_id, uid) in enumerate(work):
        received = []
        for batch in device_batches(estate.devices[index], estate, uid, batch_days):
            summary = summarise(batch)
            keep = batch.sent_at_s >= keep_raw_from_s
            body = encode_batch(batch) if keep or k == 0 else b""
            if k == 0 and (real := decode_summary(body)) != summary:
                raise SummaryMismatchError(f"batch {batch.batch_id}: {summary} != {real}")
            received.append((summary, body if keep else b"", batch.sent_at_s))
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
