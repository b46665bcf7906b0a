"""Footprint arithmetic: the Greening government figures of the fleet report.

Pure functions from typed inputs (the fleet, the retired rows' end-of-life routes,
the Boavizta index, the thresholds table) to :class:`Figure` values, each carrying
its method and its source; docs/footprint.md explains every one. The report
(reports/fleet.py) gathers the inputs from the store and calls these; scoring's
per-device footprint (``scoring/decide.py``) takes its per-device water and raw
materials from :class:`DefraFactors` too, so each formula exists once.

No number lives here: the Defra programme figures, the refurbished saving, the old
fixed refresh age and the TCO cross-check are rows of ``data/thresholds.csv``; the
embodied carbon of a model (and the one fallback for a model not in the table) is
the Boavizta index's.

Imports of the scoring package are for type checking only: scoring's ``decide``
imports this module, and a run-time import back would be a cycle.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitlife.collector.policy.fleet import FleetDevice
    from kitlife.collector.policy.scoring.carbon import BoaviztaIndex
    from kitlife.collector.policy.scoring.thresholds import Thresholds

#: Decisions under which a device stays in service (its replacement is not bought).
KEEP_DECISIONS = ("keep", "repair", "redeploy")
#: Purchase routes that count as refurbished or remanufactured (strategy outcome 5.1).
REFURBISHED_ROUTES = ("refurbished", "remanufactured")
#: End-of-life routes the register knows, in the order the report lists them.
EOL_ROUTES = ("reuse", "refurbish", "donate", "recycle", "landfill")
SRC_REGISTER = "kitlife asset register (kitlife assets import)"
_STRATEGY = "Greening government ICT strategy"

FigureValue = int | float | dict[str, int]


@dataclass(frozen=True, slots=True)
class Figure:
    """One published figure: what it is, its value and unit, how it was made, from what."""

    id: str
    label: str
    value: FigureValue
    unit: str
    method: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        value = dict(self.value) if isinstance(self.value, dict) else self.value
        return {
            "id": self.id,
            "label": self.label,
            "value": value,
            "unit": self.unit,
            "method": self.method,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class DefraFactors:
    """Defra's End User Services programme totals, and what they give per reused device."""

    devices: float
    reused_share: float
    water_ml: float
    raw_materials_t: float
    carbon_saving: float
    source: str

    @classmethod
    def from_thresholds(cls, t: Thresholds) -> DefraFactors:
        return cls(
            devices=t.number("carbon.defra_devices"),
            reused_share=t.number("carbon.defra_reused_share"),
            water_ml=t.number("carbon.defra_water_avoided_ml"),
            raw_materials_t=t.number("carbon.defra_raw_materials_avoided_t"),
            carbon_saving=t.number("carbon.defra_refurbished_carbon_saving"),
            source=t.row("carbon.defra_devices").source,
        )

    @property
    def reused_devices(self) -> float:
        return self.devices * self.reused_share

    @property
    def water_l_per_device(self) -> float:
        return self.water_ml * 1e6 / self.reused_devices

    @property
    def water_m3_per_device(self) -> float:
        return self.water_ml * 1e3 / self.reused_devices

    @property
    def raw_kg_per_device(self) -> float:
        return self.raw_materials_t * 1e3 / self.reused_devices

    def over_the_programme(self, total: str) -> str:
        """``total`` spread over the programme's reused devices, in words."""
        return f"{total} over {self.reused_share:.0%} of {self.devices:,.0f} devices"

    @property
    def water_text(self) -> str:
        return self.over_the_programme(f"{self.water_ml:,.0f} ML")

    @property
    def raw_materials_text(self) -> str:
        return self.over_the_programme(f"{self.raw_materials_t:,.0f} t")


@dataclass(frozen=True, slots=True)
class FootprintPolicy:
    """Every factor the fleet figures use, read once from the thresholds table."""

    defra: DefraFactors
    fixed_refresh_years: float
    tco_source: str

    @classmethod
    def from_thresholds(cls, t: Thresholds) -> FootprintPolicy:
        tco = t.row("carbon.tco_notebook_embodied_kgco2e")
        return cls(
            defra=DefraFactors.from_thresholds(t),
            fixed_refresh_years=t.number("fleet.fixed_refresh_years"),
            tco_source=f"{tco.note.split(';')[0]} ({tco.source})",
        )


@dataclass(frozen=True, slots=True)
class Avoided:
    """Carbon avoided by keeping devices in service: kg CO2e, how many devices, how counted."""

    kg: float
    devices: int
    method: str


def _kept(
    f: FleetDevice, today: dt.date, decisions: Mapping[str, str] | None, refresh_years: float
) -> bool:
    if decisions is not None:
        return decisions.get(f.key, "") in KEEP_DECISIONS
    age = f.age_years(today)
    return f.in_use and age is not None and age >= refresh_years


def carbon_avoided_keeping(
    fleet: Sequence[FleetDevice],
    index: BoaviztaIndex,
    policy: FootprintPolicy,
    today: dt.date,
    decisions: Mapping[str, str] | None,
) -> Avoided:
    """kg CO2e avoided by keeping devices rather than replacing them.

    With decisions: every device decided keep / repair / redeploy avoids the
    embodied carbon of a new device of its model (repair parts' own carbon is not
    subtracted here: scoring's per-device footprint has it). Without: the devices in
    use past the old fixed refresh age (``fleet.fixed_refresh_years``) count instead.
    """
    kept = [f for f in fleet if f.owned and _kept(f, today, decisions, policy.fixed_refresh_years)]
    kg = sum(index.embodied_kg(f.vendor, f.model)[0] for f in kept)
    if decisions is not None:
        method = (
            "sum over devices decided keep/repair/redeploy of the embodied carbon of a new "
            "device of the same model (repair parts not yet subtracted)"
        )
    else:
        method = (
            f"PROXY until per-device decisions are available: devices in use past the fixed "
            f"{policy.fixed_refresh_years:g}-year refresh, each avoiding the embodied carbon of "
            "a new device of the same model"
        )
    return Avoided(kg, len(kept), method)


def register_figures(fleet: Sequence[FleetDevice], retired_routes: Counter[str]) -> list[Figure]:
    """What the register says: devices in use and spare, refurbished buys, reuse, end of life."""
    owned = [f for f in fleet if f.owned]
    in_use = [f for f in owned if f.in_use]
    refurb = sum(1 for f in owned if f.purchase_route in REFURBISHED_ROUTES)
    reused = sum(1 for f in in_use if f.previous_holders > 0)
    n_retired = sum(retired_routes.values()) or 1
    return [
        Figure(
            "devices_in_use",
            "Devices in use",
            len(in_use),
            "devices",
            "register rows with status in_use that match an enrolled, unrevoked device",
            SRC_REGISTER,
        ),
        Figure(
            "devices_spare",
            "Devices in spare stock",
            len(owned) - len(in_use),
            "devices",
            "register rows with no holder that match an enrolled device",
            SRC_REGISTER,
        ),
        Figure(
            "pct_refurbished_or_remanufactured_at_purchase",
            "Bought refurbished or remanufactured",
            round(100 * refurb / (len(owned) or 1), 1),
            "%",
            "owned devices whose purchase_route is refurbished or remanufactured",
            f"{SRC_REGISTER}; {_STRATEGY}, business rule 2 and outcome 5.1",
        ),
        Figure(
            "pct_reused_or_redeployed",
            "In use by a second or later holder",
            round(100 * reused / (len(in_use) or 1), 1),
            "%",
            "devices in use with previous_holders > 0 (redeployed inside the organisation "
            "or bought second-hand)",
            SRC_REGISTER,
        ),
        Figure(
            "end_of_life_routes",
            "End-of-life routes of devices retired",
            {k: retired_routes.get(k, 0) for k in EOL_ROUTES},
            "devices",
            "register rows with status retired, by eol_route",
            f"{SRC_REGISTER}; {_STRATEGY} outcome 4.2",
        ),
        Figure(
            "pct_to_landfill",
            "Retired devices sent to landfill (target 0)",
            round(100 * retired_routes.get("landfill", 0) / n_retired, 2),
            "%",
            "retired devices with eol_route landfill / all retired",
            f"{SRC_REGISTER}; {_STRATEGY} business rule 2 (0% to landfill)",
        ),
    ]


def carbon_figures(
    fleet: Sequence[FleetDevice],
    index: BoaviztaIndex,
    policy: FootprintPolicy,
    today: dt.date,
    decisions: Mapping[str, str] | None,
) -> list[Figure]:
    """Embodied carbon of the estate; carbon, water and raw materials avoided."""
    defra = policy.defra
    owned = [f for f in fleet if f.owned]
    refurbished = [f for f in owned if f.purchase_route in REFURBISHED_ROUTES]
    embodied = sum(index.embodied_kg(f.vendor, f.model)[0] for f in owned)
    refurb_kg = sum(index.embodied_kg(f.vendor, f.model)[0] for f in refurbished)
    avoided = carbon_avoided_keeping(fleet, index, policy, today, decisions)
    circular_n = avoided.devices + len(refurbished)
    return [
        Figure(
            "embodied_carbon_estate_kg",
            "Embodied carbon of the estate",
            round(embodied),
            "kg CO2e",
            "sum over owned devices of gwp_total x gwp_manufacturing_ratio of the device's "
            "model; median ratio where the row has none; where the model is not in the table, "
            + index.fallback_basis,
            f"{index.source}; cross-check {policy.tco_source}",
        ),
        Figure(
            "carbon_avoided_keeping_kg",
            "Carbon avoided by keeping and repairing instead of replacing",
            round(avoided.kg),
            "kg CO2e",
            avoided.method,
            f"{index.source}; {policy.tco_source}",
        ),
        Figure(
            "carbon_avoided_refurbished_purchases_kg",
            "Carbon avoided by buying refurbished or remanufactured",
            round(refurb_kg * defra.carbon_saving),
            "kg CO2e",
            f"embodied carbon of the same model new x {defra.carbon_saving:.0%} "
            "(Defra's programme-wide saving against buying new)",
            f"{index.source}; {defra.source}",
        ),
        Figure(
            "water_avoided_m3",
            "Water avoided",
            round(circular_n * defra.water_m3_per_device),
            "m3",
            f"(devices kept + bought refurbished) x {defra.water_m3_per_device:.0f} m3, i.e. "
            f"Defra's {defra.water_text}; scaled, not a device LCA",
            defra.source,
        ),
        Figure(
            "raw_materials_avoided_kg",
            "Raw materials avoided",
            round(circular_n * defra.raw_kg_per_device),
            "kg",
            f"(devices kept + bought refurbished) x {defra.raw_kg_per_device:.0f} kg, i.e. "
            f"Defra's {defra.raw_materials_text}; scaled, not a device LCA",
            defra.source,
        ),
    ]
