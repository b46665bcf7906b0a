"""Linux ``/sys/class/power_supply``: the kernel's own view of every pack and charger.

The kernel reports energy in µWh (``energy_*``) or, on packs that count charge,
µAh (``charge_*``) plus µV. We keep whichever the pack uses, converted to mWh or
mAh, and never convert charge into energy (that would need a voltage model).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kitlife.agent.parsers._common import ParseError, as_text, clean, is_digits
from kitlife.agent.parsers.battery import BatteryFacts

_PREFIX = "POWER_SUPPLY_"


def parse_uevent(data: str | bytes) -> dict[str, str]:
    """``POWER_SUPPLY_X=value`` lines -> ``{"x": "value"}`` (keys lower-case, prefix dropped)."""
    text = as_text(data)
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or not key.startswith(_PREFIX):
            continue
        out[key[len(_PREFIX) :].lower()] = value.strip()
    if not out:
        raise ParseError("no POWER_SUPPLY_ lines")
    return out


def _micro(props: dict[str, str], key: str) -> int | None:
    """A µ-unit sysfs integer as milli-units; None when absent or junk."""
    raw = props.get(key)
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value // 1000 if value >= 0 else None


def battery_from_props(name: str, props: dict[str, str], on_ac: bool | None) -> BatteryFacts:
    """Build the facts for one ``type == Battery`` supply from its properties."""
    b = BatteryFacts(name=name, on_ac=on_ac)
    b.design_mwh = _micro(props, "energy_full_design")
    b.full_mwh = _micro(props, "energy_full")
    b.remaining_mwh = _micro(props, "energy_now")
    b.design_mah = _micro(props, "charge_full_design")
    b.full_mah = _micro(props, "charge_full")
    b.remaining_mah = _micro(props, "charge_now")
    b.voltage_mv = _micro(props, "voltage_now")
    b.design_voltage_mv = _micro(props, "voltage_min_design")
    cycles = props.get("cycle_count", "").strip()
    # 0 is what most firmware reports when it does not count cycles; it is not a fact.
    if is_digits(cycles) and int(cycles) > 0:
        b.cycle_count = int(cycles)
    cap = props.get("capacity", "").strip()
    if is_digits(cap):
        b.charge_pct = float(cap)
    b.chemistry = clean(props.get("technology"))
    b.manufacturer = clean(props.get("manufacturer"))
    b.model = clean(props.get("model_name"))
    b.serial = clean(props.get("serial_number"))
    y, m, d = (props.get(f"manufacture_{k}", "") for k in ("year", "month", "day"))
    if is_digits(y) and is_digits(m) and is_digits(d) and 1 <= int(m) <= 12 and 1 <= int(d) <= 31:
        b.manufacture_date = f"{int(y):04d}-{int(m):02d}-{int(d):02d}"
    temp = props.get("temp", "").strip()
    if is_digits(temp.lstrip("-")):
        b.temperature_c = int(temp) / 10  # sysfs temp is in tenths of a degree
    if on_ac is None:
        status = props.get("status", "").lower()
        if status in ("charging", "full", "not charging"):
            b.on_ac = True
        elif status == "discharging":
            b.on_ac = False
    return b


_SMALL_FILE_BYTES = 4096


def _read_small(path: Path) -> str:
    """A sysfs attribute file's text (bounded), or "" when absent or unreadable."""
    try:
        with path.open("rb") as f:
            return f.read(_SMALL_FILE_BYTES).decode("utf-8", errors="replace").strip()
    except OSError:
        return ""


@dataclass(frozen=True, slots=True)
class PowerSupplies:
    """Every system battery found, and whether any mains supply is online."""

    batteries: list[BatteryFacts]
    on_ac: bool | None


def _props_of(path: Path) -> dict[str, str]:
    """A supply's properties: its ``uevent`` when readable, else one file per property.

    Some kernels and drivers leave ``POWER_SUPPLY_TYPE`` out of ``uevent`` (the type is
    only in the separate ``type`` attribute file); without it the pack would be skipped
    as "not a battery", so the ``type`` file fills that gap.
    """
    uevent = path / "uevent"
    try:
        props = parse_uevent(uevent.read_bytes())
    except (OSError, ParseError):
        pass
    else:
        if "type" not in props:
            kind = _read_small(path / "type")
            if kind:
                props["type"] = kind
        return props
    props = {}
    for f in path.iterdir():
        if f.is_file() and f.name not in ("uevent",):
            try:
                props[f.name] = f.read_text(errors="replace").strip()
            except OSError:
                continue
    return props


def read_power_supplies(root: Path = Path("/")) -> PowerSupplies:
    """Read ``<root>/sys/class/power_supply``; peripherals (mice, headsets) are skipped."""
    return read_power_supply_dir(root / "sys" / "class" / "power_supply")


def read_power_supply_dir(base: Path) -> PowerSupplies:
    """Read a ``power_supply`` folder (one sub-folder per supply), or one supply's own folder.

    The second form is what a technician copies off a machine (``cp -r
    /sys/class/power_supply/BAT0``); ``kitlife inspect`` reads both.
    """
    if (base / "uevent").is_file() or (base / "type").is_file():
        entries = [base]
    else:
        entries = sorted(base.iterdir()) if base.is_dir() else []
    mains: list[bool] = []
    packs: list[tuple[str, dict[str, str]]] = []
    for entry in entries:
        props = _props_of(entry)
        kind = props.get("type", "").lower()
        if kind in ("mains", "usb", "usb_c", "usb_pd"):
            online = props.get("online", "").strip()
            if online in ("0", "1"):
                mains.append(online == "1")
        elif kind == "battery" and props.get("scope", "").lower() != "device":
            if props.get("present", "1").strip() == "0":
                continue
            packs.append((entry.name, props))
    on_ac = any(mains) if mains else None
    return PowerSupplies([battery_from_props(n, p, on_ac) for n, p in packs], on_ac)
