"""Decisions across the fleet, and one device's newest assessment, as plain data."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, select

from kitlife.collector.store.schema import devices, scores
from kitlife.collector.store.store import Store

DECISION_FIELDS = (
    "device_uid",
    "hostname",
    "serial",
    "vendor",
    "model",
    "score",
    "decision",
    "repair_cost_gbp",
    "carbon_avoided_kgco2e",
    "reasons",
)


def latest_assessment(store: Store, device_row_id: int) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        row = conn.execute(
            select(scores.c.assessment)
            .where(scores.c.device_id == device_row_id)
            .order_by(scores.c.t_s.desc(), scores.c.id.desc())
            .limit(1)
        ).first()
    return json.loads(row.assessment) if row else None


def decision_rows(
    store: Store,
    *,
    model: str | None = None,
    decision: str | None = None,
    device_ids: set[int] | None = None,
) -> list[dict[str, Any]]:
    """Every scored live device with its newest decision and reasons in numbers."""
    query = (
        select(devices, scores.c.assessment)
        .join(
            scores,
            and_(scores.c.device_id == devices.c.id, scores.c.t_s == devices.c.scored_s),
        )
        .where(devices.c.revoked_s.is_(None))
        .order_by(devices.c.hostname, devices.c.id)
    )
    if model:
        query = query.where(devices.c.model == model)
    if decision:
        query = query.where(devices.c.decision == decision)
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    with store.engine.connect() as conn:
        for r in conn.execute(query):
            if r.id in seen or (device_ids is not None and r.id not in device_ids):
                continue
            seen.add(r.id)
            a = json.loads(r.assessment)
            footprint = a.get("footprint") or {}
            out.append(
                {
                    "device_uid": r.device_uid,
                    "hostname": r.hostname,
                    "serial": r.serial,
                    "vendor": r.vendor,
                    "model": r.model,
                    "score": a.get("score"),
                    "decision": a.get("action"),
                    "repair_cost_gbp": a.get("repair_cost_gbp"),
                    "carbon_avoided_kgco2e": footprint.get("carbon_avoided_kgco2e"),
                    "reasons": [x["text"] for x in a.get("reasons", [])],
                    "sources": sorted({x["source"] for x in a.get("reasons", [])}),
                }
            )
    return out
