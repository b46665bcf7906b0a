"""Responsiveness index and sentiment average, per device and per fleet slice.

The formulas are in docs/experience.md; this module is their only
implementation. Everything is computed from ``rollups_daily`` (one row per
device, metric, component and day), so it costs one query whatever the window.

Responsiveness index of one device-day, 0 (unusable) to 100 (no sign of
waiting): ``100 * (1 - sum(w_i * p_i) / sum(w_i))`` over the terms the device
reported that day, each penalty ``p_i`` clamped to [0, 1]. A slice's index is
the mean of its device-day indices, so a device counts by the days it reported.

Sentiment average: the mean of every ``feedback.score`` in the slice and
window (each rating counts once).

:func:`fleet_experience` is the same computation over the whole fleet (and per
site when the register gives sites), for the fleet report.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from kitlife.collector.store import Store
from kitlife.collector.store.queries_experience import (
    device_facts,
    experience_rollups,
    site_by_device,
)
from kitlife.protocol import metric_by_name

By = Literal["device", "model", "site", "month"]
DAY_S = 86400


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


@dataclass(frozen=True, slots=True)
class Term:
    """One penalty: which metric, how a day's rollups become a value, and the penalty curve."""

    name: str
    metric: str
    weight: float
    combine: Literal["mean", "sum", "last"]
    penalty: Callable[[float], float]


# Thresholds: the value where the penalty starts, and where it is full.
TERMS: tuple[Term, ...] = (
    Term("cpu", "resp.cpu_busy_p95_pct", 0.25, "mean", lambda v: _clamp((v - 50) / 50)),
    Term("memory", "resp.mem_available_pct", 0.20, "mean", lambda v: _clamp((20 - v) / 20)),
    Term("pressure", "resp.psi_some_avg60_pct", 0.20, "mean", lambda v: _clamp(v / 20)),
    Term("disk", "resp.disk_busy_pct", 0.10, "mean", lambda v: _clamp((v - 20) / 60)),
    Term("thermal", "resp.thermal_throttle_s", 0.10, "sum", lambda v: _clamp(v / 3600)),
    Term("boot", "boot.duration_s", 0.15, "last", lambda v: _clamp((v - 30) / 90)),
)
SCORE = "feedback.score"


def day_value(rows: list[dict[str, Any]], combine: str) -> float:
    """One device-day's value from its rollup rows (several components: the worst one)."""
    if combine == "sum":
        per = [r["sum"] for r in rows]
    elif combine == "last":
        per = [r["last"] for r in rows]
    else:
        per = [r["sum"] / r["n"] for r in rows if r["n"]]
    return max(per) if per else 0.0


def day_index(values: dict[str, float]) -> float | None:
    """The index of one device-day from its term values (term name -> value)."""
    used = [(t.weight, t.penalty(values[t.name])) for t in TERMS if t.name in values]
    if not used:
        return None
    total = sum(w for w, _ in used)
    return round(100.0 * (1.0 - sum(w * p for w, p in used) / total), 1)


def _month(day: int) -> str:
    return time.strftime("%Y-%m", time.gmtime(day * DAY_S))


class SiteUnavailableError(LookupError):
    """Slicing by site needs the asset register, which this database does not have."""


def experience(
    store: Store, by: By = "model", days: int = 30, now_s: int | None = None
) -> list[dict[str, Any]]:
    """Rows of {slice key, devices, device_days, responsiveness_index, sentiment_avg, ratings}."""
    return _slices(store, by, days, now_s)


@dataclass(frozen=True, slots=True)
class FleetExperience:
    """The fleet's responsiveness index and sentiment over a window, and the same per site."""

    days: int
    devices: int
    device_days: int
    responsiveness_index: float | None
    sentiment_avg: float | None
    ratings: int
    by_site: list[dict[str, Any]] | None = field(default=None)  # None: no register yet

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "devices": self.devices,
            "device_days": self.device_days,
            "responsiveness_index": self.responsiveness_index,
            "sentiment_avg": self.sentiment_avg,
            "ratings": self.ratings,
            "by_site": self.by_site,
            "method": "responsiveness index and sentiment average as in docs/experience.md, "
            f"over the last {self.days} days",
        }


def fleet_experience(store: Store, days: int = 30, now_s: int | None = None) -> FleetExperience:
    """The whole fleet as one slice (devices that reported nothing are not counted)."""
    rows = _slices(store, "fleet", days, now_s)
    whole = rows[0] if rows else {}
    try:
        by_site: list[dict[str, Any]] | None = _slices(store, "site", days, now_s)
    except SiteUnavailableError:
        by_site = None
    return FleetExperience(
        days=days,
        devices=int(whole.get("devices", 0)),
        device_days=int(whole.get("device_days", 0)),
        responsiveness_index=whole.get("responsiveness_index"),
        sentiment_avg=whole.get("sentiment_avg"),
        ratings=int(whole.get("ratings", 0)),
        by_site=by_site,
    )


def _slices(
    store: Store, by: By | Literal["fleet"], days: int, now_s: int | None
) -> list[dict[str, Any]]:
    now_s = int(time.time()) if now_s is None else now_s
    since_day = now_s // DAY_S - days + 1
    ids = {metric_by_name(t.metric).id: t for t in TERMS}
    score_id = metric_by_name(SCORE).id
    rows = experience_rollups(store, [*ids, score_id], since_day)
    facts = device_facts(store)
    sites: dict[int, str] | None = None
    if by == "site":
        sites = site_by_device(store)
        if sites is None:
            raise SiteUnavailableError(
                "no site information: the asset register (a 'site' column on devices, or an "
                "assets table with serial and site) is not in this database yet"
            )

    per_day: dict[tuple[int, int], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    score_sum: dict[tuple[int, int], float] = defaultdict(float)
    score_n: dict[tuple[int, int], int] = defaultdict(int)
    for r in rows:
        if r["device_id"] not in facts:
            continue
        key = (r["device_id"], r["day"])
        if r["metric_id"] == score_id:
            score_sum[key] += r["sum"]
            score_n[key] += r["n"]
        else:
            per_day[key][ids[r["metric_id"]].name].append(r)

    def slice_of(device_id: int, day: int) -> str:
        f = facts[device_id]
        if by == "fleet":
            return "fleet"
        if by == "device":
            return str(f["device_uid"])
        if by == "model":
            return str(f["model"] or "(unknown)")
        if by == "month":
            return _month(day)
        assert sites is not None
        return sites.get(device_id) or "(no site)"

    acc: dict[str, dict[str, Any]] = {}

    def bucket(name: str) -> dict[str, Any]:
        return acc.setdefault(
            name, {"devices": set(), "indices": [], "score_sum": 0.0, "ratings": 0}
        )

    for (device_id, day), terms in per_day.items():
        values = {
            name: day_value(trs, next(t.combine for t in TERMS if t.name == name))
            for name, trs in terms.items()
        }
        index = day_index(values)
        b = bucket(slice_of(device_id, day))
        b["devices"].add(device_id)
        if index is not None:
            b["indices"].append(index)
    for (device_id, day), n in score_n.items():
        b = bucket(slice_of(device_id, day))
        b["devices"].add(device_id)
        b["score_sum"] += score_sum[(device_id, day)]
        b["ratings"] += n

    out = []
    for name in sorted(acc):
        b = acc[name]
        row: dict[str, Any] = {
            by: name,
            "devices": len(b["devices"]),
            "device_days": len(b["indices"]),
            "responsiveness_index": (
                round(sum(b["indices"]) / len(b["indices"]), 1) if b["indices"] else None
            ),
            "sentiment_avg": round(b["score_sum"] / b["ratings"], 2) if b["ratings"] else None,
            "ratings": b["ratings"],
        }
        if by == "device":
            f = next(facts[d] for d in b["devices"])
            row["hostname"], row["model"] = f["hostname"], f["model"]
        out.append(row)
    return out
