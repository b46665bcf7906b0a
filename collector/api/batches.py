"""POST /v1/batches: where agents deliver what they spooled.

Order of checks, cheapest first, so bad input costs little and writes
nothing: content type (415), declared size (413, before any body is read),
device key (401), streamed size (413), decode with the protocol's limits
(400/413/415), the batch's device is the key's device (403), then one
transaction, idempotent on the batch id. Under overload: 429 + Retry-After.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from kitlife.collector.api.deps import DeviceDep, SettingsDep, StoreDep
from kitlife.collector.settings import Settings
from kitlife.collector.store import DeviceRef, Store
from kitlife.protocol import CONTENT_TYPE, ProtocolError, decode_batch

router = APIRouter(tags=["agents"])


class Ack(BaseModel):
    accepted: list[str]
    duplicate: bool
    server_time_s: float
    config: dict[str, int]


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, f"batch over the limit of {limit} bytes"
    )


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "bad Content-Length")
        if int(declared) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _ingest(store: Store, settings: Settings, device: DeviceRef, body: bytes) -> Ack:
    try:
        batch = decode_batch(body, settings.limits)
    except ProtocolError as err:
        raise HTTPException(err.status, err.reason) from err
    if batch.device_id != device.uid:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "batch names another device than the key's own"
        )
    stored = store.ingest(device, batch, body)
    return Ack(
        accepted=[batch.batch_id],
        duplicate=not stored,
        server_time_s=time.time(),
        config={
            "sample_interval_s": settings.agent_sample_interval_s,
            "upload_interval_s": settings.agent_upload_interval_s,
            "feedback_ask_every_days": settings.agent_feedback_ask_every_days,
        },
    )


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
        401: {"description": "bad device key"},
        403: {"description": "batch for another device"},
        413: {"description": "batch too large"},
        415: {"description": "wrong content type or wire version"},
        429: {"description": "overloaded; retry after the given seconds"},
    },
)
async def post_batch(
    request: Request, device: DeviceDep, store: StoreDep, settings: SettingsDep
) -> Ack:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != CONTENT_TYPE:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"Content-Type must be {CONTENT_TYPE}"
        )
    state = request.app.state
    if state.inflight >= settings.max_inflight_ingests:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "collector busy; retry later",
            headers={"Retry-After": str(settings.retry_after_s)},
        )
    state.inflight += 1
    try:
        body = await _read_capped(request, settings.limits.max_compressed_bytes)
        return await run_in_threadpool(_ingest, store, settings, device, body)
    finally:
        state.inflight -= 1
