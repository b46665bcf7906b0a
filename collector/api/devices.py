"""GET /v1/devices and /v1/devices/{query}: what the service desk reads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status

from kitlife.collector.api.deps import ServiceDesk, StoreDep
from kitlife.collector.reports.device import device_report, device_rows
from kitlife.collector.store import NotFoundError

router = APIRouter(tags=["devices"])


@router.get("/v1/devices", summary="Every device, one row each")
def list_devices(store: StoreDep, _role: ServiceDesk) -> list[dict[str, Any]]:
    return device_rows(store)


@router.get(
    "/v1/devices/{query}",
    summary="A device's health report, by hostname, serial or id",
    responses={404: {"description": "no such device, or ambiguous"}},
)
def show_device(query: str, store: StoreDep, _role: ServiceDesk) -> dict[str, Any]:
    try:
        return device_report(store, query)
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
