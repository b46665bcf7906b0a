"""Group commit: one writer thread turns many requests' batches into one transaction.

Why: a commit that reaches the disk (SQLite's ``synchronous=FULL``, or
PostgreSQL's WAL flush) costs about the same for one batch as for two hundred.
Requests hand their decoded batch to a queue and wait; a writer thread takes
everything queued (up to ``max_group``), stores it in one transaction, and
only then wakes each request to send its ack. Nothing is acknowledged before
it is committed, and the queue cannot grow without bound because the HTTP
layer admits at most ``max_inflight_ingests`` requests (the rest get 429).

SQLite gets exactly one writer thread (it has one writer lock anyway);
PostgreSQL can use several, each with its own connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kitlife.collector.store import Store
from kitlife.collector.store.ingest import Item

log = logging.getLogger("kitlife.collector.runtime.writer")

Result = bool | Exception


@dataclass(slots=True)
class _Job:
    item: Item
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[bool]


def _settle(jobs: list[tuple[asyncio.Future[bool], Result]]) -> None:
    for future, result in jobs:
        if future.done():  # the request went away (client disconnected)
            continue
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)


class GroupWriter:
    """Writer threads that store queued batches, many per transaction."""

    def __init__(
        self,
        store: Store,
        threads: int = 1,
        max_group: int = 256,
        on_group: Callable[[Sequence[Item], Sequence[Result], float], None] | None = None,
        linger_s: float = 0.0,
    ) -> None:
        if store.dialect == "sqlite":
            threads = 1
        self.store = store
        self.max_group = max_group
        # Wait this long for company before writing a group that is smaller than
        # the requests in flight: bigger groups, fewer commits, and the request
        # threads get the GIL meanwhile to decode the next batches.
        self.linger_s = linger_s
        self.on_group = on_group
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._run, name=f"kitlife-writer-{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            for t in self._threads:
                t.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish what is queued, then end the threads."""
        if not self._started:
            return
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout_s)
        self._started = False

    async def submit(self, item: Item) -> bool:
        """Wait until ``item`` is committed: True stored, False a retry; raises on error."""
        if not self._started:
            raise RuntimeError("writer not started (the app's lifespan starts it)")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.put(_Job(item, loop, future))
        return await future

    def _take(self) -> tuple[list[_Job], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        group, stop = [first], False
        lingered = self.linger_s <= 0
        while len(group) < self.max_group:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                if lingered:
                    break
                lingered = True
                time.sleep(self.linger_s)
                continue
            if job is None:
                stop = True
                break
            group.append(job)
        return group, stop

    def _write(self, items: Sequence[Item]) -> list[Result]:
        try:
            return self.store.ingest_many(items)
        except Exception:
            if len(items) == 1:
                raise
            log.warning("group of %d failed; retrying one by one", len(items), exc_info=True)
        out: list[Result] = []
        for item in items:
            try:
                out.extend(self.store.ingest_many([item]))
            except Exception as err:  # one bad item must not fail the others
                out.append(err)
        return out

    def _run(self) -> None:
        while True:
            group, stop = self._take()
            if group:
                t0 = time.perf_counter()
                try:
                    results = self._write([j.item for j in group])
                except Exception as err:
                    log.exception("ingest write failed")
                    results = [err] * len(group)
                if self.on_group is not None:
                    try:
                        self.on_group([j.item for j in group], results, time.perf_counter() - t0)
                    except Exception:  # metrics must never fail a commit's acks
                        log.exception("group metrics failed")
                by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], Result]]]
                by_loop = {}
                for job, result in zip(group, results, strict=True):
                    by_loop.setdefault(job.loop, []).append((job.future, result))
                for loop, settled in by_loop.items():
                    # RuntimeError: that loop is closed, nobody waits any more.
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(_settle, settled)
            if stop:
                return
