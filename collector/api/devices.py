"""GET /v1/devices and /v1/devices/{query}: what the service desk reads."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from kitlife.collector.api.deps import ServiceDesk, StoreDep
from kitlife.collector.api.formats import FORMAT_RESPONSES, FormatQuery, chosen, respond
from kitlife.collector.reports.device import LIST_FIELDS, device_report, device_rows
from kitlife.collector.reports.device_view import VIEW_CSV_COLUMNS, device_view, view_csv_rows
from kitlife.collector.store import NotFoundError

router = APIRouter(tags=["devices"])


@router.get(
    "/v1/devices",
    summary="Every device, one row each",
    response_model=list[dict[str, Any]],
    responses=FORMAT_RESPONSES,
)
def list_devices(
    request: Request, store: StoreDep, _role: ServiceDesk, fmt: FormatQuery = None
) -> Response:
    return respond(request, fmt, device_rows(store), name="devices", columns=LIST_FIELDS)


@router.get(
    "/v1/devices/{query}",
    summary="A device's health report, by hostname, serial or id",
    description="JSON: identity, assessment, latest readings. CSV and HTML lead with the "
    "verdict, then each part's health (the HTML page with history charts).",
    response_model=dict[str, Any],
    responses={**FORMAT_RESPONSES, 404: {"description": "no such device, or ambiguous"}},
)
def show_device(
    request: Request, query: str, store: StoreDep, _role: ServiceDesk, fmt: FormatQuery = None
) -> Response:
    try:
        if chosen(request, fmt) == "json":
            return respond(request, "json", device_report(store, query), name="device")
        view = device_view(store, query, time.time())
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    return respond(
        request,
        fmt,
        view,
        name=f"device-{view['device']['device_uid']}",
        csv_rows=view_csv_rows(view),
        columns=VIEW_CSV_COLUMNS,
        template="device.html",
        context={"view": view},
    )
