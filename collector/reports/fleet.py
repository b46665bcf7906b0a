"""The fleet report: the Greening-government figures, fleet views, which models last.

Pure: it takes the fleet (database or simulation, see inputs.py), the
retired rows of the register and, when the scoring engine provides them,
per-device decisions. Every published figure carries its method and source;
docs/footprint.md explains each one.

Seam: figures that need per-device decisions (carbon avoided by keeping and
repairing) take ``decisions`` ({device key: keep | repair | redeploy |
refurbish | donate | recycle}). Without them (scoring not merged yet, or not
run) the report falls back to a proxy stated in the figure's method: devices
still in use past the fixed four-year refresh the department used to run.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from kitlife.collector.policy.fit import RolesConfig, fact_arrays, mismatch_by_role
from kitlife.collector.policy.scoring.carbon import SOURCE as BOAVIZTA
from kitlife.collector.policy.scoring.carbon import BoaviztaIndex
from kitlife.collector.reports.fleet_inputs import FleetDevice

FIXED_REFRESH_YEARS = 4
# Defra EUS programme (Defra Digital blog and announcement): 90 % of
# 72,000 devices reused/refurbished/remanufactured over five years avoid about
# 51,000 t of raw materials and 12,000 ML of water, and cut device carbon 44 %.
DEFRA_DEVICES = 72_000 * 0.9
RAW_KG_PER_DEVICE = 51_000 * 1000 / DEFRA_DEVICES  # ~787 kg
WATER_M3_PER_DEVICE = 12_000 * 1000 / DEFRA_DEVICES  # ~185 m3 (1 ML = 1000 m3)
REFURB_CARBON_SAVING = 0.44
KEEP_DECISIONS = ("keep", "repair", "redeploy")
SRC_DEFRA = (
    "Defra End User Services programme (Defra Digital blog, How we're making technology "
    "procurement more sustainable; Defra's refurbished-devices announcement)"
)
SRC_REGISTER = "kitlife asset register (kitlife assets import)"
SRC_TCO = "TCO Certified: ~250 kg CO2e before first use, 94% of a notebook's 3-year footprint"


def _fig(key: str, label: str, value: Any, unit: str, method: str, source: str) -> dict[str, Any]:
    return {
        "id": key,
        "label": label,
        "value": value,
        "unit": unit,
        "method": method,
        "source": source,
    }


def _age_years(f: FleetDevice, today_day: int) -> float | None:
    return None if f.purchase_day is None else (today_day - f.purchase_day) / 365.25


def _band(age: float | None) -> str:
    if age is None:
        return "unknown"
    if age < 2:
        return "0-2 y"
    if age < 4:
        return "2-4 y"
    if age < 6:
        return "4-6 y"
    return "6+ y"


def carbon_avoided(
    fleet: Sequence[FleetDevice],
    table: BoaviztaIndex,
    today: dt.date,
    decisions: Mapping[str, str] | None,
) -> tuple[float, int, str]:
    """kg CO2e avoided by keeping devices rather than replacing them, devices, method.

    With decisions: every device decided keep / repair / redeploy avoids the
    embodied carbon of a new device of its model (repair parts' own carbon
    is not subtracted yet: the scoring engine's repair catalogue has it).
    Without: the devices in use past the fixed refresh age count instead.
    """
    today_day = (today - dt.date(1970, 1, 1)).days
    total = 0.0
    n = 0
    for f in fleet:
        if f.status not in ("in_use", "spare"):
            continue
        if decisions is not None:
            counted = decisions.get(f.key, "") in KEEP_DECISIONS
        else:
            age = _age_years(f, today_day)
            counted = f.status == "in_use" and age is not None and age >= FIXED_REFRESH_YEARS
        if counted:
            total += table.embodied_kg(f.vendor, f.model)[0]
            n += 1
    if decisions is not None:
        method = (
            "sum over devices decided keep/repair/redeploy of the embodied carbon of a new "
            "device of the same model (repair parts not yet subtracted)"
        )
    else:
        method = (
            f"PROXY until per-device decisions are available: devices in use past the fixed "
            f"{FIXED_REFRESH_YEARS}-year refresh, each avoiding the embodied carbon of a new "
            "device of the same model"
        )
    return total, n, method


def fleet_report(
    fleet: Sequence[FleetDevice],
    retired: Sequence[Mapping[str, Any]],
    table: BoaviztaIndex,
    cfg: RolesConfig,
    today: dt.date,
    decisions: Mapping[str, str] | None = None,
    experience: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    today_day = (today - dt.date(1970, 1, 1)).days
    owned = [f for f in fleet if f.status in ("in_use", "spare")]
    in_use = [f for f in owned if f.status == "in_use"]
    n_owned = len(owned) or 1
    n_in_use = len(in_use) or 1
    refurb = sum(1 for f in owned if f.purchase_route in ("refurbished", "remanufactured"))
    reused = sum(1 for f in in_use if f.previous_holders > 0)
    routes = Counter(str(r.get("eol_route", "")) for r in retired)
    n_retired = sum(routes.values()) or 1
    embodied = sum(table.embodied_kg(f.vendor, f.model)[0] for f in owned)
    avoided_kg, avoided_n, avoided_method = carbon_avoided(fleet, table, today, decisions)
    refurb_kg = sum(
        table.embodied_kg(f.vendor, f.model)[0] * REFURB_CARBON_SAVING
        for f in owned
        if f.purchase_route in ("refurbished", "remanufactured")
    )
    circular_n = avoided_n + refurb
    figures = [
        _fig(
            "devices_in_use",
            "Devices in use",
            len(in_use),
            "devices",
            "register rows with status in_use that match an enrolled, unrevoked device",
            SRC_REGISTER,
        ),
        _fig(
            "devices_spare",
            "Devices in spare stock",
            len(owned) - len(in_use),
            "devices",
            "register rows with no holder that match an enrolled device",
            SRC_REGISTER,
        ),
        _fig(
            "pct_refurbished_or_remanufactured_at_purchase",
            "Bought refurbished or remanufactured",
            round(100 * refurb / n_owned, 1),
            "%",
            "owned devices whose purchase_route is refurbished or remanufactured",
            SRC_REGISTER + "; Greening government ICT strategy, business rule 2 and outcome 5.1",
        ),
        _fig(
            "pct_reused_or_redeployed",
            "In use by a second or later holder",
            round(100 * reused / n_in_use, 1),
            "%",
            "devices in use with previous_holders > 0 (redeployed inside the organisation "
            "or bought second-hand)",
            SRC_REGISTER,
        ),
        _fig(
            "end_of_life_routes",
            "End-of-life routes of devices retired",
            {k: routes.get(k, 0) for k in ("reuse", "refurbish", "donate", "recycle", "landfill")},
            "devices",
            "register rows with status retired, by eol_route",
            SRC_REGISTER + "; Greening government ICT strategy outcome 4.2",
        ),
        _fig(
            "pct_to_landfill",
            "Retired devices sent to landfill (target 0)",
            round(100 * routes.get("landfill", 0) / n_retired, 2),
            "%",
            "retired devices with eol_route landfill / all retired",
            SRC_REGISTER + "; Greening government ICT strategy business rule 2 (0% to landfill)",
        ),
        _fig(
            "embodied_carbon_estate_kg",
            "Embodied carbon of the estate",
            round(embodied),
            "kg CO2e",
            "sum over owned devices of gwp_total x gwp_manufacturing_ratio of the device's "
            "model; median ratio where the row has none; median laptop where the model is "
            "not in the table",
            BOAVIZTA + "; cross-check " + SRC_TCO,
        ),
        _fig(
            "carbon_avoided_keeping_kg",
            "Carbon avoided by keeping and repairing instead of replacing",
            round(avoided_kg),
            "kg CO2e",
            avoided_method,
            BOAVIZTA + "; " + SRC_TCO,
        ),
        _fig(
            "carbon_avoided_refurbished_purchases_kg",
            "Carbon avoided by buying refurbished or remanufactured",
            round(refurb_kg),
            "kg CO2e",
            f"embodied carbon of the same model new x {REFURB_CARBON_SAVING:.0%} "
            "(Defra's programme-wide saving against buying new)",
            BOAVIZTA + "; " + SRC_DEFRA,
        ),
        _fig(
            "water_avoided_m3",
            "Water avoided",
            round(circular_n * WATER_M3_PER_DEVICE),
            "m3",
            f"(devices kept + bought refurbished) x {WATER_M3_PER_DEVICE:.0f} m3, i.e. "
            "Defra's 12,000 ML over 90% of 72,000 devices; scaled, not a device LCA",
            SRC_DEFRA,
        ),
        _fig(
            "raw_materials_avoided_kg",
            "Raw materials avoided",
            round(circular_n * RAW_KG_PER_DEVICE),
            "kg",
            f"(devices kept + bought refurbished) x {RAW_KG_PER_DEVICE:.0f} kg, i.e. "
            "Defra's 51,000 t over 90% of 72,000 devices; scaled, not a device LCA",
            SRC_DEFRA,
        ),
    ]

    # Views: decisions (or fit) by model, site and age band. Fit is priced once,
    # vectorised, for every device in use.
    role_names = sorted(cfg.roles)
    role_ix = {r: i for i, r in enumerate(role_names)}
    mm = mismatch_by_role(fact_arrays([f.facts for f in in_use], cfg, today), cfg, role_names)
    poor_keys = {
        f.key for i, f in enumerate(in_use) if f.role in role_ix and mm[role_ix[f.role], i] > 0
    }

    def group(key: str) -> list[dict[str, Any]]:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for f in in_use:
            if key == "model":
                g = f"{f.vendor} {f.model}".strip()
            elif key == "site":
                g = f.site or "unknown"
            else:
                g = _band(_age_years(f, today_day))
            dec = (decisions or {}).get(f.key) or f.decision or "undecided"
            counts[g][dec] += 1
            if f.key in poor_keys:
                counts[g]["poor_fit"] += 1
            counts[g]["devices"] += 1
        return [
            {key: g, **dict(c)} for g, c in sorted(counts.items(), key=lambda kv: -kv[1]["devices"])
        ]

    # Which models last: age at retirement (register) and component wear (telemetry).
    ages: dict[str, list[float]] = defaultdict(list)
    for r in retired:
        if r.get("retired_day") is not None and r.get("purchase_day") is not None:
            ages[f"{r.get('vendor', '')} {r.get('model', '')}".strip()].append(
                (int(r["retired_day"]) - int(r["purchase_day"])) / 365.25
            )
    wear: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for f in owned:
        m = f"{f.vendor} {f.model}".strip()
        age = _age_years(f, today_day) or 0.0
        w = wear[m]
        w["devices"] += 1
        w["device_years"] += max(age, 0.0)
        if f.facts.battery_health_pct is not None and f.facts.battery_health_pct < 80:
            w["battery_below_80"] += 1
        if f.disk_worn:
            w["disk_errors"] += 1
    models: list[dict[str, Any]] = []
    for m in sorted(set(ages) | set(wear)):
        w = wear.get(m, {})
        dy = w.get("device_years", 0.0)
        a = ages.get(m, [])
        models.append(
            {
                "model": m,
                "devices": int(w.get("devices", 0)),
                "retired": len(a),
                "median_age_at_retirement_y": round(statistics.median(a), 2) if a else None,
                "battery_below_80_per_100_device_years": round(
                    100 * w.get("battery_below_80", 0) / dy, 2
                )
                if dy
                else None,
                "disk_errors_per_100_device_years": round(100 * w.get("disk_errors", 0) / dy, 2)
                if dy
                else None,
            }
        )
    models.sort(key=lambda r: (-(r["median_age_at_retirement_y"] or 0), r["model"]))
    report: dict[str, Any] = {
        "as_of": today.isoformat(),
        "figures": figures,
        "by_model": group("model"),
        "by_site": group("site"),
        "by_age": group("age"),
        "models_that_last": models,
        "poor_fit_devices": len(poor_keys),
        "decisions_source": "per-device decisions"
        if decisions is not None
        else "none yet (scoring engine not merged): decision columns read 'undecided'",
        "credits": [
            "Embodied carbon: Boavizta environmental-footprint-data, ODbL 1.0 "
            "(https://github.com/Boavizta/environmental-footprint-data)",
        ],
    }
    if experience is not None:
        report["experience"] = dict(experience)
    return report


def experience_section(store: Any) -> dict[str, Any] | None:
    """Hook: include the experience report once collector/reports/experience.py exists."""
    import importlib

    try:
        experience = importlib.import_module("kitlife.collector.reports.experience")
    except ImportError:
        return None
    for name in ("fleet_summary", "experience_summary", "summary"):
        fn = getattr(experience, name, None)
        if callable(fn):
            result = fn(store)
            return dict(result) if isinstance(result, Mapping) else {"rows": result}
    return None
