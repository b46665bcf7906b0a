"""Planner and report inputs, from the database or straight from a simulated estate.

The database path is what ``kitlife redeploy plan`` and ``kitlife report
fleet`` use. The estate path builds the same inputs from the generator
without a database, so the 72,000-device benchmark can time the planner
itself rather than 72,000 devices' worth of ingest.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kitlife.collector.policy.fit import DeviceFacts
from kitlife.collector.policy.redeploy import PlanDevice, PlanHolder
from kitlife.collector.store import Store
from kitlife.collector.store.assets import device_table, pressure_p95
from kitlife.collector.tools.simulate import Estate, device_series

PRESSURE_WINDOW_DAYS = 90


@dataclass(frozen=True, slots=True)
class FleetDevice:
    """One device as the fleet views see it (database or simulation alike)."""

    key: str
    vendor: str
    model: str
    site: str
    holder_id: str
    role: str
    status: str
    purchase_day: int | None
    purchase_route: str
    previous_holders: int
    facts: DeviceFacts
    battery_cycles: float | None = None
    disk_worn: bool = False  # media errors or reallocated sectors seen
    decision: str = ""


def _health(d: dict[str, Any]) -> float | None:
    design = d.get("battery.design_capacity_mwh")
    full = d.get("battery.full_charge_capacity_mwh")
    if design and full is not None and design > 0:
        return float(min(100.0, 100.0 * full / design))
    return None


def devices_from_store(store: Store, today: dt.date | None = None) -> list[FleetDevice]:
    from kitlife.collector.store.assets import decisions

    day = (today or dt.datetime.fromtimestamp(time.time(), dt.UTC).date()) - dt.date(1970, 1, 1)
    p95 = pressure_p95(store, day.days - PRESSURE_WINDOW_DAYS)
    dec = decisions(store)
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
            )
        )
    return out


def devices_from_estate(estate: Estate) -> list[FleetDevice]:
    """The same view of a simulated estate, computed from its physics (no database)."""
    out: list[FleetDevice] = []
    for dev in estate.devices:
        s = device_series(dev, estate)
        window = slice(max(0, len(s.cycles) - PRESSURE_WINDOW_DAYS), None)
        wd = s.weekday[window]
        in_use = bool(dev.holder_id)

        def p95(
            arr: np.ndarray[Any, Any],
            wd: np.ndarray[Any, Any] = wd,
            window: slice = window,
            in_use: bool = in_use,
        ) -> float | None:
            daily = arr[window][wd].mean(axis=1)
            return float(np.percentile(daily, 95)) if in_use and len(daily) else None

        facts = DeviceFacts(
            key=dev.serial,
            ram_gb=float(dev.ram_gb),
            cores=float(dev.cores),
            storage_gb=float(dev.disk_gb),
            battery_health_pct=float(100 * s.fcc_mwh[-1] / dev.battery_design_mwh),
            battery_design_mwh=float(dev.battery_design_mwh),
            os_name=dev.os_name,
            os_version=dev.os_version,
            cpu_p95=p95(s.cpu),
            mem_p95=p95(s.mem),
            swap_p95=p95(s.swap),
            measured_role=dev.role or None,
        )
        out.append(
            FleetDevice(
                key=dev.serial,
                vendor=dev.vendor,
                model=dev.model,
                site=dev.site,
                holder_id=dev.holder_id,
                role=dev.role,
                status="in_use" if dev.holder_id else "spare",
                purchase_day=dev.purchase_day,
                purchase_route=dev.purchase_route,
                previous_holders=dev.previous_holders,
                facts=facts,
                battery_cycles=float(s.cycles[-1]),
                disk_worn=bool(s.media_errors[-1] > 0 or s.realloc[-1] > 0),
            )
        )
    return out


def plan_inputs(fleet: Sequence[FleetDevice]) -> tuple[list[PlanDevice], list[PlanHolder]]:
    """Devices (held or spare) and holders for the redeploy planner."""
    devs: list[PlanDevice] = []
    holders: list[PlanHolder] = []
    for f in fleet:
        if f.status not in ("in_use", "spare"):
            continue  # unregistered devices cannot be planned: no site, no holder
        devs.append(PlanDevice(f.key, f.facts, f.site, f.holder_id, f.vendor, f.model))
        if f.holder_id:
            holders.append(PlanHolder(f.holder_id, f.role, f.site, f.key))
    return devs, holders
