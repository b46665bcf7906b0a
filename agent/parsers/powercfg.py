"""Windows ``powercfg /batteryreport /xml``: design and full-charge capacity in mWh.

The report is the only built-in Windows source that also gives the cycle count
and manufacture date for most packs. Tags are matched without their namespace
(``http://schemas.microsoft.com/battery/2012``) so a schema revision does not
silently drop every value.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # parses local command output, not network input

from kitlife.agent.parsers._common import ParseError, as_text, clean, is_digits
from kitlife.agent.parsers.battery import BatteryFacts


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: ET.Element, name: str) -> str | None:
    for c in el:
        if _local(c.tag) == name:
            return c.text
    return None


def _int(text: str | None) -> int | None:
    if text is None or not is_digits(text.strip()):
        return None
    return int(text.strip())


def parse_batteryreport(data: str | bytes) -> list[BatteryFacts]:
    text = as_text(data)
    try:
        root = ET.fromstring(text.lstrip())  # noqa: S314 - local powercfg output
    except ET.ParseError as exc:
        raise ParseError(f"invalid XML: {exc}") from exc
    if _local(root.tag) != "BatteryReport":
        raise ParseError(f"not a battery report (root {_local(root.tag)!r})")
    out: list[BatteryFacts] = []
    for el in root.iter():
        if _local(el.tag) != "Battery":
            continue
        b = BatteryFacts(name=clean(_child(el, "Id")) or f"battery{len(out)}")
        b.design_mwh = _int(_child(el, "DesignCapacity"))
        b.full_mwh = _int(_child(el, "FullChargeCapacity"))
        b.cycle_count = _int(_child(el, "CycleCount")) or None
        b.chemistry = clean(_child(el, "Chemistry"))
        b.manufacturer = clean(_child(el, "Manufacturer"))
        b.serial = clean(_child(el, "SerialNumber"))
        date = clean(_child(el, "ManufactureDate"))
        b.manufacture_date = date[:10] if date and len(date) >= 10 and date[4] == "-" else None
        out.append(b)
    return out
