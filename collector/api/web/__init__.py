"""The web pages for the service desk and admins (server-rendered, no script)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    """Add the pages and their stylesheet to the collector's app."""
    from kitlife.collector.api.web import pages
    from kitlife.collector.api.web.render import STATIC_DIR

    app.include_router(pages.router)
    app.mount("/web/static", StaticFiles(directory=STATIC_DIR), name="web-static")
