"""POST /v1/batches: where agents deliver what they spooled.

Order of checks, cheapest first, so bad input costs little and writes
nothing: a bearer credential at all (401), content type (415), declared size
(413, before any body is read), device key (401, cached lookup), the
device's own in-flight limit (429: one key cannot hold every slot), the body
read within ``body_timeout_s`` (408) and counted while reading (413, so a
chunked body without a length is cut off at the limit), then admission (429
+ Retry-After when ``max_inflight_ingests`` are already being decoded or
stored: a bounded queue, never an unbounded one), decode with the
protocol's limits (400/413/415; large batches off the event loop), the
batch's device is the key's device (403), its readings are not dated in the
future (400), then the group-commit writer stores it, idempotent on the
batch id, and the ack leaves only after the commit. A key revoked meanwhile
gets 401 from the write itself.

Why the body is read before admission: a slot held while a slow client
trickles its body in was a slot no other laptop could use; 64 connections
that sent 3 bytes each locked every device out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import NoReturn

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from kitlife.collector.api.deps import Bearer
from kitlife.collector.api.guard import Refused, read_body
from kitlife.collector.api.keycache import KeyCache
from kitlife.collector.runtime import metrics
from kitlife.collector.runtime.rescore import Rescorer
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.runtime.writer import GroupWriter
from kitlife.collector.store import DeviceRef
from kitlife.collector.store.ingest import Item, RevokedError
from kitlife.collector.store.secrets import hash_secret
from kitlife.protocol import CONTENT_TYPE, BatchSummary, Limits, ProtocolError, decode_summary

router = APIRouter(tags=["agents"])
log = logging.getLogger("kitlife.collector.ingest")


class Ack(BaseModel):
    accepted: list[str]
    duplicate: bool
    server_time_s: float
    config: dict[str, int]


class Admission:
    """At most ``limit`` ingests in flight per process; the rest are told to come back.

    Single event loop, no awaits between test and increment: no lock needed.
    """

    # The in-flight gauge is set at most this often: each update of a metric
    # shared between workers costs a lock, a pid check and a file write.
    GAUGE_EVERY_S = 0.1

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inflight = 0
        self._gauge_at = 0.0

    def try_acquire(self) -> bool:
        if self.inflight >= self.limit:
            return False
        self.inflight += 1
        self._gauge()
        return True

    def release(self) -> None:
        self.inflight -= 1
        self._gauge()

    def _gauge(self) -> None:
        now = time.monotonic()
        if now - self._gauge_at >= self.GAUGE_EVERY_S or self.inflight == 0:
            self._gauge_at = now
            metrics.INFLIGHT.set(self.inflight)


class PerDevice:
    """At most ``limit`` requests of one device in flight; a dict of counters, no lock.

    Single event loop, no awaits between test and increment.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._inflight: dict[int, int] = {}

    def try_acquire(self, device_id: int) -> bool:
        n = self._inflight.get(device_id, 0)
        if n >= self.limit:
            return False
        self._inflight[device_id] = n + 1
        return True

    def release(self, device_id: int) -> None:
        n = self._inflight.pop(device_id) - 1
        if n:
            self._inflight[device_id] = n


class Decoder:
    """Decodes a batch on the event loop when it is small, in a thread when it is not.

    Why: the typical batch (about 2 KB unpacked) decodes in about 100 us, less
    than a thread hop costs; the largest valid one takes a good fraction of a
    second, which on the loop stalls every other request and /healthz. The
    size that decides is the decompressed one (a 400-byte frame can unpack to
    megabytes): the loop decodes with a small decompressed limit, and a batch
    over it is decoded again in a thread with the full limits. At most
    ``heavy`` such decodes run at once, which bounds their memory.
    """

    def __init__(self, limits: Limits, inline_max_bytes: int, heavy: int) -> None:
        self.limits = limits
        self.inline = (
            replace(limits, max_decompressed_bytes=inline_max_bytes)
            if inline_max_bytes < limits.max_decompressed_bytes
            else None
        )
        self._heavy = asyncio.Semaphore(heavy)

    async def decode(self, body: bytes) -> BatchSummary:
        if self.inline is not None:
            try:
                return decode_summary(body, self.inline)
            except ProtocolError as err:
                if err.limit != "max_decompressed_bytes":
                    raise
        else:
            return decode_summary(body, self.limits)
        async with self._heavy:
            return await run_in_threadpool(decode_summary, body, self.limits)


@dataclass(slots=True)
class IngestRuntime:
    """What the ingest route needs beyond the store; built in the app's lifespan."""

    writer: GroupWriter
    keys: KeyCache
    admission: Admission
    rescorer: Rescorer | None = None
    # Intervals and limits every ack carries to the agents (they bound-check them).
    agent_config: dict[str, int] | None = None
    per_device: PerDevice = field(default_factory=lambda: PerDevice(2))
    decoder: Decoder | None = None


class _Reply(Exception):
    """An early answer (error or overload) from the ingest core, with its reason label."""

    def __init__(
        self, code: int, reason: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.code, self.reason, self.detail, self.headers = code, reason, detail, headers or {}


def _reject(code: int, reason: str, detail: str, headers: dict[str, str] | None = None) -> NoReturn:
    metrics.INGEST_REJECTED.labels(reason).inc()
    raise _Reply(code, reason, detail, headers)


_UNAUTHORISED = {"WWW-Authenticate": "Bearer"}
# Answers sent before the body was read close the connection: the rest of the
# body is never read, not even to be thrown away.
_CLOSE = {"Connection": "close"}


def _headers(raw: list[tuple[bytes, bytes]]) -> tuple[str, str, str | None]:
    """(bearer secret, content type, declared length) from ASGI headers, in one pass."""
    auth = ctype = b""
    length: bytes | None = None
    for name, value in raw:
        if name == b"authorization":
            auth = value
        elif name == b"content-type":
            ctype = value
        elif name == b"content-length":
            length = value
    scheme, _, secret = auth.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        secret = ""
    return (
        secret.strip(),
        ctype.decode("latin-1").split(";")[0].strip(),
        None if length is None else length.decode("latin-1"),
    )


async def _read_capped(receive: Receive, limit: int, timeout_s: float) -> bytes:
    """The body, cut off at ``limit`` (413) even when no Content-Length was declared,
    and at ``timeout_s`` (408) however slowly it trickles in (the guard's reader)."""
    try:
        return await read_body(receive, limit, timeout_s)
    except Refused as refusal:
        reason = {413: "too_large", 408: "timeout"}.get(refusal.status, "bad_batch")
        _reject(refusal.status, reason, refusal.detail.replace("body", "batch", 1), _CLOSE)


def _check_clock(batch: BatchSummary, now_s: float, skew_s: int) -> None:
    """Refuse readings dated after the collector's clock plus ``skew_s``.

    Why: the newest reading wins when latest readings merge, so one reading
    dated in 2100 would hide every real one; it also makes day rows for days
    to come. Refused, not clamped: the raw chunk is kept as received, and
    the derived rows come from the same bytes.
    """
    ahead = max(batch.last_s, batch.sent_at_s) - now_s
    if ahead > skew_s:
        _reject(
            400,
            "future",
            f"readings dated {int(ahead)} s after the collector's clock (at most {skew_s} s "
            "allowed): check the device's clock",
        )


async def ingest(
    runtime: IngestRuntime,
    settings: Settings,
    raw_headers: list[tuple[bytes, bytes]],
    receive: Receive,
) -> bytes:
    """The whole ingest path, framework-free; returns the ack's JSON or raises _Reply."""
    limit = settings.limits.max_compressed_bytes
    secret, content_type, declared = _headers(raw_headers)
    if not secret:
        _reject(401, "unauthorised", "missing bearer credentials", _UNAUTHORISED | _CLOSE)
    if content_type != CONTENT_TYPE:
        _reject(415, "content_type", f"Content-Type must be {CONTENT_TYPE}", _CLOSE)
    if declared is not None:
        if not declared.isdigit():
            _reject(400, "bad_batch", "bad Content-Length", _CLOSE)
        if int(declared) > limit:
            _reject(413, "too_large", f"batch over the limit of {limit} bytes", _CLOSE)
    key_hash = hash_secret(secret)
    device = runtime.keys.get(key_hash)
    if device is None:
        device, key_hash = await run_in_threadpool(runtime.keys.lookup, secret)
    if device is None:
        _reject(401, "unauthorised", "unknown or revoked device key", _UNAUTHORISED | _CLOSE)
    busy = {"Retry-After": str(settings.retry_after_s)}
    if not runtime.per_device.try_acquire(device.id):
        _reject(429, "overload", "this device has batches in flight; retry later", busy | _CLOSE)
    try:
        body = await _read_capped(receive, limit, settings.body_timeout_s)
        if not runtime.admission.try_acquire():
            _reject(429, "overload", "collector busy; retry later", busy)
        t0 = time.perf_counter()
        try:
            return await _store(runtime, settings, device, key_hash, body)
        finally:
            runtime.admission.release()
            metrics.INGEST_SECONDS.observe(time.perf_counter() - t0)
    finally:
        runtime.per_device.release(device.id)


async def _store(
    runtime: IngestRuntime, settings: Settings, device: DeviceRef, key_hash: str, body: bytes
) -> bytes:
    """Decode, check and store an admitted batch; the ack's JSON."""
    try:
        if runtime.decoder is None:
            batch = decode_summary(body, settings.limits)
        else:
            batch = await runtime.decoder.decode(body)
    except ProtocolError as err:
        _reject(err.status, "too_large" if err.status == 413 else "bad_batch", err.reason)
    if batch.device_id != device.uid:
        _reject(403, "wrong_device", "batch names another device than the key's own")
    now_s = time.time()
    _check_clock(batch, now_s, settings.max_clock_skew_s)
    try:
        stored = await runtime.writer.submit(Item(device.id, device.uid, batch, body, key_hash))
    except RevokedError:
        runtime.keys.forget(key_hash)
        _reject(401, "revoked", "device key revoked", _UNAUTHORISED)
    except Exception:
        log.exception("ingest failed", extra={"device": device.uid})
        _reject(
            503,
            "error",
            "could not store the batch; retry later",
            {"Retry-After": str(settings.retry_after_s)},
        )
    # Stored and duplicate batches, bytes and points are counted per group
    # by the writer (metrics.observe_group).
    if stored and runtime.rescorer is not None:
        runtime.rescorer.mark((device.id,))
    return json.dumps(
        {
            "accepted": [batch.batch_id],
            "duplicate": not stored,
            "server_time_s": now_s,
            "config": runtime.agent_config,
        }
    ).encode()


class IngestFastPath:
    """ASGI middleware that answers ``POST /v1/batches`` itself, before FastAPI's routing.

    Why: the ingest route is the one route on the hot path (1,200 batches/s
    when an estate boots), and FastAPI's request object, dependency
    resolution and response machinery cost about as much CPU as decoding a
    batch. Everything else passes through untouched. The FastAPI route below
    stays for the OpenAPI spec and calls the same :func:`ingest`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/batches" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        try:
            payload = await ingest(state.ingest, state.settings, scope["headers"], receive)
            code, headers = 200, [(b"content-type", b"application/json")]
        except _Reply as reply:
            code = reply.code
            payload = json.dumps({"detail": reply.detail}).encode()
            headers = [(b"content-type", b"application/json")]
            headers += [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
        except Exception:  # outside Starlette's error middleware: never a bare crash
            log.exception("ingest fast path failed")
            code, payload = 500, b'{"detail":"internal error"}'
            headers = [(b"content-type", b"application/json")]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


@router.post(
    "/v1/batches",
    response_model=Ack,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        400: {"description": "malformed batch, or readings dated in the future"},
        401: {"description": "bad or revoked device key"},
        403: {"description": "batch for another device"},
        408: {"description": "body not received in time"},
        413: {"description": "batch too large"},
        415: {"description": "wrong content type or wire version"},
        429: {"description": "overloaded; retry after the seconds in Retry-After"},
        503: {"description": "database error; retry after the seconds in Retry-After"},
    },
)
async def post_batch(request: Request, credentials: Bearer) -> Response:
    # Reached only without IngestFastPath in front (it answers first); same core.
    # ``credentials`` is declared so the spec shows the bearer scheme; the core
    # reads the header itself.
    del credentials
    state = request.app.state
    try:
        payload = await ingest(
            state.ingest, state.settings, request.scope["headers"], request.receive
        )
    except _Reply as reply:
        raise HTTPException(reply.code, reply.detail, headers=reply.headers) from None
    return Response(payload, media_type="application/json")
