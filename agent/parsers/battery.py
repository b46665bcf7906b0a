"""The one shape every battery parser produces, whatever the OS said.

Linux sysfs reports energy (µWh) or charge (µAh), macOS ioreg charge (mAh),
Windows energy (mWh). Each is kept in the unit the pack reported: the agent
converts units, never derives health; the collector decides.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class BatteryFacts:
    """What one pack reports. ``None`` means the OS did not say."""

    name: str
    design_mwh: int | None = None
    full_mwh: int | None = None
    remaining_mwh: int | None = None
    design_mah: int | None = None
    full_mah: int | None = None
    remaining_mah: int | None = None
    cycle_count: int | None = None
    charge_pct: float | None = None
    on_ac: bool | None = None
    voltage_mv: int | None = None
    design_voltage_mv: int | None = None
    temperature_c: float | None = None
    chemistry: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    manufacture_date: str | None = None  # ISO 8601 (YYYY-MM-DD)

    def has_capacity(self) -> bool:
        """True when the pack gave at least one capacity figure (else it is not worth reporting)."""
        return any(
            v is not None for v in (self.design_mwh, self.full_mwh, self.design_mah, self.full_mah)
        )
