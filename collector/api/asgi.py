"""ASGI entry point for uvicorn workers: ``kitlife.collector.api.asgi:app_from_environment``.

A factory (uvicorn's ``factory=True``), not a module-level app: uvicorn calls
it once in each worker as the worker starts, so each worker reads the
``KITLIFE_*`` settings once, then, and importing this module reads nothing.
``kitlife serve`` has already validated the same environment and put its
``--db`` into ``KITLIFE_DB`` for the workers.
"""

from fastapi import FastAPI

from kitlife.collector.api.app import create_app
from kitlife.collector.runtime.settings import load_settings


def app_from_environment() -> FastAPI:
    return create_app(load_settings())
