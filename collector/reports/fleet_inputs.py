"""The fleet as the database holds it: one :class:`FleetDevice` per enrolled device.

What ``kitlife redeploy plan``, ``kitlife redeploy fit`` and ``kitlife report
fleet`` read. (A simulated estate gives the same rows without a database:
tools/estate_inputs.py, for the benchmarks.)
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from kitlife.collector.policy.fit import DeviceFacts
from kitlife.collector.policy.fleet import PRESSURE_WINDOW_DAYS, FleetDevice
from kitlife.collector.store import Store
from kitlife.collector.store.assets import device_table, pressure_p95


def _health(d: dict[str, Any]) -> float | None:
    design = d.get("battery.design_capacity_mwh")
    full = d.get("battery.full_charge_capacity_mwh")
    if design and full is not None and design > 0:
        return float(min(100.0, 100.0 * full / design))
    return None


def _repair_parts_kg(store: Store) -> dict[int, float]:
    """Device id -> kg CO2e of the parts its newest assessment plans to fit (repair only)."""
    from kitlife.collector.store.scores import scored_devices

    out: dict[int, float] = {}
    for r, a in scored_devices(store, decision="repair"):
        kg = (a.get("footprint") or {}).get("parts_kgco2e")
        if kg:
            out[int(r["id"])] = float(kg)
    return out


def devices_from_store(store: Store, today: dt.date | None = None) -> list[FleetDevice]:
    from kitlife.collector.store.assets import decisions

    day = (today or dt.datetime.fromtimestamp(time.time(), dt.UTC).date()) - dt.date(1970, 1, 1)
    p95 = pressure_p95(store, day.days - PRESSURE_WINDOW_DAYS)
    dec = decisions(store)
    parts_kg = _repair_parts_kg(store)
    out: list[FleetDevice] = []
    for d in device_table(store):
        a = d["asset"] or {}
        holder = str(a.get("holder_id", ""))
        role = str(a.get("role", ""))
        pr = p95.get(d["id"], {}) if holder else {}
        ram = d.get("mem.total_bytes")
        disk = d.get("disk.total_bytes")
        cores = d.get("inv.cpu_cores")
        facts = DeviceFacts(
            key=d["device_uid"],
            ram_gb=round(ram / 1024**3, 1) if ram else None,
            cores=cores,
            storage_gb=round(disk / 1e9) if disk else None,
            battery_health_pct=_health(d),
            battery_design_mwh=d.get("battery.design_capacity_mwh"),
            os_name=d["os_name"],
            os_version=d["os_version"],
            cpu_p95=pr.get("cpu.busy_pct"),
            mem_p95=pr.get("mem.used_pct"),
            swap_p95=pr.get("swap.used_pct"),
            measured_role=role or None,
        )
        out.append(
            FleetDevice(
                key=d["device_uid"],
                vendor=d["vendor"] or str(a.get("vendor", "")),
                model=d["model"] or str(a.get("model", "")),
                site=str(a.get("site", "")),
                holder_id=holder,
                role=role,
                status=str(a.get("status", "unregistered")),
                purchase_day=a.get("purchase_day"),
                purchase_route=str(a.get("purchase_route", "")),
                previous_holders=int(a.get("previous_holders", 0) or 0),
                facts=facts,
                battery_cycles=d.get("battery.cycle_count"),
                disk_worn=bool(
                    (d.get("nvme.media_errors") or 0) > 0
                    or (d.get("ata.reallocated_sectors") or 0) > 0
                ),
                decision=dec.get(d["id"], ""),
                asset_tag=str(a.get("asset_tag", "") or ""),
                serial=d["serial"] or "",
                hostname=d["hostname"] or "",
                repair_parts_kgco2e=parts_kg.get(d["id"], 0.0),
            )
        )
    return out
