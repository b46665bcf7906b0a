"""ASGI entry point for uvicorn workers: ``kitlife.collector.asgi:app``."""

from kitlife.collector.app import create_app

app = create_app()
