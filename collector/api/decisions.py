"""GET /v1/decisions: every device's newest decision, as ``kitlife decisions`` lists them."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response, status

from kitlife.collector.api.deps import ServiceDesk, StoreDep
from kitlife.collector.api.formats import FORMAT_RESPONSES, FormatQuery, respond
from kitlife.collector.reports.decisions import DECISION_FIELDS, decision_rows
from kitlife.collector.store.assets import device_ids_at_site, register_count

router = APIRouter(tags=["fleet"])
Decision = Literal[
    "keep", "repair", "redeploy", "refurbish", "donate", "recycle", "insufficient_data"
]


@router.get(
    "/v1/decisions",
    summary="Each scored device's newest decision, with its reasons in numbers",
    response_model=list[dict[str, Any]],
    responses={
        **FORMAT_RESPONSES,
        409: {"description": "filtering by site, but no asset register yet"},
    },
)
def list_decisions(
    request: Request,
    store: StoreDep,
    _role: ServiceDesk,
    site: str | None = None,
    model: str | None = None,
    decision: Decision | None = None,
    fmt: FormatQuery = None,
) -> Response:
    if "\0" in (site or "") + (model or ""):
        # No stored name holds NUL, and PostgreSQL would refuse it in a query.
        return respond(request, fmt, [], name="decisions", columns=DECISION_FIELDS)
    ids = None
    if site is not None:
        if not register_count(store):
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                "filtering by site needs the asset register: kitlife assets import FILE.csv",
            )
        ids = set(device_ids_at_site(store, site))
    rows = decision_rows(store, model=model, decision=decision, device_ids=ids)
    return respond(request, fmt, rows, name="decisions", columns=DECISION_FIELDS)
