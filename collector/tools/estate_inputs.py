"""The fleet of a simulated estate, computed from its physics: no database.

The same :class:`FleetDevice` rows the store gives (reports/fleet_inputs.py), so
the 72,000-device benchmark (bench/fleet.py) and the fleet tests can time and check
the planner and the report themselves rather than 72,000 devices' worth of ingest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kitlife.collector.policy.fit import DeviceFacts
from kitlife.collector.policy.fleet import PRESSURE_WINDOW_DAYS, FleetDevice
from kitlife.collector.tools.simulate import DeviceSeries, Estate, SimDevice, device_series


def _facts(dev: SimDevice, s: DeviceSeries) -> DeviceFacts:
    """What the collector would know: inventory, battery health now, pressure p95s."""
    window = slice(max(0, len(s.cycles) - PRESSURE_WINDOW_DAYS), None)
    weekdays = s.weekday[window]
    in_use = bool(dev.holder_id)

    def p95(arr: np.ndarray[Any, Any]) -> float | None:
        daily = arr[window][weekdays].mean(axis=1)
        return float(np.percentile(daily, 95)) if in_use and len(daily) else None

    return DeviceFacts(
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


def devices_from_estate(estate: Estate) -> list[FleetDevice]:
    """One :class:`FleetDevice` per simulated device (held or spare)."""
    out: list[FleetDevice] = []
    for dev in estate.devices:
        s = device_series(dev, estate)
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
                facts=_facts(dev, s),
                battery_cycles=float(s.cycles[-1]),
                disk_worn=bool(s.media_errors[-1] > 0 or s.realloc[-1] > 0),
                asset_tag=dev.asset_tag,
                serial=dev.serial,
                hostname=dev.hostname,
            )
        )
    return out
