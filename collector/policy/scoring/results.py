"""Output dataclasses; every one turns into plain JSON types with ``to_dict()``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from kitlife.collector.policy.scoring.trend import FadeForecast, Trend


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"


class Action(StrEnum):
    KEEP = "keep"
    REPAIR = "repair"
    REDEPLOY = "redeploy"
    REFURBISH = "refurbish"
    DONATE = "donate"
    RECYCLE = "recycle"
    INSUFFICIENT_DATA = "insufficient_data"


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 4)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return value


class _ToDict:
    """Mixin: dataclass fields to JSON-ready values (inf and nan become None)."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Reason(_ToDict):
    """A sentence in numbers, and the table row (``key``) and ``source`` each figure traces to."""

    text: str
    key: str
    source: str


@dataclass(slots=True)
class ComponentAssessment(_ToDict):
    """One component's health now, trend, horizon and repair.

    ``p_serves`` is the chance it serves the planning horizon as-is;
    ``p_serves_repaired`` after ``repair_part`` (None when no catalogue part resets it).
    ``months_to_threshold`` is None when unknown, inf when no crossing is in sight.
    ``waits_for`` is set when a repair is planned for later, not now (a healthy part that
    a forecast says will wear out): the plan counts it as repaired but buys nothing yet.
    ``forecast`` is the level's forecast with its interval, where the judge makes one.
    """

    component: str
    name: str
    status: Status
    level: float | None = None
    level_unit: str = ""
    threshold_key: str | None = None
    trend: Trend | None = None
    months_to_threshold: float | None = None
    months_low: float | None = None
    months_high: float | None = None
    p_serves: float = 1.0
    repair_part: str | None = None
    p_serves_repaired: float = 1.0
    needs_repair: bool = False
    waits_for: str | None = None
    forecast: FadeForecast | None = None
    reasons: list[Reason] = field(default_factory=list)
    data_quality: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Horizon(_ToDict):
    """Remaining useful life in months (None = unknown) and the component that limits it."""

    months: float | None
    low: float | None
    high: float | None
    limiting: str | None
    note: str


@dataclass(frozen=True, slots=True)
class Repair(_ToDict):
    part: str
    component: str
    cost_gbp: float
    labour_min: float
    embodied_kgco2e: float | None
    indicative: bool


@dataclass(frozen=True, slots=True)
class Footprint(_ToDict):
    """What keeping this device avoids against buying new, and where each figure came from."""

    new_device_kgco2e: float
    new_device_basis: str
    parts_kgco2e: float
    carbon_avoided_kgco2e: float
    water_avoided_l: float
    raw_materials_avoided_kg: float
    reasons: list[Reason] = field(default_factory=list)


@dataclass(slots=True)
class DeviceAssessment(_ToDict):
    """Everything the scorer says about one device.

    ``score`` is the headline life-extension score: the number the action rests on
    (``score_as_is`` for keep and redeploy, ``score_planned`` for repair, the hardware
    score for donate, the best of as-is and planned for refurbish and recycle; see
    scoring/decide.py), and ``reasons[0]`` says so in words. ``score_planned`` is the
    score after the repairs planned (the components that need one);
    ``score_after_repair`` assumes every repairable component reset, a bound that no
    rule uses. The as-is and bound scores never rise when a reading gets worse.
    """

    device_id: str
    horizon_months: float
    score: int | None
    score_as_is: int | None
    score_after_repair: int | None
    score_planned: int | None
    rul_as_is: Horizon
    rul_after_repair: Horizon
    action: Action
    repairs: list[Repair]
    repair_cost_gbp: float
    footprint: Footprint | None
    components: list[ComponentAssessment]
    reasons: list[Reason]
    data_quality: list[str]
