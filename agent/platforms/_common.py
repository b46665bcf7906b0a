"""Pieces every platform shares: psutil facts and CPU identity."""

from __future__ import annotations

import psutil  # type: ignore[import-untyped,unused-ignore]

from kitlife.agent.parsers.system import cpu_generation
from kitlife.agent.readings import SourceResult


def basic_inventory(out: SourceResult) -> None:
    """Installed RAM. Host name, OS family, architecture, core count and kernel release
    belong to the agent's "os" source (agent/sources/system.py), so they are not repeated
    here: two sources sending one metric with different values would make it flicker."""
    out.add("inv.ram_total_bytes", psutil.virtual_memory().total)


def cpu_facts(
    out: SourceResult, brand: str | None, vendor: str | None, family: int | None, model: int | None
) -> None:
    out.add("inv.cpu_brand", brand)
    out.add("inv.cpu_vendor", vendor)
    out.add("inv.cpu_family", family)
    out.add("inv.cpu_model_number", model)
    if brand:
        out.add("inv.cpu_generation", cpu_generation(brand))


def psutil_thermal(out: SourceResult) -> None:
    """Temperatures and fans where psutil has them (Linux, FreeBSD; not macOS/Windows)."""
    temps = getattr(psutil, "sensors_temperatures", None)
    fans = getattr(psutil, "sensors_fans", None)
    got = False
    try:
        temp_map = temps() if temps is not None else {}
        fan_map = fans() if fans is not None else {}
    except (OSError, RuntimeError) as exc:  # a broken hwmon driver must not hide throttling
        out.missing(f"psutil sensors failed: {exc}", "sensors")
        return
    if temp_map:
        for chip, entries in temp_map.items():
            for i, e in enumerate(entries):
                comp = f"{chip}/{e.label or i}"
                out.add("thermal.temperature_c", round(e.current, 1), comp)
                if e.high:
                    out.add("thermal.temperature_high_c", round(e.high, 1), comp)
                if e.critical:
                    out.add("thermal.temperature_critical_c", round(e.critical, 1), comp)
                got = True
    if fan_map:
        for chip, fan_entries in fan_map.items():
            for i, f in enumerate(fan_entries):
                out.add("thermal.fan_rpm", int(f.current), f"{chip}/{f.label or i}")
                got = True
    if not got:
        out.missing("no temperature or fan sensors visible", "sensors")
