"""ASGI entry point for uvicorn workers: ``kitlife.collector.api.asgi:app``."""

from kitlife.collector.api.app import create_app

app = create_app()
