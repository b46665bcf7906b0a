"""``upower -i <device>``: the fallback when sysfs is not readable (sandboxes, odd kernels).

upower prints numbers in the user's locale (``24,645 Wh`` under fr_FR) and
reports energy in Wh; we convert to mWh and keep the rest as facts.
"""

from __future__ import annotations

from kitlife.agent.parsers._common import ParseError, as_text, clean, parse_float
from kitlife.agent.parsers.battery import BatteryFacts


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip().startswith("History"):
            break
        key, sep, value = line.strip().partition(":")
        if sep and key and not key.startswith(" "):
            out.setdefault(key.strip().lower(), value.strip())
    return out


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    head = value.split()[0] if value.split() else ""
    try:
        return parse_float(head.rstrip("%"))
    except ParseError:
        return None


def parse_upower(data: str | bytes) -> BatteryFacts | None:
    """One device's facts; None when the device is not a system battery (mouse, UPS line)."""
    text = as_text(data)
    f = _fields(text)
    if "native-path" not in f and "model" not in f and "energy-full" not in f:
        raise ParseError("no upower device fields")
    if f.get("power supply", "yes").lower() != "yes" or "battery" not in text.split():
        return None
    name = f.get("native-path") or "battery"
    b = BatteryFacts(name=name.rsplit("/", 1)[-1])

    def mwh(key: str) -> int | None:
        v = _number(f.get(key))
        return round(v * 1000) if v is not None else None

    b.design_mwh = mwh("energy-full-design")
    b.full_mwh = mwh("energy-full")
    b.remaining_mwh = mwh("energy")
    volt = _number(f.get("voltage"))
    b.voltage_mv = round(volt * 1000) if volt is not None else None
    b.charge_pct = _number(f.get("percentage"))
    cycles = _number(f.get("charge-cycles"))
    b.cycle_count = int(cycles) if cycles is not None and cycles > 0 else None
    b.chemistry = clean(f.get("technology"))
    b.manufacturer = clean(f.get("vendor"))
    b.model = clean(f.get("model"))
    b.serial = clean(f.get("serial"))
    state = f.get("state", "").lower()
    if state in ("charging", "fully-charged", "pending-charge"):
        b.on_ac = True
    elif state == "discharging":
        b.on_ac = False
    return b
