"""The fleet report: the Greening government figures, fleet views, which models last.

Assembly only. Its inputs are the fleet (from the store, reports/fleet_inputs.py;
or from a simulated estate, tools/estate_inputs.py), the retired rows of the
register, the per-device decisions the scorer recorded (``kitlife score``) and the
fleet's experience summary (reports/experience.py). The published figures'
arithmetic is policy (policy/footprint.py), and every figure carries its method
and source; docs/footprint.md explains each one.

Carbon avoided is a ledger (policy/footprint.py), one row per owned device against the
fixed-refresh baseline, and the figures are its sums; the report carries the rows.
Without recorded decisions every device in use counts as kept ("undecided").
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kitlife.collector.policy.fit import RolesConfig, fact_arrays, mismatch_by_role
from kitlife.collector.policy.fleet import FleetDevice
from kitlife.collector.policy.footprint import (
    FootprintPolicy,
    Period,
    carbon_figures,
    carbon_ledger,
    register_figures,
)
from kitlife.collector.policy.scoring.carbon import BoaviztaIndex
from kitlife.collector.policy.scoring.thresholds import Thresholds, load_thresholds
from kitlife.collector.reports.experience import FleetExperience

#: The battery line "models that last" counts against: Fleet's (osquery) "Normal".
BATTERY_LINE_KEY = "battery.fleet_normal_min_health_pct"
GroupBy = Literal["model", "site", "age"]


def age_band(age: float | None) -> str:
    """The age band the views group by."""
    if age is None:
        return "unknown"
    if age < 2:
        return "0-2 y"
    if age < 4:
        return "2-4 y"
    if age < 6:
        return "4-6 y"
    return "6+ y"


@dataclass(frozen=True, slots=True)
class FleetViews:
    """Devices in use by model, site and age band, with their decisions and poor fits."""

    by_model: list[dict[str, Any]]
    by_site: list[dict[str, Any]]
    by_age: list[dict[str, Any]]
    poor_fit_devices: int


@dataclass(slots=True)
class _ModelWear:
    devices: int = 0
    device_years: float = 0.0
    battery_below_line: int = 0
    disk_errors: int = 0
    retirement_ages: list[float] = field(default_factory=list)


def poor_fit_keys(in_use: Sequence[FleetDevice], cfg: RolesConfig, today: dt.date) -> set[str]:
    """Keys of devices in use that fit their holder's role poorly (priced once, vectorised)."""
    role_names = sorted(cfg.roles)
    role_ix = {r: i for i, r in enumerate(role_names)}
    mm = mismatch_by_role(fact_arrays([f.facts for f in in_use], cfg, today), cfg, role_names)
    return {f.key for i, f in enumerate(in_use) if f.role in role_ix and mm[role_ix[f.role], i] > 0}


def _group_name(f: FleetDevice, by: GroupBy, today: dt.date) -> str:
    if by == "model":
        return f.model_name
    if by == "site":
        return f.site or "unknown"
    return age_band(f.age_years(today))


def group_view(
    in_use: Sequence[FleetDevice],
    by: GroupBy,
    decisions: Mapping[str, str] | None,
    poor_keys: set[str],
    today: dt.date,
) -> list[dict[str, Any]]:
    """Rows of {by: group, devices, poor_fit, one count per decision}, largest group first."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for f in in_use:
        c = counts[_group_name(f, by, today)]
        c[(decisions or {}).get(f.key) or f.decision or "undecided"] += 1
        if f.key in poor_keys:
            c["poor_fit"] += 1
        c["devices"] += 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1]["devices"])
    return [{by: g, **dict(c)} for g, c in ranked]


def fleet_views(
    in_use: Sequence[FleetDevice],
    cfg: RolesConfig,
    today: dt.date,
    decisions: Mapping[str, str] | None,
) -> FleetViews:
    poor = poor_fit_keys(in_use, cfg, today)
    return FleetViews(
        by_model=group_view(in_use, "model", decisions, poor, today),
        by_site=group_view(in_use, "site", decisions, poor, today),
        by_age=group_view(in_use, "age", decisions, poor, today),
        poor_fit_devices=len(poor),
    )


def _per_100(count: int, device_years: float) -> float | None:
    return round(100 * count / device_years, 2) if device_years else None


def models_that_last(
    owned: Sequence[FleetDevice],
    retired: Sequence[Mapping[str, Any]],
    today: dt.date,
    battery_line_pct: float,
) -> list[dict[str, Any]]:
    """Age at retirement (register) and wear (telemetry) per model, longest-lived first."""
    wear: dict[str, _ModelWear] = defaultdict(_ModelWear)
    for r in retired:
        if r.get("retired_day") is not None and r.get("purchase_day") is not None:
            name = f"{r.get('vendor', '')} {r.get('model', '')}".strip()
            age = (int(r["retired_day"]) - int(r["purchase_day"])) / 365.25
            wear[name].retirement_ages.append(age)
    for f in owned:
        w = wear[f.model_name]
        w.devices += 1
        w.device_years += max(f.age_years(today) or 0.0, 0.0)
        health = f.facts.battery_health_pct
        w.battery_below_line += int(health is not None and health < battery_line_pct)
        w.disk_errors += int(f.disk_worn)
    rows: list[dict[str, Any]] = [
        {
            "model": name,
            "devices": w.devices,
            "retired": len(w.retirement_ages),
            "median_age_at_retirement_y": (
                round(statistics.median(w.retirement_ages), 2) if w.retirement_ages else None
            ),
            "battery_below_service_line_per_100_device_years": _per_100(
                w.battery_below_line, w.device_years
            ),
            "disk_errors_per_100_device_years": _per_100(w.disk_errors, w.device_years),
        }
        for name, w in sorted(wear.items())
    ]
    rows.sort(key=lambda r: (-(r["median_age_at_retirement_y"] or 0), r["model"]))
    return rows


def fleet_report(
    fleet: Sequence[FleetDevice],
    retired: Sequence[Mapping[str, Any]],
    table: BoaviztaIndex,
    cfg: RolesConfig,
    today: dt.date,
    decisions: Mapping[str, str] | None = None,
    experience: FleetExperience | None = None,
    thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    """The report as JSON-ready data: figures, views, models that last, experience."""
    t = thresholds or load_thresholds()
    policy = FootprintPolicy.from_thresholds(t)
    owned = [f for f in fleet if f.owned]
    routes = Counter(str(r.get("eol_route", "")) for r in retired)
    ledger = carbon_ledger(fleet, table, policy, today, decisions)
    figures = register_figures(fleet, routes) + carbon_figures(fleet, table, policy, ledger, today)
    period = Period.year_to(today)
    views = fleet_views([f for f in owned if f.in_use], cfg, today, decisions)
    battery_line = t.number(BATTERY_LINE_KEY)
    report: dict[str, Any] = {
        "as_of": today.isoformat(),
        "figures": [f.to_dict() for f in figures],
        "by_model": views.by_model,
        "by_site": views.by_site,
        "by_age": views.by_age,
        "models_that_last": models_that_last(owned, retired, today, battery_line),
        "battery_service_line_pct": battery_line,
        "poor_fit_devices": views.poor_fit_devices,
        "decisions_source": "per-device decisions"
        if decisions is not None
        else "none yet (run kitlife score): decision columns read 'undecided'",
        "carbon_baseline": {
            "refresh_years": policy.fixed_refresh_years,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "source": policy.refresh_source,
        },
        "carbon_ledger": [r.to_dict() for r in ledger],
        "credits": [
            "Embodied carbon: Boavizta environmental-footprint-data, ODbL 1.0 "
            "(https://github.com/Boavizta/environmental-footprint-data)",
        ],
    }
    if experience is not None:
        report["experience"] = experience.to_dict()
    return report
