"""/v1/fleet: redeploy plans and the fleet report (service desk reads)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from kitlife.collector.api.deps import RolesDep, ServiceDesk, StoreDep
from kitlife.collector.api.formats import FORMAT_RESPONSES, FormatQuery, respond
from kitlife.collector.policy.fleet import plan_inputs
from kitlife.collector.policy.redeploy import build_plan
from kitlife.collector.reports.fleet_inputs import devices_from_store
from kitlife.collector.reports.fleet_service import fit_rows, fleet_report_from_store
from kitlife.collector.reports.fleet_view import (
    FIGURES_CSV_COLUMNS,
    decision_columns,
    figures_csv_rows,
)

router = APIRouter(tags=["fleet"])

MOVE_COLUMNS = (
    "holder_id",
    "role",
    "site",
    "device",
    "device_key",
    "from_holder",
    "kind",
    "mismatch_before",
    "mismatch_after",
    "why",
    "after",
    "saves_kg_co2e",
    "saves_gbp",
)
FIT_COLUMNS = ("holder_id", "role", "site", "model", "mismatch", "poor", "reasons", "device_uid")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@router.get(
    "/v1/fleet/redeploy-plan",
    summary="Moves that make poor fits fit",
    response_model=dict[str, Any],
    responses=FORMAT_RESPONSES,
)
def redeploy_plan(
    request: Request,
    store: StoreDep,
    _role: ServiceDesk,
    roles: RolesDep,
    site: str | None = None,
    max_moves: int | None = Query(default=None, ge=1),
    fmt: FormatQuery = None,
) -> Response:
    today = _today()
    devs, holders = plan_inputs(devices_from_store(store, today))
    plan = build_plan(devs, holders, roles, today, site=site, max_moves=max_moves)
    moves = [m.to_dict() for m in plan.moves]
    return respond(
        request,
        fmt,
        {"summary": plan.summary(), "moves": moves},
        name="redeploy-plan",
        csv_rows=moves,
        columns=MOVE_COLUMNS,
        context={"rows": moves},
    )


@router.get(
    "/v1/fleet/fit",
    summary="Each held device against its holder's role profile",
    response_model=list[dict[str, Any]],
    responses=FORMAT_RESPONSES,
)
def fleet_fit(
    request: Request,
    store: StoreDep,
    _role: ServiceDesk,
    roles: RolesDep,
    poor: bool = False,
    fmt: FormatQuery = None,
) -> Response:
    rows = fit_rows(store, roles, _today(), poor_only=poor)
    return respond(request, fmt, rows, name="fleet-fit", columns=FIT_COLUMNS)


@router.get(
    "/v1/fleet/report",
    summary="Greening-government figures and fleet views",
    response_model=dict[str, Any],
    responses=FORMAT_RESPONSES,
)
def fleet_report(
    request: Request,
    store: StoreDep,
    _role: ServiceDesk,
    roles: RolesDep,
    fmt: FormatQuery = None,
) -> Response:
    report = fleet_report_from_store(store, roles, _today())
    return respond(
        request,
        fmt,
        report,
        name="fleet-report",
        csv_rows=figures_csv_rows(report),
        columns=FIGURES_CSV_COLUMNS,
        template="fleet.html",
        context={"view": {**report, "decision_columns": decision_columns(report)}},
    )
