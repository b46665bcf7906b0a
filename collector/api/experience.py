"""GET /v1/experience: responsiveness index and sentiment average per device or slice."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from kitlife.collector.api.deps import ServiceDesk, StoreDep
from kitlife.collector.api.formats import FORMAT_RESPONSES, FormatQuery, respond
from kitlife.collector.reports.experience import By, SiteUnavailableError, experience

router = APIRouter(tags=["experience"])


@router.get(
    "/v1/experience",
    summary="Responsiveness index and sentiment average by device, model, site or month",
    description="Formulas: docs/experience.md. Site needs the asset register.",
    response_model=list[dict[str, Any]],
    responses={
        **FORMAT_RESPONSES,
        409: {"description": "slicing by site, but no asset register yet"},
    },
)
def get_experience(
    request: Request,
    store: StoreDep,
    _role: ServiceDesk,
    by: By = "model",
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
    fmt: FormatQuery = None,
) -> Response:
    try:
        rows = experience(store, by, days)
    except SiteUnavailableError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    columns = [by, "devices", "device_days", "responsiveness_index", "sentiment_avg", "ratings"]
    if by == "device":
        columns[1:1] = ["hostname", "model"]
    return respond(request, fmt, rows, name=f"experience-by-{by}", columns=columns)
