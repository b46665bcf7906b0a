"""One device's daily series since a day, for its history charts.

The device page reads a device's days once per view; ``Store.daily_rollups``
builds a dict per series-day over the whole history, which was most of the
page's time. This reads only from ``since_day``, only the wanted metrics, and
returns plain tuples.
"""

from __future__ import annotations

from collections.abc import Collection

from kitlife.collector.store import derived
from kitlife.collector.store.store import Store


def device_series(
    store: Store, device_id: int, since_day: int, metric_ids: Collection[int]
) -> list[tuple[int, str, int, int, float, float]]:
    """(metric id, component, day, n, sum, max) per stored series-day, in day order."""
    with store.engine.connect() as conn:
        return [
            (e.metric_id, e.component, day, e.n, e.sum, e.max)
            for _dev, day, e in derived.days(conn, [device_id], since_day, metric_ids)
        ]
