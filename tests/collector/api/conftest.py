"""HTTP fixtures: the app on a real uvicorn server on a free loopback port, per database."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from kitlife.collector.api.app import create_app
from kitlife.collector.api.server import server_config
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Live:
    """A running collector: its URL, its store (to arrange and check) and ready credentials."""

    url: str
    store: Store
    admin: str
    servicedesk: str
    server: uvicorn.Server

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def enroll(self, hostname: str = "host") -> tuple[str, str]:
        return self.store.enroll(self.store.create_enrol_token(1, 600), {"inv.hostname": hostname})


def start_server(settings: Settings, store: Store) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    app = create_app(settings, store)
    config = server_config(app, settings, host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(db_url=db_url, prune_interval_s=0)


@contextmanager
def running(settings: Settings) -> Iterator[Live]:
    """The collector on a real uvicorn server in a thread, stopped (lifespan and all) after."""
    store = Store.from_url(settings.db_url)
    store.upgrade()
    admin = store.create_api_token("admin", "test admin")
    desk = store.create_api_token("servicedesk", "test desk")
    server, thread, url = start_server(settings, store)
    try:
        yield Live(url, store, admin, desk, server)
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()


@pytest.fixture
def live(settings: Settings) -> Iterator[Live]:
    with running(settings) as server:
        yield server
