"""How the collector runs under uvicorn: one config for `kitlife serve` and the tests.

Why a protocol class of our own: uvicorn's httptools protocol, the fast one
the ingest rate depends on, puts no limit on a request's line and headers.
It appends every piece to the URL and the header list until the blank line
comes, so eight connections sending 200 MiB of unfinished headers took a
server from 611 MB to 2.1 GB, and a client that sends one header byte a
minute holds its connection for ever. :class:`HeadGuardedProtocol` counts
the bytes of each request head before the parser sees them (431 and close
above ``max_header_bytes``) and gives the head ``header_timeout_s`` to
arrive (408 and close). httptools is a dependency of the collector; were
uvicorn's h11 protocol used instead, it bounds heads by itself
(``h11_max_incomplete_event_size``, set to the same value).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kitlife.collector.runtime.settings import Settings


class ServerConfig(uvicorn.Config):
    """uvicorn's config plus the head timeout (it travels to every worker with the config)."""

    def __init__(self, app: Any, *, header_timeout_s: float = 30.0, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.header_timeout_s = header_timeout_s


def _reply(status: bytes) -> bytes:
    return b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class HeadGuardedProtocol(HttpToolsProtocol):
    """httptools' protocol with a size limit and a deadline on each request head."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._head_max = config.h11_max_incomplete_event_size or 65_536
        self._head_timeout_s = config.header_timeout_s if isinstance(config, ServerConfig) else 30.0
        self._head_bytes = 0
        self._in_head = True
        self._heads_done = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # A read can hold the end of a head and the start of a body: feed the
        # parser what the head may still take, and refuse only if the head
        # has not ended within it.
        if self._in_head and len(data) > self._head_max - self._head_bytes:
            room = self._head_max - self._head_bytes
            self._head_bytes = self._head_max
            heads = self._heads_done
            super().data_received(data[:room])
            if heads == self._heads_done:
                self._refuse(b"431 Request Header Fields Too Large")
                return
            data = data[room:]
        elif self._in_head:
            self._head_bytes += len(data)
        if data and not self.transport.is_closing():
            super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._heads_done += 1
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self._head_timeout_s, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head:
            self._refuse(b"408 Request Timeout")

    def _refuse(self, status: bytes) -> None:
        self._disarm()
        self._in_head = False
        if not self.transport.is_closing():
            self.transport.write(_reply(status))
            self.transport.close()


def server_config(app: Any, settings: Settings, **kwargs: Any) -> ServerConfig:
    """uvicorn's config with the collector's limits on connections and request heads."""
    return ServerConfig(
        app,
        http=HeadGuardedProtocol,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        header_timeout_s=settings.header_timeout_s,
        limit_concurrency=settings.max_connections,
        **kwargs,
    )


def serve(config: ServerConfig) -> None:
    """Run uvicorn as ``uvicorn.run`` does, but with our config object (and its protocol)."""
    from uvicorn.supervisors import Multiprocess

    server = uvicorn.Server(config)
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
        if not server.started:
            raise SystemExit(3)  # uvicorn's STARTUP_FAILURE, as uvicorn.run exits
