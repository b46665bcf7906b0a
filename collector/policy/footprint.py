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
#: The reporting period: the year that ends on the report's date (Greening government
#: reporting is annual).
PERIOD_DAYS = 365
_YEAR_DAYS = 365.25


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
    refresh_source: str = ""

    @classmethod
    def from_thresholds(cls, t: Thresholds) -> FootprintPolicy:
        tco = t.row("carbon.tco_notebook_embodied_kgco2e")
        return cls(
            defra=DefraFactors.from_thresholds(t),
            fixed_refresh_years=t.number("fleet.fixed_refresh_years"),
            tco_source=f"{tco.note.split(';')[0]} ({tco.source})",
            refresh_source=t.row("fleet.fixed_refresh_years").source,
        )


@dataclass(frozen=True, slots=True)
class Period:
    """The reporting period, first and last day inclusive."""

    start: dt.date
    end: dt.date

    @classmethod
    def year_to(cls, today: dt.date) -> Period:
        return cls(today - dt.timedelta(days=PERIOD_DAYS - 1), today)

    def years_from(self, day: dt.date) -> float:
        """Share of the period (one year) on or after ``day``: 0 when it comes after it."""
        first = max(self.start, day)
        return max(0, (self.end - first).days + 1) / PERIOD_DAYS

    def holds(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One device's carbon avoided in the period against the fixed-refresh baseline.

    ``kind``: ``kept`` (a replacement the baseline would have bought, amortised),
    ``refurbished_purchase`` (bought refurbished in the period) or ``none``.
    ``device_equivalents`` is how many new devices the row stands for (water and raw
    materials scale by it).
    """

    device_key: str
    asset_tag: str
    serial: str
    hostname: str
    decision: str
    kind: str
    formula: str
    inputs: dict[str, float | str]
    sources: tuple[str, ...]
    kg: float
    device_equivalents: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "device_key": self.device_key,
            "asset_tag": self.asset_tag,
            "serial": self.serial,
            "hostname": self.hostname,
            "decision": self.decision,
            "kind": self.kind,
            "formula": self.formula,
            "inputs": dict(self.inputs),
            "sources": list(self.sources),
            "kg_co2e": round(self.kg, 1),
            "device_equivalents": round(self.device_equivalents, 4),
        }


def _day(n: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=n)


def _ledger_row(
    f: FleetDevice,
    decision: str,
    kept: bool,
    index: BoaviztaIndex,
    policy: FootprintPolicy,
    period: Period,
    refresh_source: str,
) -> LedgerRow:
    """The row of one owned device (docs/footprint.md, "The carbon ledger")."""
    new_kg, basis = index.embodied_kg(f.vendor, f.model)
    n_years = policy.fixed_refresh_years
    parts = f.repair_parts_kgco2e if decision == "repair" else 0.0
    inputs: dict[str, float | str] = {"embodied_new_kg": round(new_kg, 1), "embodied_basis": basis}
    sources = [index.source]
    if parts:
        inputs["repair_parts_kg"] = round(parts, 1)
        sources.append("repair_catalogue.csv (parts of the device's recorded repair)")
    name = (f.key, f.asset_tag, f.serial, f.hostname, decision)
    bought = _day(f.purchase_day) if f.purchase_day is not None else None
    if f.purchase_route in REFURBISHED_ROUTES and bought is not None and period.holds(bought):
        saving = policy.defra.carbon_saving
        inputs |= {"purchase_date": bought.isoformat(), "refurbished_saving": saving}
        return LedgerRow(
            *name,
            "refurbished_purchase",
            "embodied_new_kg x refurbished_saving - repair_parts_kg "
            "(bought refurbished in the period; the measured saving against new)",
            inputs,
            (*sources, policy.defra.source),
            new_kg * saving - parts,
            1.0,
        )
    if not kept:
        return LedgerRow(
            *name,
            "none",
            "0: not kept in service, so no replacement avoided",
            inputs,
            tuple(sources),
            0.0,
            0.0,
        )
    inputs["refresh_years"] = n_years
    if bought is None:
        return LedgerRow(
            *name,
            "kept",
            "0 - repair_parts_kg: no purchase date, so the baseline's refresh date is unknown",
            inputs,
            (*sources, refresh_source),
            -parts,
            0.0,
        )
    refresh = bought + dt.timedelta(days=round(n_years * _YEAR_DAYS))
    years = period.years_from(refresh)
    inputs |= {
        "purchase_date": bought.isoformat(),
        "baseline_refresh_date": refresh.isoformat(),
        "years_kept_past_refresh_in_period": round(years, 3),
    }
    return LedgerRow(
        *name,
        "kept",
        "embodied_new_kg x years_kept_past_refresh_in_period / refresh_years - repair_parts_kg "
        "(the replacement the baseline buys at the refresh date, amortised over the "
        "refresh_years it would serve; a device younger than refresh_years avoids nothing)",
        inputs,
        (*sources, refresh_source),
        new_kg * years / n_years - parts,
        years / n_years,
    )


def carbon_ledger(
    fleet: Sequence[FleetDevice],
    index: BoaviztaIndex,
    policy: FootprintPolicy,
    today: dt.date,
    decisions: Mapping[str, str] | None,
) -> list[LedgerRow]:
    """One row per owned device; the fleet's carbon figures are sums of these rows.

    Baseline: the fixed refresh every ``fleet.fixed_refresh_years`` that kitlife replaces.
    Without recorded decisions every device in use counts as kept (and the decision reads
    ``undecided``).
    """
    period = Period.year_to(today)
    rows: list[LedgerRow] = []
    for f in fleet:
        if not f.owned:
            continue
        if decisions is None:
            decision, kept = "undecided", f.in_use
        else:
            decision = decisions.get(f.key, "") or "undecided"
            kept = decision in KEEP_DECISIONS
        rows.append(_ledger_row(f, decision, kept, index, policy, period, policy.refresh_source))
    return rows


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
    ledger: Sequence[LedgerRow],
    today: dt.date,
) -> list[Figure]:
    """Embodied carbon of the estate; carbon, water and raw materials avoided (ledger sums)."""
    defra = policy.defra
    owned = [f for f in fleet if f.owned]
    embodied = sum(index.embodied_kg(f.vendor, f.model)[0] for f in owned)
    kept = [r for r in ledger if r.kind == "kept"]
    refurb = [r for r in ledger if r.kind == "refurbished_purchase"]
    equivalents = sum(r.device_equivalents for r in ledger)
    period = Period.year_to(today)
    baseline = (
        f"against the fixed refresh every {policy.fixed_refresh_years:g} years "
        f"(fleet.fixed_refresh_years), period {period.start} to {period.end}"
    )
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
            round(sum(r.kg for r in kept)),
            "kg CO2e",
            f"sum of the carbon_ledger rows of kind 'kept' ({len(kept)} devices), {baseline}: "
            "each avoids the replacement the baseline would have bought, amortised over the "
            "refresh years, for the part of the period it serves past its refresh date, "
            "less its repair parts",
            f"{index.source}; {policy.refresh_source}; repair_catalogue.csv",
        ),
        Figure(
            "carbon_avoided_refurbished_purchases_kg",
            "Carbon avoided by buying refurbished or remanufactured",
            round(sum(r.kg for r in refurb)),
            "kg CO2e",
            f"sum of the carbon_ledger rows of kind 'refurbished_purchase' ({len(refurb)} "
            f"devices bought refurbished in the period): embodied carbon of the same model "
            f"new x {defra.carbon_saving:.0%} (Defra's measured saving against buying new)",
            f"{index.source}; {defra.source}",
        ),
        Figure(
            "water_avoided_m3",
            "Water avoided",
            round(equivalents * defra.water_m3_per_device),
            "m3",
            f"new-device equivalents avoided in the carbon ledger ({equivalents:.1f}) x "
            f"{defra.water_m3_per_device:.0f} m3, i.e. Defra's {defra.water_text}; scaled, "
            "not a device LCA",
            defra.source,
        ),
        Figure(
            "raw_materials_avoided_kg",
            "Raw materials avoided",
            round(equivalents * defra.raw_kg_per_device),
            "kg",
            f"new-device equivalents avoided in the carbon ledger ({equivalents:.1f}) x "
            f"{defra.raw_kg_per_device:.0f} kg, i.e. Defra's {defra.raw_materials_text}; "
            "scaled, not a device LCA",
            defra.source,
        ),
    ]
