"""Windows CIM/WMI objects as printed by ``Get-CimInstance ... | ConvertTo-Json``.

ConvertTo-Json prints one object for one instance and an array for several, so
every reader accepts both. Battery classes live in ``root\\wmi`` and are joined
on ``InstanceName``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from kitlife.agent.parsers._common import ParseError, as_text, clean
from kitlife.agent.parsers.battery import BatteryFacts


def parse_cim_json(data: str | bytes) -> list[dict[str, Any]]:
    """The instances in ConvertTo-Json output (empty output = no instances)."""
    text = as_text(data).strip()
    if not text:
        return []
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {exc}") from exc
    items = doc if isinstance(doc, list) else [doc]
    if not all(isinstance(i, dict) for i in items):
        raise ParseError("CIM JSON is not objects")
    return items


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def batteries_from_wmi(
    static: str | bytes, full: str | bytes, cycles: str | bytes | None = None
) -> list[BatteryFacts]:
    """Join BatteryStaticData, BatteryFullChargedCapacity and BatteryCycleCount."""
    by_name: dict[str, BatteryFacts] = {}
    for s in parse_cim_json(static):
        name = str(s.get("InstanceName") or f"battery{len(by_name)}")
        b = BatteryFacts(name=name)
        b.design_mwh = _int(s.get("DesignedCapacity"))
        b.manufacturer = clean(s.get("ManufactureName"))
        b.model = clean(s.get("DeviceName"))
        b.serial = clean(s.get("SerialNumber"))
        by_name[name] = b
    for f in parse_cim_json(full):
        fb = by_name.get(str(f.get("InstanceName")))
        if fb is not None:
            fb.full_mwh = _int(f.get("FullChargedCapacity"))
    if cycles is not None:
        for c in parse_cim_json(cycles):
            cb = by_name.get(str(c.get("InstanceName")))
            if cb is not None:
                cb.cycle_count = _int(c.get("CycleCount")) or None
    return list(by_name.values())


def thermal_zones(data: str | bytes) -> dict[str, float]:
    """MSAcpi_ThermalZoneTemperature: ``CurrentTemperature`` is tenths of a kelvin."""
    out: dict[str, float] = {}
    for z in parse_cim_json(data):
        t = _int(z.get("CurrentTemperature"))
        if t is None or t <= 0:
            continue
        name = str(z.get("InstanceName") or f"zone{len(out)}")
        out[name] = round(t / 10 - 273.15, 1)
    return out


def first(data: str | bytes) -> dict[str, Any]:
    """The single instance of a class such as Win32_BIOS (ParseError when there is none)."""
    items = parse_cim_json(data)
    if not items:
        raise ParseError("no instance")
    return items[0]


def memory_slots(arrays: str | bytes, modules: str | bytes) -> tuple[int | None, int]:
    """(slots the board has, modules installed) from Win32_PhysicalMemoryArray and
    Win32_PhysicalMemory. Windows does not say reliably whether RAM is soldered
    (FormFactor is often 0 or 12 for memory-down designs), so that is not guessed."""
    total = 0
    seen = False
    for a in parse_cim_json(arrays):
        devices = _int(a.get("MemoryDevices"))
        if devices is not None:
            total += devices
            seen = True
    installed = sum(1 for m in parse_cim_json(modules) if _int(m.get("Capacity")))
    return (total if seen else None), installed


_MS_DATE = re.compile(r"^/Date\((-?[0-9]+)\)/$")


def cim_date(value: Any) -> str | None:
    """A CIM date as ConvertTo-Json prints it, to ISO ``YYYY-MM-DD``.

    Windows PowerShell 5.1 writes ``/Date(1514764800000)/`` (ms since epoch, UTC),
    PowerShell 7 writes ``2018-01-01T00:00:00``, and WMI's own DMTF form is
    ``20180101000000.000000+000``; all three occur depending on the host.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    m = _MS_DATE.match(text)
    if m:
        try:
            stamp = dt.datetime.fromtimestamp(int(m.group(1)) / 1000, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return stamp.date().isoformat()
    if re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        candidate = text[:10]
    elif re.match(r"^[0-9]{8}", text):
        candidate = f"{text[:4]}-{text[4:6]}-{text[6:8]}"
    else:
        return None
    try:
        return dt.date.fromisoformat(candidate).isoformat()
    except ValueError:
        return None
