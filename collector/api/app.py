"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from kitlife import __version__
from kitlife.collector.api import (
    admin,
    amnesty,
    assets,
    batches,
    decisions,
    devices,
    enroll,
    experience,
    fleet,
    guard,
    health,
    ops,
    web,
)
from kitlife.collector.api.keycache import KeyCache
from kitlife.collector.runtime import metrics
from kitlife.collector.runtime.jobs import server_jobs
from kitlife.collector.runtime.rescore import Rescorer
from kitlife.collector.runtime.settings import Settings, open_store
from kitlife.collector.runtime.writer import GroupWriter
from kitlife.collector.store import Store


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """Build the app from settings read once by the caller (the CLI, or a worker at start).

    Without ``store`` the app opens (and migrates) its own at start-up, from
    ``settings``, and closes it at shutdown.
    """
    own_store = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.store is None:
            app.state.store = open_store(settings)
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
                roles_path=settings.roles_path,
            )
            if settings.rescore_on_ingest
            else None
        )
        jobs = app.state.jobs = server_jobs(settings, the_store, rescorer)
        await jobs.start()
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
            batches.PerDevice(settings.max_inflight_per_device),
            batches.Decoder(
                settings.limits, settings.decode_inline_max_bytes, settings.max_heavy_decodes
            ),
        )
        # Everything built so far (modules, the app, the store) lives as long as
        # the process: frozen, the collector's full collections skip it. Without
        # this each full collection walked it all, 60-75 ms with the worker
        # stopped, about once a second under load: most of ingest's p99.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()  # an app started again in this process (tests) freezes anew
            await run_in_threadpool(writer.stop)
            await jobs.stop()
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
    for module in (
        health,
        enroll,
        batches,
        devices,
        decisions,
        experience,
        assets,
        fleet,
        admin,
        ops,
        amnesty,
    ):
        app.include_router(module.router)
    web.install(app)
    return app


class _CollectorApp(FastAPI):
    """FastAPI with the ingest fast path as the outermost layer, then the request guard.

    Outermost, not added with ``add_middleware``: that would put it inside
    Starlette's error, telemetry and body-limit middlewares, which cost the
    hot route about a tenth of its HTTP overhead for nothing it needs (the
    fast path answers its own errors and caps its own body).
    """

    def build_middleware_stack(self) -> ASGIApp:
        return batches.IngestFastPath(guard.RequestGuard(super().build_middleware_stack()))
