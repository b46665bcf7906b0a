"""Machine identity: Linux ``/sys/class/dmi/id`` and ``dmidecode -t memory``.

``/sys/class/dmi/id`` is world-readable except the serial numbers (root only),
so a non-root agent still knows vendor, model and BIOS. ``dmidecode`` needs
root; without it, RAM layout is reported unavailable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kitlife.agent.parsers._common import ParseError, as_text, clean

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
    3: "desktop", 4: "desktop", 6: "desktop", 7: "desktop", 8: "portable", 9: "laptop",
    10: "notebook", 13: "all-in-one", 14: "notebook", 30: "tablet", 31: "convertible",
    32: "detachable", 35: "mini-pc", 36: "stick-pc",
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
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text.strip())
    return f"{m.group(3)}-{m.group(1)}-{m.group(2)}" if m else None


@dataclass(slots=True)
class MemoryLayout:
    slots_total: int
    slots_used: int
    total_bytes: int
    soldered: bool


_SIZE = re.compile(r"^(\d+)\s*(KB|MB|GB|TB|kB)$", re.IGNORECASE)
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
