"""Reading a device's history out of the store, in the shape the scorer takes.

The scorer (``kitlife.collector.policy.scoring``) is pure; this module is its one
door to the database. It reads in chunks of devices so a fleet rescore holds
a bounded slice of the estate in memory, and only the daily series the
scorer fits trends on, over the look-back window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

import numpy as np
from sqlalchemy import select

from kitlife.collector.policy.scoring import DailySeries, DeviceHistory
from kitlife.collector.store import derived, weekly
from kitlife.collector.store.schema import devices
from kitlife.collector.store.store import Store
from kitlife.protocol import REGISTRY, metric_by_id, metric_by_name

# The daily series the scorer fits trends and medians on.
SERIES_METRICS = (
    "battery.full_charge_capacity_mwh",
    "battery.full_charge_capacity_mah",
    "battery.unplugged_s",
    "battery.os_max_capacity_pct",
    "nvme.percentage_used_pct",
    "nvme.media_errors",
    "ata.reallocated_sectors",
    "ata.reported_uncorrect",
    "ata.command_timeout",
    "ata.pending_sectors",
    "ata.offline_uncorrectable",
    "scsi.grown_defects",
    "mem.used_pct",
    "swap.used_pct",
    "cpu.busy_pct",
)
LOOKBACK_DAYS = 760  # 24 months and a little: the longest horizon a trend looks over
CHUNK = 500


def _series_ids() -> list[int]:
    ids = []
    for name in SERIES_METRICS:
        try:
            ids.append(metric_by_name(name).id)
        except KeyError:  # a metric another part of the registry has not added yet
            continue
    return ids


_COUNTERS = frozenset(m.id for m in REGISTRY if m.kind == "counter")


def device_ids(store: Store, live_only: bool = True) -> list[int]:
    query = select(devices.c.id).order_by(devices.c.id)
    if live_only:
        query = query.where(devices.c.revoked_s.is_(None))
    with store.engine.connect() as conn:
        return [int(r.id) for r in conn.execute(query)]


def load_histories(
    store: Store, ids: Sequence[int], today_day: int, *, keep_weeks: bool = True
) -> Iterator[tuple[int, DeviceHistory]]:
    """(device row id, history) for each id, read ``CHUNK`` devices at a time.

    The daily series are weekly points (:mod:`kitlife.collector.store.weekly`):
    each device's stored closed weeks and the days after them, from the week
    of ``today_day - LOOKBACK_DAYS`` on. With ``keep_weeks`` the stored weeks
    of devices that have closed another week are extended on the way (one
    write per chunk); without, nothing is written.
    """
    series_ids = _series_ids()
    names = {mid: metric_by_id(mid) for mid in series_ids}
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        with store.engine.connect() as conn:
            heads = {
                r.id: r
                for r in conn.execute(
                    select(
                        devices.c.id, devices.c.device_uid, devices.c.model, devices.c.vendor
                    ).where(devices.c.id.in_(chunk))
                )
            }
            latest_by: dict[int, dict[tuple[str, str], float | str]] = defaultdict(dict)
            for device_id, readings in derived.latest(conn, chunk).items():
                for r in readings.values():
                    metric = metric_by_id(r.metric_id)
                    if metric is None:
                        continue
                    value = r.txt if metric.kind == "text" else r.num
                    if value is not None:
                        latest_by[device_id][(metric.name, r.component)] = value
            weeks, pending = weekly.read(
                conn, chunk, today_day - LOOKBACK_DAYS, today_day, series_ids, _COUNTERS
            )
        if keep_weeks and pending:
            with store.engine.begin() as conn:
                weekly.write(conn, pending)
        for device_id in chunk:
            head = heads.get(device_id)
            if head is None:
                continue
            daily: dict[tuple[str, str], DailySeries] = {}
            for (metric_id, component), (w, v) in weeks.get(device_id, {}).items():
                metric = names[metric_id]
                assert metric is not None  # only registered ids were asked for
                daily[(metric.name, component)] = DailySeries((w * 7 + 3).astype(np.float64), v)
            yield (
                device_id,
                DeviceHistory(
                    device_id=head.device_uid,
                    latest=latest_by.get(device_id, {}),
                    daily=daily,
                    model=head.model or None,
                    vendor=head.vendor or None,
                ),
            )
