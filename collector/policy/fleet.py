"""One device as the fleet views see it, and the redeploy planner's inputs built from it.

Pure: the store (reports/fleet_inputs.py) and the simulator (tools/estate_inputs.py)
both build :class:`FleetDevice` rows; the fleet report, the footprint figures and the
redeploy planner read them without knowing which it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from kitlife.collector.policy.fit import DeviceFacts
from kitlife.collector.policy.redeploy import PlanDevice, PlanHolder

#: Pressure figures for role fit are 95th percentiles of daily means over this many
#: days (roles.toml says so in its header): a holder's last quarter of work.
PRESSURE_WINDOW_DAYS = 90
#: Register statuses of devices the organisation still owns (the rest are retired).
OWNED_STATUSES = ("in_use", "spare")


@dataclass(frozen=True, slots=True)
class FleetDevice:
    """One device as the fleet views see it (database or simulation alike)."""

    key: str
    vendor: str
    model: str
    site: str
    holder_id: str
    role: str
    status: str
    purchase_day: int | None
    purchase_route: str
    previous_holders: int
    facts: DeviceFacts
    battery_cycles: float | None = None
    disk_worn: bool = False  # media errors or reallocated sectors seen
    decision: str = ""
    # What a technician finds the device by (register asset tag, serial, hostname).
    asset_tag: str = ""
    serial: str = ""
    hostname: str = ""
    # kg CO2e of the parts of the newest recorded repair (the assessment's footprint).
    repair_parts_kgco2e: float = 0.0

    @property
    def owned(self) -> bool:
        return self.status in OWNED_STATUSES

    @property
    def in_use(self) -> bool:
        return self.status == "in_use"

    @property
    def model_name(self) -> str:
        """Vendor and model, as the views group by them."""
        return f"{self.vendor} {self.model}".strip()

    def age_years(self, today: dt.date) -> float | None:
        """Years since purchase on ``today``; None when the register has no purchase date."""
        if self.purchase_day is None:
            return None
        return ((today - dt.date(1970, 1, 1)).days - self.purchase_day) / 365.25


def plan_inputs(fleet: Sequence[FleetDevice]) -> tuple[list[PlanDevice], list[PlanHolder]]:
    """Devices (held or spare) and holders for the redeploy planner."""
    devs: list[PlanDevice] = []
    holders: list[PlanHolder] = []
    for f in fleet:
        if not f.owned:
            continue  # unregistered devices cannot be planned: no site, no holder
        devs.append(
            PlanDevice(
                f.key,
                f.facts,
                f.site,
                f.holder_id,
                f.vendor,
                f.model,
                asset_tag=f.asset_tag,
                serial=f.serial,
                hostname=f.hostname,
            )
        )
        if f.holder_id:
            holders.append(PlanHolder(f.holder_id, f.role, f.site, f.key))
    return devs, holders
