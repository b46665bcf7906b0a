"""/v1/assets: the asset register (service desk reads, admin imports)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from kitlife.collector.api.deps import Admin, RolesDep, ServiceDesk, StoreDep
from kitlife.collector.api.formats import FORMAT_RESPONSES, FormatQuery, respond
from kitlife.collector.policy.register import parse_register
from kitlife.collector.store.assets import (
    EXPORT_COLUMNS,
    register_rows,
    replace_register,
    unmatched,
)

router = APIRouter(tags=["assets"])


@router.get(
    "/v1/assets",
    summary="The asset register (CSV: the form PUT /v1/assets reads)",
    response_model=list[dict[str, Any]],
    responses=FORMAT_RESPONSES,
)
def list_assets(
    request: Request, store: StoreDep, _role: ServiceDesk, fmt: FormatQuery = None
) -> Response:
    return respond(request, fmt, register_rows(store), name="assets", columns=EXPORT_COLUMNS)


@router.get("/v1/assets/unmatched", summary="Devices and register rows that do not match")
def list_unmatched(store: StoreDep, _role: ServiceDesk) -> dict[str, list[dict[str, Any]]]:
    return unmatched(store)


@router.put(
    "/v1/assets",
    summary="Replace the register with a CSV body; all rows or none",
    responses={422: {"description": "rows refused, with line numbers; nothing imported"}},
)
async def import_assets(
    request: Request, store: StoreDep, caller: Admin, roles: RolesDep
) -> dict[str, Any]:
    body = await request.body()
    # Parsing 72,000 rows and replacing the table take seconds: off the event loop.
    rows, errors = await run_in_threadpool(parse_register, body, roles.roles)
    if errors:
        raise HTTPException(
            422,  # unprocessable: named rows are wrong
            {"imported": 0, "errors": [str(e) for e in errors]},
        )
    imported = await run_in_threadpool(replace_register, store, rows, actor=caller.actor)
    return {"imported": imported}
