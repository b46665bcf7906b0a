"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kitlife import __version__
from kitlife.collector.api import assets, batches, devices, enroll, fleet, health
from kitlife.collector.settings import Settings
from kitlife.collector.store import Store


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app; the store is opened (and migrated) once, at start-up."""
    settings = settings or Settings()
    own_store = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.store is None:
            app.state.store = Store.from_url(settings.db_url)
            app.state.store.upgrade()
        yield
        if own_store and app.state.store is not None:
            app.state.store.close()

    app = FastAPI(
        title="kitlife collector",
        version=__version__,
        lifespan=lifespan,
        summary="Device health in; keep, repair and redeploy decisions out.",
    )
    app.state.settings = settings
    app.state.store = store
    app.state.inflight = 0
    for module in (health, enroll, batches, devices, assets, fleet):
        app.include_router(module.router)
    return app
