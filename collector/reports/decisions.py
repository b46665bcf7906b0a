"""Decisions across the fleet, and one device's newest assessment, as plain data."""

from __future__ import annotations

from typing import Any

from kitlife.collector.store import scores
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
    return scores.latest_assessment(store, device_row_id)


def decision_rows(
    store: Store,
    *,
    model: str | None = None,
    decision: str | None = None,
    device_ids: set[int] | None = None,
) -> list[dict[str, Any]]:
    """Every scored live device with its newest decision and reasons in numbers."""
    out: list[dict[str, Any]] = []
    for r, a in scores.scored_devices(store, model=model, decision=decision):
        if device_ids is not None and r["id"] not in device_ids:
            continue
        footprint = a.get("footprint") or {}
        out.append(
            {
                "device_uid": r["device_uid"],
                "hostname": r["hostname"],
                "serial": r["serial"],
                "vendor": r["vendor"],
                "model": r["model"],
                "score": a.get("score"),
                "decision": a.get("action"),
                "repair_cost_gbp": a.get("repair_cost_gbp"),
                "carbon_avoided_kgco2e": footprint.get("carbon_avoided_kgco2e"),
                "reasons": [x["text"] for x in a.get("reasons", [])],
                "sources": sorted({x["source"] for x in a.get("reasons", [])}),
            }
        )
    return out
