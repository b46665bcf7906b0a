"""A device's health report as the service desk reads it: verdict first, then each part.

:func:`device_view` adds to :func:`~kitlife.collector.reports.device.device_report`
what a page needs to show a part's health over time: daily history series
(battery capacity as % of design, SSD endurance used, pressure, crashes,
sentiment), the trend the scorer fitted with its interval, and the threshold
it judges against with that row's source. Readings also carry a rounded text
with units (``shown``) beside the exact number. The same dict is rendered as
HTML by the web pages and as JSON or CSV by the API.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from kitlife.collector.policy.scoring.thresholds import Thresholds, load_thresholds
from kitlife.collector.reports.device import device_report
from kitlife.collector.reports.units import human, months
from kitlife.collector.store import Store
from kitlife.collector.store.device_series import device_series
from kitlife.collector.store.search import register_row_for
from kitlife.protocol import metric_by_name

DAY_S = 86400
DAYS_PER_MONTH = 365.25 / 12
HISTORY_DAYS = 760  # as far back as the scorer looks (store/histories.LOOKBACK_DAYS)
MAX_CHART_POINTS = 120

_BATTERY = ("battery.full_charge_capacity_mwh", "battery.full_charge_capacity_mah")
_DESIGN = {
    "battery.full_charge_capacity_mwh": "battery.design_capacity_mwh",
    "battery.full_charge_capacity_mah": "battery.design_capacity_mah",
}
_WEAR = "nvme.percentage_used_pct"
_PRESSURE = (
    ("cpu.busy_pct", "CPU busy"),
    ("mem.used_pct", "memory used"),
    ("swap.used_pct", "swap used"),
)
_CRASHES = (("rel.os_crashes_24h", "OS crashes"), ("rel.app_crashes_24h", "app crashes"))
_SENTIMENT = "feedback.score"
_HISTORY_METRICS = (
    *_BATTERY,
    _WEAR,
    *(m for m, _ in _PRESSURE),
    *(m for m, _ in _CRASHES),
    _SENTIMENT,
)


@lru_cache(maxsize=1)
def _thresholds() -> Thresholds:
    return load_thresholds()


def _metric_ids(names: Iterable[str]) -> dict[int, str]:
    out: dict[int, str] = {}
    for name in names:
        try:
            out[metric_by_name(name).id] = name
        except KeyError:  # not in this registry version: no series to show
            continue
    return out


def _binned(points: list[tuple[int, float]], max_points: int) -> list[tuple[int, float]]:
    """At most ``max_points`` points: the mean day and value of equal runs of days.

    A chart 640 pixels wide shows no more; two years of daily points would make
    the page several times heavier (and slower) for nothing a person can see.
    """
    if len(points) <= max_points:
        return points
    size = -(-len(points) // max_points)
    arr = np.asarray(points, dtype=np.float64)
    pad = (-len(arr)) % size
    if pad:  # the last run is shorter: repeat its last point, which leaves its mean near
        arr = np.vstack([arr, np.repeat(arr[-1:], pad, axis=0)])
    means = arr.reshape(-1, size, 2).mean(axis=1)
    return [(round(d), round(v, 3)) for d, v in means.tolist()]


def _daily(
    store: Store, device_id: int, since_day: int
) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """(metric, component) -> [(day, the day's value)]: means, or the day's max for counts."""
    ids = _metric_ids(_HISTORY_METRICS)
    out: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for metric_id, component, day, n, total, most in device_series(
        store, device_id, since_day, ids
    ):
        if not n:
            continue
        name = ids[metric_id]
        value = most if name.startswith("rel.") else total / n
        out.setdefault((name, component), []).append((day, float(value)))
    return {k: _binned(v, MAX_CHART_POINTS) for k, v in out.items()}


def _threshold(key: str | None) -> dict[str, Any] | None:
    if not key:
        return None
    t = _thresholds()
    row = t.row(key)
    return {"key": key, "value": t.number(key), "unit": row.unit, "source": row.source}


def _trend(component: Mapping[str, Any], anchor_day: int) -> dict[str, Any] | None:
    """The fitted trend as a line through today's level, and the crossing it predicts."""
    trend = component.get("trend")
    if not trend or component.get("level") is None:
        return None
    return {
        "anchor_day": anchor_day,
        "level": component["level"],
        "per_month": trend["per_month"],
        "low_per_month": trend["low_per_month"],
        "high_per_month": trend["high_per_month"],
        "span_days": trend["span_days"],
        "months": component.get("months_to_threshold"),
        "months_low": component.get("months_low"),
        "months_high": component.get("months_high"),
    }


def _panel(
    pid: str,
    title: str,
    unit: str,
    series: Sequence[dict[str, Any]],
    *,
    y_range: tuple[float, float] | None = None,
    component: Mapping[str, Any] | None = None,
    today: int,
    summary: str,
) -> dict[str, Any]:
    c = component or {}
    return {
        "id": pid,
        "title": title,
        "unit": unit,
        "series": list(series),
        "y_range": list(y_range) if y_range else None,
        "status": c.get("status", "info"),
        "threshold": _threshold(c.get("threshold_key")),
        "trend": _trend(c, today) if c else None,
        "summary": summary,
        "reasons": [r["text"] for r in c.get("reasons", [])],
        "notes": list(c.get("data_quality", [])),
    }


def _component_summary(c: Mapping[str, Any]) -> str:
    level = "-" if c.get("level") is None else f"{c['level']:.0f} {c.get('level_unit', '')}"
    crossing = ""
    if c.get("threshold_key") and c.get("months_to_threshold") is not None:
        crossing = (
            f"; reaches its threshold in {months(c['months_to_threshold'])} "
            f"(between {months(c.get('months_low'))} and {months(c.get('months_high'))})"
        )
    trend = c.get("trend")
    rate = f", {trend['per_month']:+.1f} points a month" if trend else ", trend unknown"
    return f"{c['status']}: {level}{rate}{crossing}"


def _panels(
    daily: Mapping[tuple[str, str], list[tuple[int, float]]],
    latest: Mapping[tuple[str, str], Any],
    components: Sequence[Mapping[str, Any]],
    today: int,
) -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    by_part = {(c["component"], c["name"]): c for c in components}
    for (metric, pack), points in sorted(daily.items()):
        if metric not in _BATTERY:
            continue
        design = latest.get((_DESIGN[metric], pack))
        if not design:
            continue
        pct = [(d, round(100.0 * v / float(design), 2)) for d, v in points]
        c = by_part.get(("battery", pack), {})
        panels.append(
            _panel(
                f"battery-{pack}",
                f"Battery {pack}: capacity, % of design",
                "%",
                [{"name": "full-charge capacity", "points": pct}],
                y_range=(0, 100),
                component=c,
                today=today,
                summary=_component_summary(c) if c else "not scored yet",
            )
        )
    for (metric, disk), points in sorted(daily.items()):
        if metric != _WEAR:
            continue
        c = by_part.get(("storage", disk), {})
        panels.append(
            _panel(
                f"storage-{disk}",
                f"SSD {disk}: endurance used",
                "%",
                [{"name": "endurance used", "points": points}],
                y_range=(0, 100),
                component=c,
                today=today,
                summary=_component_summary(c) if c else "not scored yet",
            )
        )
    pressure = [
        {"name": label, "points": pts}
        for metric, label in _PRESSURE
        for (m, _), pts in sorted(daily.items())
        if m == metric
    ]
    if pressure:
        judged = [c for c in components if c["component"] in ("memory", "cpu")]
        worst = next((c for c in judged if c["status"] == "warn"), judged[0] if judged else {})
        panels.append(
            _panel(
                "pressure",
                "Pressure: daily means",
                "%",
                pressure,
                y_range=(0, 100),
                component=worst,
                today=today,
                summary="; ".join(r["text"] for c in judged for r in c["reasons"])
                or "no sign of pressure in the recent median",
            )
        )
        panels[-1]["threshold"] = panels[-1]["trend"] = None  # medians, not a fitted part
    crashes = [
        {"name": label, "points": pts}
        for metric, label in _CRASHES
        for (m, _), pts in sorted(daily.items())
        if m == metric
    ]
    if crashes:
        total = sum(float(v) for s in crashes for _, v in s["points"][-30:])
        panels.append(
            _panel(
                "crashes",
                "Crashes: the most in 24 h, per day",
                "count",
                crashes,
                today=today,
                summary=f"{total:.0f} crashes counted over the last 30 reported days",
            )
        )
    ratings = [pts for (m, _), pts in daily.items() if m == _SENTIMENT]
    if ratings:
        pts = ratings[0]
        recent = [v for _, v in pts[-5:]]
        panels.append(
            _panel(
                "sentiment",
                "Sentiment: the user's own rating (1-5)",
                "1-5",
                [{"name": "rating", "points": pts}],
                y_range=(1, 5),
                today=today,
                summary=f"{len(pts)} days with a rating; latest {pts[-1][1]:.0f}, "
                f"mean of the last {len(recent)} {sum(recent) / len(recent):.1f}",
            )
        )
    return panels


def device_view(store: Store, query: str, now_s: float) -> dict[str, Any]:
    """Everything the device page shows, as plain data; NotFoundError for an unknown device."""
    device = store.find_device(query)
    report = device_report(store, device["device_uid"])
    today = int(now_s // DAY_S)
    daily = _daily(store, device["id"], today - HISTORY_DAYS)
    latest: dict[tuple[str, str], Any] = {}
    for r in report["readings"]:
        latest[(r["metric"], r["component"])] = r["value"]
        r["shown"] = human(r["value"], r["unit"])
    assessment = report["assessment"] or {}
    components = assessment.get("components", [])
    for c in components:
        if c.get("level") is not None:
            c["level_shown"] = human(c["level"], c.get("level_unit", ""))
        c["months_shown"] = months(c.get("months_to_threshold"))
    report["asset"] = register_row_for(store, device["serial"])
    report["panels"] = _panels(daily, latest, components, today)
    # Amnesty reminders (issue 16) will be listed here once that store exists.
    report["reminders"] = []
    report["verdict"] = _verdict(assessment)
    return report


def _verdict(a: Mapping[str, Any]) -> dict[str, Any]:
    """The decision in one line, what to do, and the horizon: shown before anything else."""
    if not a:
        return {"action": "not scored", "score": None, "headline": "Not scored yet.", "todo": ""}
    action = str(a.get("action", ""))
    rul = a.get("rul_as_is") or {}
    todo = {
        "keep": "Nothing to do: it serves the planning horizon as it is.",
        "repair": "Repair it: "
        + (", ".join(r["part"] for r in a.get("repairs", [])) or "see the parts below")
        + (f" (about GBP {a['repair_cost_gbp']:.0f})" if a.get("repair_cost_gbp") else ""),
        "redeploy": "Redeploy it to a holder whose role it fits (see the fleet plan).",
        "refurbish": "Send it for refurbishment.",
        "donate": "Donate it: it no longer serves a role here but still works.",
        "recycle": "Recycle it through the approved route.",
        "insufficient_data": "Wait for more data: the agent has not reported enough yet.",
    }.get(action, "")
    score = a.get("score")
    limit = rul.get("limiting")
    life = months(rul.get("months"))
    headline = f"{action.replace('_', ' ').capitalize()}" + (
        f", life-extension score {score} of 100" if score is not None else ""
    )
    return {
        "action": action,
        "score": score,
        "headline": headline,
        "todo": todo,
        "life": life + (f", limited by {limit}" if limit else ""),
        "horizon_months": a.get("horizon_months"),
        "carbon_avoided_kgco2e": (a.get("footprint") or {}).get("carbon_avoided_kgco2e"),
    }


def view_csv_rows(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The view flattened for CSV, verdict first: section, part, name, value, unit."""
    rows: list[dict[str, Any]] = []
    v = view["verdict"]
    for name in ("action", "score", "life", "carbon_avoided_kgco2e"):
        rows.append({"section": "verdict", "part": "", "name": name, "value": v.get(name)})
    for c in (view.get("assessment") or {}).get("components", []):
        rows.append(
            {
                "section": "component",
                "part": f"{c['component']} {c['name']}",
                "name": "status",
                "value": c["status"],
            }
        )
        rows.append(
            {
                "section": "component",
                "part": f"{c['component']} {c['name']}",
                "name": "level",
                "value": c.get("level"),
                "unit": c.get("level_unit", ""),
            }
        )
        rows.append(
            {
                "section": "component",
                "part": f"{c['component']} {c['name']}",
                "name": "months_to_threshold",
                "value": None
                if c.get("months_to_threshold") is None
                or not math.isfinite(c["months_to_threshold"])
                else c["months_to_threshold"],
                "unit": "months",
            }
        )
    for r in (view.get("assessment") or {}).get("reasons", []):
        rows.append({"section": "reason", "part": "", "name": r["source"], "value": r["text"]})
    for r in view["readings"]:
        rows.append(
            {
                "section": "reading",
                "part": r["component"],
                "name": r["metric"],
                "value": r["value"],
                "unit": r["unit"],
            }
        )
    return rows


VIEW_CSV_COLUMNS = ("section", "part", "name", "value", "unit")
