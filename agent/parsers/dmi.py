"""Machine identity: Linux ``/sys/class/dmi/id`` and ``dmidecode -t memory``.

``/sys/class/dmi/id`` is world-readable except the serial numbers (root only),
so a non-root agent still knows vendor, model and BIOS. ``dmidecode`` needs
root; without it, RAM layout is reported unavailable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kitlife.agent.parsers._common import ParseError, as_text, clean, is_digits
from kitlife.agent.parsers.battery import BatteryFacts

_DMI_FIELDS = (
    "sys_vendor",
    "product_name",
    "product_version",
    "product_serial",
    "chassis_asset_tag",
    "chassis_type",
    "bios_vendor",
    "bios_version",
    "bios_date",
)

# SMBIOS chassis types (DMTF DSP0134 7.4.1) that mean a portable machine.
CHASSIS_TYPES = {
    3: "desktop",
    4: "desktop",
    6: "desktop",
    7: "desktop",
    8: "portable",
    9: "laptop",
    10: "notebook",
    13: "all-in-one",
    14: "notebook",
    30: "tablet",
    31: "convertible",
    32: "detachable",
    35: "mini-pc",
    36: "stick-pc",
}


@dataclass(slots=True)
class DmiId:
    values: dict[str, str]
    unreadable: list[str]


def read_dmi_id(root: Path = Path("/")) -> DmiId:
    """Every readable field of ``<root>/sys/class/dmi/id``; permission-denied ones are listed."""
    base = root / "sys" / "class" / "dmi" / "id"
    if not base.is_dir():
        raise FileNotFoundError(str(base))
    values: dict[str, str] = {}
    unreadable: list[str] = []
    for name in _DMI_FIELDS:
        try:
            v = clean((base / name).read_text(errors="replace"))
        except PermissionError:
            unreadable.append(name)
            continue
        except OSError:
            continue
        if v is not None:
            values[name] = v
    return DmiId(values, unreadable)


def bios_date_iso(text: str) -> str | None:
    """DMI dates are ``MM/DD/YYYY``; return ``YYYY-MM-DD``."""
    m = re.fullmatch(r"([0-9]{2})/([0-9]{2})/([0-9]{4})", text.strip())
    return f"{m.group(3)}-{m.group(1)}-{m.group(2)}" if m else None


@dataclass(slots=True)
class MemoryLayout:
    slots_total: int
    slots_used: int
    total_bytes: int
    soldered: bool


_SIZE = re.compile(r"^([0-9]+)\s*(KB|MB|GB|TB|kB)$", re.IGNORECASE)
_MULT = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}


def parse_dmidecode_memory(data: str | bytes) -> MemoryLayout:
    """Type 17 (Memory Device) records of ``dmidecode [-t memory]``.

    Soldered RAM is recognised by form factor ``Row Of Chips``/``Chip`` or an
    on-board locator, which is how laptop firmware describes memory-down designs.
    """
    text = as_text(data)
    if "Memory Device" not in text:
        raise ParseError("no Memory Device records")
    total = used = size_sum = 0
    soldered = False
    for block in re.split(r"\n\s*\n", text):
        if "Memory Device" not in [ln.strip() for ln in block.splitlines()]:
            continue
        fields: dict[str, str] = {}
        for line in block.splitlines():
            k, sep, v = line.strip().partition(":")
            if sep:
                fields.setdefault(k.strip().lower(), v.strip())
        if "locator" not in fields and "size" not in fields:
            continue
        total += 1
        m = _SIZE.match(fields.get("size", ""))
        if m:
            used += 1
            size_sum += int(m.group(1)) * _MULT[m.group(2).lower()]
            form = fields.get("form factor", "").lower()
            loc = (fields.get("locator", "") + " " + fields.get("bank locator", "")).lower()
            if form in ("row of chips", "chip") or "onboard" in loc or "on board" in loc:
                soldered = True
    if total == 0:
        raise ParseError("no Memory Device records")
    return MemoryLayout(total, used, size_sum, soldered)


def parse_dmidecode_batteries(data: str | bytes) -> list[BatteryFacts]:
    """Type 22 (Portable Battery) records of ``dmidecode [-t 22]``: what the firmware says
    the pack was built as (design capacity, voltage, chemistry, date), never its wear."""
    text = as_text(data)
    out: list[BatteryFacts] = []
    for block in re.split(r"\r?\n\s*\r?\n", text):
        lines = [ln.strip() for ln in block.splitlines()]
        if "Portable Battery" not in lines:
            continue
        f: dict[str, str] = {}
        for ln in lines:
            k, sep, v = ln.partition(":")
            if sep:
                f.setdefault(k.strip().lower(), v.strip())
        b = BatteryFacts(name=clean(f.get("location")) or f"battery{len(out)}")
        b.design_mwh = _unit_int(f.get("design capacity", ""), "mwh")
        b.design_voltage_mv = _unit_int(f.get("design voltage", ""), "mv")
        b.manufacturer = clean(f.get("manufacturer"))
        b.model = clean(f.get("name"))
        b.serial = clean(f.get("serial number") or f.get("sbds serial number"))
        b.chemistry = clean(f.get("sbds chemistry") or f.get("chemistry"))
        b.manufacture_date = _dmi_date(f.get("manufacture date") or f.get("sbds manufacture date"))
        out.append(b)
    if not out and "Portable Battery" not in text:
        raise ParseError("no Portable Battery records")
    return out


def _unit_int(text: str, unit: str) -> int | None:
    parts = text.split()
    if len(parts) == 2 and is_digits(parts[0]) and parts[1].lower() == unit:
        return int(parts[0])
    return None


def _dmi_date(text: str | None) -> str | None:
    """``09/15/2017`` (SMBIOS string) or ``2018-05-24`` (SBDS) -> ISO date."""
    if not text:
        return None
    t = text.strip()
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", t):
        return t
    return bios_date_iso(t)
