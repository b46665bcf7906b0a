"""Limits on every request body but a batch's, applied before FastAPI sees the request.

Why a layer in front: FastAPI reads and parses a JSON body before it runs
the route's dependencies, credential check included, so one 256 MiB body
sent without a token to ``POST /v1/enroll`` peaked a server at 954 MB. Here,
before anything is read:

1. a declared ``Content-Length`` over the route's limit gets **413**
   (``max_body_bytes``, 64 KiB; ``PUT /v1/assets`` ``max_register_bytes``);
2. a body sent to the API (``/v1/...``) without a live enrolment or API
   token gets **401** (the route still checks the role, after);
3. the body is read with the same limit counted as it streams (413) and a
   deadline for the whole of it (``body_timeout_s``, **408**), then handed
   to the app from memory.

Early answers close the connection, so the rest of a refused body is never
read. ``POST /v1/batches`` is not handled here: :mod:`.batches` answers it
before this layer with the same rules and its own limits.
"""

from __future__ import annotations

import asyncio
import json

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store import Store


class Refused(Exception):
    """A request answered before the app saw it: status, one-line detail, extra headers."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


def body_limit(method: str, path: str, settings: Settings) -> int:
    """The most bytes a request body to this route may hold."""
    if method == "PUT" and path == "/v1/assets":
        return settings.max_register_bytes
    return settings.max_body_bytes


async def read_body(receive: Receive, limit: int, timeout_s: float) -> bytes:
    """The whole body, or Refused: 413 past ``limit`` bytes, 408 past ``timeout_s``."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise Refused(400, "client went away")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise Refused(413, f"body over the limit of {limit} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    # One chunk (a batch usually comes in one): no copy.
                    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except TimeoutError:
        raise Refused(408, f"body not received within {timeout_s:g} s") from None


class RequestGuard:
    """ASGI middleware: body limits, read deadline and credential-before-body (see module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        chunked = False
        auth = b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"authorization":
                auth = value
        if not chunked and (length is None or length.strip() in (b"", b"0")):
            await self.app(scope, receive, send)  # no body to guard
            return
        state = scope["app"].state
        settings: Settings = state.settings
        try:
            limit = body_limit(scope["method"], scope["path"], settings)
            if length is not None and not chunked:
                if not length.strip().isdigit():
                    raise Refused(400, "bad Content-Length")
                if int(length) > limit:
                    raise Refused(413, f"body over the limit of {limit} bytes")
            if scope["path"].startswith("/v1/"):
                await self._check_credential(state.store, auth)
            body = await read_body(receive, limit, settings.body_timeout_s)
        except Refused as refusal:
            await _answer(send, refusal)
            return
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    async def _check_credential(store: Store, auth: bytes) -> None:
        scheme, _, secret = auth.decode("latin-1").partition(" ")
        secret = secret.strip()
        unauthorised = {"WWW-Authenticate": "Bearer"}
        if scheme.lower() != "bearer" or not secret:
            raise Refused(401, "missing bearer credentials", unauthorised)
        if not await run_in_threadpool(store.credential_live, secret):
            raise Refused(401, "unknown, expired or revoked token", unauthorised)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands over the body read already, then the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, refusal: Refused) -> None:
    payload = json.dumps({"detail": refusal.detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),  # the rest of the body is never read
        *((k.lower().encode(), v.encode()) for k, v in refusal.headers.items()),
    ]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
