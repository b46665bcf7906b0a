"""GET /metrics and GET /openapi.json: operations, behind a service-desk or admin token.

Why protected and not on a separate port: one listener is simpler to deploy
behind a proxy, and Prometheus sends a bearer token natively
(``authorization: {credentials: ...}`` in the scrape config). The OpenAPI
spec names every route, so it is not public either; the interactive /docs
page is off (it would load scripts from a CDN).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kitlife.collector.api.deps import ServiceDesk
from kitlife.collector.runtime import metrics

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (service desk or admin token)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, 401: {"description": "no valid token"}},
)
def prometheus_metrics(_role: ServiceDesk) -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


@router.get(
    "/openapi.json",
    summary="This API's OpenAPI spec (service desk or admin token)",
    responses={401: {"description": "no valid token"}},
)
def openapi_spec(request: Request, _role: ServiceDesk) -> dict[str, Any]:
    spec: dict[str, Any] = request.app.openapi()
    return spec
