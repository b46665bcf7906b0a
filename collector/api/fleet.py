"""/v1/fleet: redeploy plans and the fleet report (service desk reads)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query

from kitlife.collector.api.deps import RolesDep, ServiceDesk, StoreDep
from kitlife.collector.policy.fleet import plan_inputs
from kitlife.collector.policy.redeploy import build_plan
from kitlife.collector.reports.fleet_inputs import devices_from_store
from kitlife.collector.reports.fleet_service import fit_rows, fleet_report_from_store

router = APIRouter(tags=["fleet"])


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@router.get("/v1/fleet/redeploy-plan", summary="Moves that make poor fits fit")
def redeploy_plan(
    store: StoreDep,
    _role: ServiceDesk,
    roles: RolesDep,
    site: str | None = None,
    max_moves: int | None = Query(default=None, ge=1),
) -> dict[str, Any]:
    today = _today()
    devs, holders = plan_inputs(devices_from_store(store, today))
    plan = build_plan(devs, holders, roles, today, site=site, max_moves=max_moves)
    return {"summary": plan.summary(), "moves": [m.to_dict() for m in plan.moves]}


@router.get("/v1/fleet/fit", summary="Each held device against its holder's role profile")
def fleet_fit(
    store: StoreDep, _role: ServiceDesk, roles: RolesDep, poor: bool = False
) -> list[dict[str, Any]]:
    return fit_rows(store, roles, _today(), poor_only=poor)


@router.get("/v1/fleet/report", summary="Greening-government figures and fleet views")
def fleet_report(store: StoreDep, _role: ServiceDesk, roles: RolesDep) -> dict[str, Any]:
    return fleet_report_from_store(store, roles, _today())
