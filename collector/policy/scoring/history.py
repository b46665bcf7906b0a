"""The input model: what the store hands the scorer for one device.

``latest`` maps (metric name, component) to the newest reading; ``daily`` maps
the same keys to daily rollups (one value per day, e.g. the day's mean or last
value), either as ``(day, value)`` pairs or as a :class:`DailySeries` of numpy
arrays. A day is a :class:`datetime.date` or an int counting days since
1970-01-01 (UTC). Metric names come from ``kitlife.protocol.registry``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray

MetricKey = tuple[str, str]
DayLike = date | int
Pairs = Sequence[tuple[DayLike, float]]
FloatArray = NDArray[np.float64]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_number(day: DayLike) -> int:
    """Days since 1970-01-01 for a date, or the int itself."""
    if isinstance(day, date):
        return day.toordinal() - _EPOCH_ORDINAL
    return int(day)


@dataclass(frozen=True, slots=True)
class DailySeries:
    """Daily rollups as arrays: ``days`` (days since epoch) and ``values``, same length."""

    days: FloatArray
    values: FloatArray

    @classmethod
    def from_pairs(cls, pairs: Pairs) -> DailySeries:
        days = np.fromiter((day_number(d) for d, _ in pairs), dtype=np.float64, count=len(pairs))
        values = np.fromiter((v for _, v in pairs), dtype=np.float64, count=len(pairs))
        return cls(days, values)


@dataclass(frozen=True, slots=True)
class DeviceHistory:
    """One device's readings; the optional facts come from inventory, not the agent.

    ``ram_soldered`` and ``win11_ready`` are None when not known; a RAM upgrade
    is offered only when ``ram_soldered`` is False.
    """

    device_id: str
    latest: Mapping[MetricKey, float | str]
    daily: Mapping[MetricKey, Pairs | DailySeries] = field(default_factory=dict)
    age_months: float | None = None
    purchase_date: date | None = None
    model: str | None = None
    vendor: str | None = None
    ram_soldered: bool | None = None
    win11_ready: bool | None = None

    def number(self, metric: str, component: str) -> float | None:
        """The latest numeric reading, or None (absent, text, or not finite)."""
        value = self.latest.get((metric, component))
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        number = float(value)
        return number if np.isfinite(number) else None

    def text(self, metric: str, component: str = "") -> str | None:
        value = self.latest.get((metric, component))
        return value if isinstance(value, str) and value.strip() else None

    def series(self, metric: str, component: str) -> DailySeries | None:
        """The daily rollups sorted by day with non-finite values dropped, or None."""
        raw = self.daily.get((metric, component))
        if raw is None:
            return None
        series = raw if isinstance(raw, DailySeries) else DailySeries.from_pairs(raw)
        days, values = series.days, series.values
        # One pass finds a nan or inf in either array: their sum is then not finite.
        keep = np.isfinite(days + values)
        if not keep.all():
            days, values = days[keep], values[keep]
        if days.size > 1 and (days[1:] < days[:-1]).any():
            order = np.argsort(days, kind="stable")
            days, values = days[order], values[order]
        return DailySeries(days, values) if days.size else None

    def components(self, prefix: str) -> list[str]:
        """Components with any latest reading whose metric starts with ``prefix``."""
        return sorted({c for (m, c) in self.latest if m.startswith(prefix)})
