"""POST /v1/batches: where agents deliver what they spooled.

Order of checks, cheapest first, so bad input costs little and writes
nothing: a bearer credential at all (401), content type (415), declared size
(413, before any body is read), admission (429 + Retry-After when
``max_inflight_ingests`` requests are already in flight: a bounded queue,
never an unbounded one), device key (401, cached lookup), streamed size (413,
counted while reading, so a chunked body without a length is cut off at the
limit), decode with the protocol's limits (400/413/415), the batch's device
is the key's device (403), then the group-commit writer stores it,
idempotent on the batch id, and the ack leaves only after the commit. A key
revoked meanwhile gets 401 from the write itself.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import NoReturn

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from kitlife.collector import metrics
from kitlife.collector.api.deps import Bearer
from kitlife.collector.api.keycache import KeyCache
from kitlife.collector.rescore import Rescorer
from kitlife.collector.settings import Settings
from kitlife.collector.store.ingest import Item, RevokedError
from kitlife.collector.store.secrets import hash_secret
from kitlife.collector.writer import GroupWriter
from kitlife.protocol import CONTENT_TYPE, ProtocolError, decode_summary

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

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inflight = 0

    def try_acquire(self) -> bool:
        if self.inflight >= self.limit:
            return False
        self.inflight += 1
        metrics.INFLIGHT.inc()
        return True

    def release(self) -> None:
        self.inflight -= 1
        metrics.INFLIGHT.dec()


@dataclass(slots=True)
class IngestRuntime:
    """What the ingest route needs beyond the store; built in the app's lifespan."""

    writer: GroupWriter
    keys: KeyCache
    admission: Admission
    rescorer: Rescorer | None = None


def _reject(code: int, reason: str, detail: str, headers: dict[str, str] | None = None) -> NoReturn:
    metrics.INGEST_REJECTED.labels(reason).inc()
    raise HTTPException(code, detail, headers=headers)


async def _read_capped(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            _reject(413, "too_large", f"batch over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


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
        400: {"description": "malformed batch"},
        401: {"description": "bad or revoked device key"},
        403: {"description": "batch for another device"},
        413: {"description": "batch too large"},
        415: {"description": "wrong content type or wire version"},
        429: {"description": "overloaded; retry after the seconds in Retry-After"},
        503: {"description": "database error; retry after the seconds in Retry-After"},
    },
)
async def post_batch(request: Request, credentials: Bearer) -> Response:
    settings = _settings(request)
    runtime: IngestRuntime = request.app.state.ingest
    limit = settings.limits.max_compressed_bytes
    if credentials is None or not credentials.credentials:
        _reject(401, "unauthorised", "missing bearer credentials", {"WWW-Authenticate": "Bearer"})
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != CONTENT_TYPE:
        _reject(415, "content_type", f"Content-Type must be {CONTENT_TYPE}")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            _reject(400, "bad_batch", "bad Content-Length")
        if int(declared) > limit:
            _reject(413, "too_large", f"batch over the limit of {limit} bytes")
    if not runtime.admission.try_acquire():
        _reject(
            429,
            "overload",
            "collector busy; retry later",
            {"Retry-After": str(settings.retry_after_s)},
        )
    t0 = time.perf_counter()
    try:
        key_hash = hash_secret(credentials.credentials)
        device = runtime.keys.get(key_hash)
        if device is None:
            device, key_hash = await run_in_threadpool(runtime.keys.lookup, credentials.credentials)
        if device is None:
            _reject(
                401, "unauthorised", "unknown or revoked device key", {"WWW-Authenticate": "Bearer"}
            )
        body = await _read_capped(request, limit)
        try:
            batch = decode_summary(body, settings.limits)
        except ProtocolError as err:
            _reject(err.status, "too_large" if err.status == 413 else "bad_batch", err.reason)
        if batch.device_id != device.uid:
            _reject(403, "wrong_device", "batch names another device than the key's own")
        try:
            stored = await runtime.writer.submit(Item(device.id, device.uid, batch, body, key_hash))
        except RevokedError:
            runtime.keys.forget(key_hash)
            _reject(401, "revoked", "device key revoked", {"WWW-Authenticate": "Bearer"})
        except Exception:
            log.exception("ingest failed", extra={"device": device.uid})
            _reject(
                503,
                "error",
                "could not store the batch; retry later",
                {"Retry-After": str(settings.retry_after_s)},
            )
        if stored:
            if runtime.rescorer is not None:
                runtime.rescorer.mark([device.id])
            metrics.INGEST_BATCHES.labels("stored").inc()
            metrics.INGEST_BYTES.inc(len(body))
            metrics.INGEST_POINTS.inc(batch.n_points)
        else:
            metrics.INGEST_BATCHES.labels("duplicate").inc()
        ack = {
            "accepted": [batch.batch_id],
            "duplicate": not stored,
            "server_time_s": time.time(),
            "config": {
                "sample_interval_s": settings.agent_sample_interval_s,
                "upload_interval_s": settings.agent_upload_interval_s,
                "feedback_ask_every_days": settings.agent_feedback_ask_every_days,
            },
        }
        return Response(json.dumps(ack).encode(), media_type="application/json")
    finally:
        runtime.admission.release()
        metrics.INGEST_SECONDS.observe(time.perf_counter() - t0)
