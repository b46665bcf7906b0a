"""The server's background work, in one place: periodic jobs and long-running services.

A feature that needs work done in the background adds it to
:func:`server_jobs` and nowhere else; the app's lifespan starts everything
here after start-up and stops it at shutdown (``Jobs.start`` / ``Jobs.stop``).

- A :class:`Job` runs ``run(store)`` first ``first_delay_s`` after start,
  then every ``interval_s`` (an interval of 0 leaves it out). ``run`` is plain
  blocking code: it runs in a worker thread, never on the event loop. An
  exception is logged and the schedule goes on; the next round retries.
- A :class:`Service` is something with its own thread and pacing that only
  needs starting and stopping with the server: the rescorer, which ingest
  wakes rather than a clock.

Every uvicorn worker (and every host) runs the same schedule. A job whose
rounds must not overlap across workers takes a PostgreSQL advisory lock
inside its ``run`` and skips the round when another session holds it, as
``Store.prune_if_free`` does (session lock, keyed per schema). A second such
job would lift that into one ``Store`` helper keyed by the job's name, and a
``Job`` flag that wraps ``run`` in it; SQLite serves one host, where the
worker file lock (store/writelock.py) already orders writers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kitlife.collector.runtime import metrics
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job: ``run(store)`` after ``first_delay_s``, then every ``interval_s``."""

    name: str
    first_delay_s: float
    interval_s: float
    run: Callable[[Store], object]


class Service(Protocol):
    """Background work with its own thread: started and stopped with the server (blocking)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Jobs:
    """Owns the server's jobs and services: one start, one stop."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._jobs: list[Job] = []
        self._services: list[Service] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._started: list[Service] = []
        self.rounds: dict[str, int] = {}  # job name -> rounds finished (for tests and logs)

    @property
    def names(self) -> list[str]:
        return [j.name for j in self._jobs]

    def add(self, job: Job) -> None:
        """Schedule ``job``; one with a zero interval is switched off and left out."""
        if job.name in self.names:
            raise ValueError(f"a job named {job.name!r} is already scheduled")
        if job.interval_s > 0:
            self._jobs.append(job)

    def add_service(self, service: Service) -> None:
        self._services.append(service)

    async def start(self) -> None:
        """Start the services (in a thread: they may read the store) and the schedule."""
        for service in self._services:
            await asyncio.to_thread(service.start)
            self._started.append(service)
        self._tasks = [
            asyncio.create_task(self._every(job), name=f"kitlife-job-{job.name}")
            for job in self._jobs
        ]

    async def stop(self) -> None:
        """Cancel the schedule (a round in flight finishes in its thread), stop the services."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        while self._started:
            await asyncio.to_thread(self._started.pop().stop)

    async def _every(self, job: Job) -> None:
        delay = job.first_delay_s
        while True:
            await asyncio.sleep(delay)
            delay = job.interval_s
            try:
                await asyncio.to_thread(job.run, self._store)
            except Exception:  # keep the schedule alive; the next round retries
                log.exception("background job %s failed", job.name)
            self.rounds[job.name] = self.rounds.get(job.name, 0) + 1


def prune_job(settings: Settings) -> Job:
    """Retention without a cron job: raw batches past the window, soon after start, then daily.

    On PostgreSQL one worker prunes at a time (``Store.prune_if_free``) and
    the others skip that round.
    """

    def prune(store: Store) -> None:
        n = store.prune_if_free(settings.raw_retention_days, None, "scheduler")
        if n is None:
            log.info("prune skipped: another worker is pruning")
            return
        metrics.PRUNED.inc(n)
        log.info("pruned raw batches", extra={"deleted": n})

    return Job("prune", settings.prune_first_delay_s, settings.prune_interval_s, prune)


def server_jobs(settings: Settings, store: Store, rescorer: Service | None) -> Jobs:
    """Everything the server runs in the background: add new jobs here."""
    jobs = Jobs(store)
    jobs.add(prune_job(settings))
    if rescorer is not None:
        jobs.add_service(rescorer)
    return jobs
