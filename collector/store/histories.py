"""Reading a device's history out of the store, in the shape the scorer takes.

The scorer (``kitlife.collector.policy.scoring``) is pure; this module is its one
door to the database. It reads in chunks of devices so a fleet rescore holds
a bounded slice of the estate in memory, and only the daily series the
scorer fits trends on, over the look-back window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from sqlalchemy import select

from kitlife.collector.policy.scoring import DeviceHistory
from kitlife.collector.store import derived, packed
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


_COUNTERS = {m.id for m in REGISTRY if m.kind == "counter"}


def _weekly(
    rows: Iterator[tuple[int, int, packed.DayEntry]],
) -> dict[int, dict[tuple[int, str], list[tuple[int, float]]]]:
    """Daily aggregates folded to one point a week: device -> (metric id, component) -> points.

    The scorer bins a history into at most 36 points before fitting a trend,
    so weekly points lose nothing it uses, and a seventh of the points is
    what keeps a fleet rescore fast. A counter's week is where it ended (its
    largest daily last value); a gauge's week is the mean of its daily means.
    Points come in week order (the rows come in day order).
    """
    weeks: dict[tuple[int, int, str, int], list[float]] = {}
    for device_id, day, e in rows:
        key = (device_id, e.metric_id, e.component, day // 7)
        if e.metric_id in _COUNTERS:
            acc = weeks.get(key)
            if acc is None:
                weeks[key] = [e.last]
            elif e.last > acc[0]:
                acc[0] = e.last
        elif e.n:  # a day without readings has no mean (the ingest never stores one)
            weeks.setdefault(key, []).append(e.sum / e.n)
    out: dict[int, dict[tuple[int, str], list[tuple[int, float]]]] = {}
    for (device_id, metric_id, component, week), acc in sorted(weeks.items()):
        value = acc[0] if metric_id in _COUNTERS else sum(acc) / len(acc)
        out.setdefault(device_id, {}).setdefault((metric_id, component), []).append((week, value))
    return out


def device_ids(store: Store, live_only: bool = True) -> list[int]:
    query = select(devices.c.id).order_by(devices.c.id)
    if live_only:
        query = query.where(devices.c.revoked_s.is_(None))
    with store.engine.connect() as conn:
        return [int(r.id) for r in conn.execute(query)]


def load_histories(
    store: Store, ids: Sequence[int], today_day: int
) -> Iterator[tuple[int, DeviceHistory]]:
    """(device row id, history) for each id, read ``CHUNK`` devices at a time."""
    series_ids = _series_ids()
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
            weekly = _weekly(derived.days(conn, chunk, today_day - LOOKBACK_DAYS, series_ids))
            daily_by: dict[int, dict[tuple[str, str], list[tuple[int, float]]]] = defaultdict(
                lambda: defaultdict(list)
            )
            for device_id, series in weekly.items():
                for (metric_id, component), points in series.items():
                    metric = metric_by_id(metric_id)
                    assert metric is not None  # only registered ids were asked for
                    daily_by[device_id][(metric.name, component)].extend(
                        (week * 7 + 3, value) for week, value in points
                    )
        for device_id in chunk:
            head = heads.get(device_id)
            if head is None:
                continue
            yield (
                device_id,
                DeviceHistory(
                    device_id=head.device_uid,
                    latest=latest_by.get(device_id, {}),
                    daily=dict(daily_by.get(device_id, {})),
                    model=head.model or None,
                    vendor=head.vendor or None,
                ),
            )
