"""The device list and a device's health report, as plain data."""

from __future__ import annotations

from typing import Any

from kitlife.collector.store import Store
from kitlife.protocol import metric_by_id

LIST_FIELDS = (
    "device_uid",
    "hostname",
    "serial",
    "vendor",
    "model",
    "os_name",
    "os_version",
    "agent_version",
    "enrolled_s",
    "last_seen_s",
    "batches",
    "points",
    "revoked_s",
)


def device_rows(store: Store) -> list[dict[str, Any]]:
    return [{k: row[k] for k in LIST_FIELDS} for row in store.list_devices()]


def device_report(store: Store, query: str) -> dict[str, Any]:
    """Identity, latest readings with units, and the sources that were unavailable."""
    device = store.find_device(query)
    readings = []
    for r in store.latest_readings(device["id"]):
        metric = metric_by_id(r["metric_id"])
        if metric is None:
            continue
        readings.append(
            {
                "metric": metric.name,
                "component": r["component"],
                "t_s": r["t_s"],
                "value": r["txt"] if metric.kind == "text" else r["num"],
                "unit": metric.unit,
                "description": metric.description,
            }
        )
    from kitlife.collector.reports.decisions import latest_assessment

    return {
        "device": {k: device[k] for k in LIST_FIELDS},
        "assessment": latest_assessment(store, device["id"]),
        "readings": readings,
        "unavailable": [
            {
                "source": u["source"],
                "component": u["component"],
                "reason": u["reason"],
                "t_s": u["t_s"],
            }
            for u in store.unavailable_sources(device["id"])
        ],
    }
