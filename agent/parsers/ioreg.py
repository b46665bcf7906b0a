"""macOS ``ioreg -r -c AppleSmartBattery -a``: the battery controller's registers as a plist.

Readable without root. Units are mAh and mV. On Apple silicon ``MaxCapacity`` and
``CurrentCapacity`` are percentages and the mAh figures live in
``AppleRawMaxCapacity`` / ``AppleRawCurrentCapacity``; on Intel Macs they are mAh.
"""

from __future__ import annotations

import plistlib
from typing import Any
from xml.parsers.expat import ExpatError

from kitlife.agent.parsers._common import ParseError, clean
from kitlife.agent.parsers.battery import BatteryFacts


def _int(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def decode_manufacture_date(packed: int) -> str | None:
    """Smart Battery Data spec date: ``(year-1980) << 9 | month << 5 | day``."""
    year, month, day = 1980 + (packed >> 9), (packed >> 5) & 0x0F, packed & 0x1F
    if 1 <= month <= 12 and 1 <= day <= 31 and 1990 <= year <= 2100:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def parse_ioreg_battery(data: bytes | str) -> list[BatteryFacts]:
    """Every AppleSmartBattery in the plist (normally one; an empty list on desktops)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        doc = plistlib.loads(raw)
    except (plistlib.InvalidFileException, ExpatError, ValueError, TypeError, OverflowError) as exc:
        raise ParseError(f"not a plist: {exc}") from exc
    items = doc if isinstance(doc, list) else [doc]
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            out.append(_one(item, i))
    if isinstance(doc, dict) and not out[0].has_capacity():
        raise ParseError("plist is not an AppleSmartBattery entry")
    return out


def _one(d: dict[str, Any], index: int) -> BatteryFacts:
    b = BatteryFacts(name=f"battery{index}" if index else "battery")
    b.design_mah = _int(d, "DesignCapacity")
    raw_max = _int(d, "AppleRawMaxCapacity")
    max_cap = _int(d, "MaxCapacity")
    if raw_max is not None:
        b.full_mah = raw_max
    elif max_cap is not None and max_cap > 100:
        b.full_mah = max_cap  # Intel: mAh
    raw_cur = _int(d, "AppleRawCurrentCapacity")
    cur = _int(d, "CurrentCapacity")
    if raw_cur is not None:
        b.remaining_mah = raw_cur
    elif cur is not None and max_cap is not None and max_cap > 100:
        b.remaining_mah = cur
    if cur is not None and max_cap == 100:
        b.charge_pct = float(cur)
    elif b.remaining_mah is not None and b.full_mah:
        b.charge_pct = round(100.0 * b.remaining_mah / b.full_mah, 1)
    b.cycle_count = _int(d, "CycleCount")
    b.voltage_mv = _int(d, "Voltage")
    ext = d.get("ExternalConnected")
    b.on_ac = ext if isinstance(ext, bool) else None
    temp = _int(d, "Temperature")
    b.temperature_c = temp / 100 if temp is not None else None  # centi-degrees
    b.manufacturer = clean(d.get("Manufacturer"))
    b.model = clean(d.get("DeviceName"))
    b.serial = clean(d.get("BatterySerialNumber") or d.get("Serial"))
    packed = _int(d, "ManufactureDate")
    b.manufacture_date = decode_manufacture_date(packed) if packed else None
    return b
