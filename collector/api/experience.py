"""GET /v1/experience: responsiveness index and sentiment average per device or slice."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from kitlife.collector.api.deps import ServiceDesk, StoreDep
from kitlife.collector.reports.experience import By, SiteUnavailableError, experience

router = APIRouter(tags=["experience"])


@router.get(
    "/v1/experience",
    summary="Responsiveness index and sentiment average by device, model, site or month",
    description="Formulas: docs/experience.md. Site needs the asset register.",
    responses={409: {"description": "slicing by site, but no asset register yet"}},
)
def get_experience(
    store: StoreDep,
    _role: ServiceDesk,
    by: By = "model",
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
) -> list[dict[str, Any]]:
    try:
        return experience(store, by, days)
    except SiteUnavailableError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
