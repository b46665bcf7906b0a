"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from kitlife import __version__
from kitlife.collector.api import (
    admin,
    assets,
    batches,
    devices,
    enroll,
    experience,
    fleet,
    health,
    ops,
)
from kitlife.collector.api.keycache import KeyCache
from kitlife.collector.runtime import metrics
from kitlife.collector.runtime.rescore import Rescorer
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.runtime.writer import GroupWriter
from kitlife.collector.store import Store

log = logging.getLogger("kitlife.collector")


async def prune_forever(store: Store, settings: Settings) -> None:
    """Retention on a schedule, so no cron job is needed: once soon after start, then daily.

    Every worker runs this schedule. On PostgreSQL one of them prunes at a
    time (an advisory lock, see ``Store.prune_if_free``) and the others skip
    that round; SQLite has one worker.
    """
    delay = settings.prune_first_delay_s
    while True:
        await asyncio.sleep(delay)
        delay = settings.prune_interval_s
        try:
            n = await run_in_threadpool(
                store.prune_if_free, settings.raw_retention_days, None, "scheduler"
            )
            if n is None:
                log.info("prune skipped: another worker is pruning")
                continue
            metrics.PRUNED.inc(n)
            log.info("pruned raw batches", extra={"deleted": n})
        except Exception:  # keep the schedule alive; the next run retries
            log.exception("scheduled prune failed")


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app; the store is opened (and migrated) once, at start-up."""
    settings = settings or Settings()
    own_store = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.store is None:
            app.state.store = Store.from_url(settings.db_url)
            app.state.store.upgrade()
        the_store: Store = app.state.store
        writer = GroupWriter(
            the_store,
            threads=settings.writer_threads,
            max_group=settings.max_group,
            on_group=metrics.observe_group,
            linger_s=settings.group_linger_s,
        )
        writer.start()
        admission = batches.Admission(settings.max_inflight_ingests)
        rescorer = (
            Rescorer(
                the_store,
                min_interval_s=settings.rescore_min_interval_s,
                duty=settings.rescore_duty,
                # Scoring waits while a quarter of the admission limit is in flight.
                busy=lambda: admission.inflight * 4 >= admission.limit,
            )
            if settings.rescore_on_ingest
            else None
        )
        if rescorer is not None:
            await run_in_threadpool(rescorer.start)
        app.state.ingest = batches.IngestRuntime(
            writer,
            KeyCache(the_store),
            admission,
            rescorer,
            {
                "sample_interval_s": settings.agent_sample_interval_s,
                "upload_interval_s": settings.agent_upload_interval_s,
                "feedback_ask_every_days": settings.agent_feedback_ask_every_days,
            },
        )
        # Everything built so far (modules, the app, the store) lives as long as
        # the process: frozen, the collector's full collections skip it. Without
        # this each full collection walked it all, 60-75 ms with the worker
        # stopped, about once a second under load: most of ingest's p99.
        gc.collect()
        gc.freeze()
        pruner = (
            asyncio.create_task(prune_forever(the_store, settings))
            if settings.prune_interval_s > 0
            else None
        )
        try:
            yield
        finally:
            gc.unfreeze()  # an app started again in this process (tests) freezes anew
            if pruner is not None:
                pruner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pruner
            await run_in_threadpool(writer.stop)
            if rescorer is not None:
                await run_in_threadpool(rescorer.stop)
            if own_store and app.state.store is not None:
                app.state.store.close()

    app = _CollectorApp(
        title="kitlife collector",
        version=__version__,
        lifespan=lifespan,
        summary="Device health in; keep, repair and redeploy decisions out.",
        # The spec is served by ops.openapi_spec behind a token; no public docs pages.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    for module in (health, enroll, batches, devices, experience, assets, fleet, admin, ops):
        app.include_router(module.router)
    return app


class _CollectorApp(FastAPI):
    """FastAPI with the ingest fast path as the outermost layer.

    Outermost, not added with ``add_middleware``: that would put it inside
    Starlette's error, telemetry and body-limit middlewares, which cost the
    hot route about a tenth of its HTTP overhead for nothing it needs (the
    fast path answers its own errors and caps its own body).
    """

    def build_middleware_stack(self) -> ASGIApp:
        return batches.IngestFastPath(super().build_middleware_stack())
