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

Every uvicorn worker (and every host behind a load balancer) runs the same
schedule. A job marked ``once`` is done by one of them per round
(:mod:`kitlife.collector.store.jobs`): the round is claimed by a conditional
update of the job's ``job_rounds`` row, so the first worker to fire takes it
and the others skip it, and on PostgreSQL the round runs under an advisory
lock keyed by the job's name, so a round that outlasts its interval is not
overlapped by the next. Every job shared by hosts is ``once``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kitlife.collector.runtime import metrics
from kitlife.collector.runtime.amnesty_job import server_round
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store import Store
from kitlife.collector.store import jobs as shared_jobs

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job: ``run(store)`` after ``first_delay_s``, then every ``interval_s``."""

    name: str
    first_delay_s: float
    interval_s: float
    run: Callable[[Store], object]
    once: bool = False  # one worker of all hosts per round (store/jobs.py)


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
        self.skipped: dict[str, int] = {}  # job name -> rounds another worker or host took
        self.holder = shared_jobs.holder_name()

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
                ran = await asyncio.to_thread(self._round, job)
            except Exception:  # keep the schedule alive; the next round retries
                log.exception("background job %s failed", job.name)
                ran = True
            if ran:
                self.rounds[job.name] = self.rounds.get(job.name, 0) + 1
            else:
                self.skipped[job.name] = self.skipped.get(job.name, 0) + 1

    def _round(self, job: Job) -> bool:
        """Run one round of ``job``; False when another worker or host has it."""
        if not job.once:
            job.run(self._store)
            return True
        with shared_jobs.exclusive(self._store, job.name) as free:
            if not free or not shared_jobs.claim_round(
                self._store, job.name, job.interval_s, time.time(), self.holder
            ):
                log.info("background job %s: round taken by another worker", job.name)
                return False
            job.run(self._store)
            return True


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

    return Job("prune", settings.prune_first_delay_s, settings.prune_interval_s, prune, once=True)


def server_jobs(settings: Settings, store: Store, rescorer: Service | None) -> Jobs:
    """Everything the server runs in the background: add new jobs here."""
    jobs = Jobs(store)
    jobs.add(prune_job(settings))
    jobs.add(Job("amnesty-remind", 60.0, settings.amnesty_remind_every_s, server_round(settings)))
    if rescorer is not None:
        jobs.add_service(rescorer)
    return jobs
