"""macOS ``system_profiler SPPowerDataType -json`` and ``SPHardwareDataType -json``.

system_profiler gives what the user sees in System Information: the OS's own
health label and "maximum capacity" percentage, the cycle count and the pack's
identity. It reports no mAh, so ioreg is read for capacities.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kitlife.agent.parsers._common import ParseError, as_text, clean, leading_int
from kitlife.agent.parsers.battery import BatteryFacts


def _load(data: str | bytes, key: str) -> list[dict[str, Any]]:
    text = as_text(data)
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {exc}") from exc
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ParseError(f"no {key} list")
    return [i for i in items if isinstance(i, dict)]


def _d(obj: dict[str, Any], key: str) -> dict[str, Any]:
    v = obj.get(key)
    return v if isinstance(v, dict) else {}


def _flag(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.upper() in ("TRUE", "YES"):
        return True
    if isinstance(v, str) and v.upper() in ("FALSE", "NO"):
        return False
    return None


@dataclass(slots=True)
class MacPower:
    """The battery (None on desktops), the OS health label and percentage, and AC state."""

    battery: BatteryFacts | None
    condition: str | None
    max_capacity_pct: int | None


def parse_sppower(data: str | bytes) -> MacPower:
    items = _load(data, "SPPowerDataType")
    battery: BatteryFacts | None = None
    condition = None
    max_pct = None
    on_ac: bool | None = None
    for item in items:
        health = _d(item, "sppower_battery_health_info")
        charge = _d(item, "sppower_battery_charge_info")
        model = _d(item, "sppower_battery_model_info")
        if health or charge or model:
            battery = BatteryFacts(name="battery")
            cyc = health.get("sppower_battery_cycle_count")
            battery.cycle_count = cyc if isinstance(cyc, int) else None
            condition = clean(health.get("sppower_battery_health"))
            pct = health.get("sppower_battery_health_maximum_capacity")
            max_pct = leading_int(pct) if isinstance(pct, str) else None
            soc = charge.get("sppower_battery_state_of_charge")
            battery.charge_pct = float(soc) if isinstance(soc, int | float) else None
            battery.manufacturer = clean(model.get("sppower_battery_manufacturer"))
            battery.model = clean(model.get("sppower_battery_device_name"))
            battery.serial = clean(model.get("sppower_battery_serial_number"))
        if item.get("_name") == "sppower_ac_charger_information":
            on_ac = _flag(item.get("sppower_battery_charger_connected"))
    if battery is not None:
        battery.on_ac = on_ac
    return MacPower(battery, condition, max_pct)


@dataclass(slots=True)
class MacHardware:
    model: str | None
    model_id: str | None
    serial: str | None
    chip: str | None
    cores: int | None
    memory_bytes: int | None
    firmware: str | None


_UNITS = {"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}


def _memory(text: Any) -> int | None:
    if not isinstance(text, str) or len(text.split()) != 2:
        return None
    num, unit = text.split()
    n = leading_int(num)
    return n * _UNITS[unit.upper()] if n is not None and unit.upper() in _UNITS else None


def parse_sphardware(data: str | bytes) -> MacHardware:
    items = _load(data, "SPHardwareDataType")
    if not items:
        raise ParseError("empty SPHardwareDataType")
    h = items[0]
    cores = h.get("number_processors")
    if isinstance(cores, str):  # Apple silicon: "proc 8:4:4"
        cores = leading_int(cores.split()[-1]) if cores.split() else None
    return MacHardware(
        model=clean(h.get("machine_name")),
        model_id=clean(h.get("machine_model")),
        serial=clean(h.get("serial_number")),
        chip=clean(h.get("chip_type") or h.get("cpu_type")),
        cores=cores if isinstance(cores, int) else None,
        memory_bytes=_memory(h.get("physical_memory")),
        firmware=clean(h.get("boot_rom_version")),
    )


def _indented_fields(text: str) -> dict[str, str]:
    """``Key: value`` pairs of system_profiler's text output (first occurrence wins)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and value.strip():
            out.setdefault(key.strip().lower(), value.strip())
    return out


def parse_sppower_text(data: str | bytes) -> MacPower:
    """``system_profiler SPPowerDataType`` without ``-json`` (macOS before 10.15 has no JSON).

    Older releases print the full-charge capacity in mAh, which the JSON form dropped.
    """
    text = as_text(data)
    if "Battery Information:" not in text and "AC Charger Information:" not in text:
        raise ParseError("no SPPowerDataType sections")
    battery_part, _, charger_part = text.partition("AC Charger Information:")
    f = _indented_fields(battery_part)
    charger = _indented_fields(charger_part)
    battery: BatteryFacts | None = None
    if "Battery Information:" in battery_part and f.get("battery installed", "Yes") == "Yes":
        battery = BatteryFacts(name="battery")
        battery.full_mah = leading_int(f.get("full charge capacity (mah)", ""))
        battery.remaining_mah = leading_int(f.get("charge remaining (mah)", ""))
        battery.cycle_count = leading_int(f.get("cycle count", ""))
        battery.voltage_mv = leading_int(f.get("voltage (mv)", ""))
        battery.manufacturer = clean(f.get("manufacturer"))
        battery.model = clean(f.get("device name"))
        battery.serial = clean(f.get("serial number"))
        if battery.remaining_mah is not None and battery.full_mah:
            battery.charge_pct = round(100.0 * battery.remaining_mah / battery.full_mah, 1)
        battery.on_ac = _flag(charger.get("connected"))
    return MacPower(battery, clean(f.get("condition")), None)
