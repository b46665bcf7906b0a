"""The scoring series folded to weekly points, and kept folded for the weeks that have closed.

Why: a rescore fits trends on two years of a device's days. Read from
``device_days`` that is 760 packed rows of about 25 series each, unpacked and
folded in Python: 11-18 ms a device, 14-21 minutes for 72,000 before any
scoring (0.2 ms a device). The scorer bins a history into at most 36 points
anyway, so weekly points lose nothing it uses (:func:`fold`), and a week that
has closed does not change unless a late batch writes into it.

So each device has one ``device_weeks`` row: the weekly points of the
scoring series for the whole weeks ``[from_day, upto_day)``, each series as
two packed arrays (int32 week numbers, float64 values) that numpy reads
without a Python object per point. A rescore reads that row and only the
days from ``upto_day`` on (one to two weeks of ``device_days``), and moves
``upto_day`` forward when another week has closed (:func:`read`,
:func:`write`): the row is maintained by its reader, a week at a time, and a
device never rescored is folded from its days once.

Who keeps it true:

- a week counts as closed ``MARGIN_DAYS`` after its end by the wall clock
  (and never after the rescore's own "today");
- the ingest (:mod:`kitlife.collector.store.ingest`) writes a day older than
  ``LATE_DAYS`` by the wall clock only with :data:`SQ_INVALIDATE` /
  :data:`PG_INVALIDATE` in the same transaction: ``upto_day`` goes back to that
  day's week and ``version`` moves. A day younger than that is at or after any
  ``upto_day`` a rescore can have written (``MARGIN_DAYS`` > ``LATE_DAYS`` + a
  day for a transaction that spans midnight);
- the rescore writes its extended row only if ``version`` is still the one it
  read (one upsert with a ``WHERE``), so an invalidation that raced with its
  read is never overwritten; the row is then extended on the next rescore.

The weekly point is the one the fold has always made: a counter's week is
its largest daily last value, a gauge's the mean of its daily means, the
days in day order; stored as the same float64, so a history read through the
row equals one folded from the days (a test checks).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, select, text

from kitlife.collector.store import packed
from kitlife.collector.store.schema import device_days, device_weeks

FORMAT = 1
WEEK = 7
#: A week is closed this many days after its end (wall clock).
MARGIN_DAYS = 9
#: The ingest invalidates a device's row when it writes a day older than this.
LATE_DAYS = 8

Key = tuple[int, str]
IntArray = NDArray[np.int32]
FloatArray = NDArray[np.float64]
#: (metric id, component) -> (week numbers, values), in week order.
Series = dict[Key, tuple[IntArray, FloatArray]]

_I32 = np.dtype("<i4")
_F64 = np.dtype("<f8")

# Write the extended row unless an ingest invalidated it since it was read.
_UPSERT = (
    "INSERT INTO device_weeks (device_id, upto_day, version, body) "
    "VALUES (:dev, :upto, :version, :body) "
    "ON CONFLICT (device_id) DO UPDATE SET upto_day = excluded.upto_day, body = excluded.body "
    "WHERE device_weeks.version = :version"
)
# The ingest's invalidation: the row (made empty if none) back to the late day's week.
SQ_INVALIDATE = (
    "INSERT INTO device_weeks (device_id, upto_day, version, body) VALUES (?, ?, 1, x'') "
    "ON CONFLICT (device_id) DO UPDATE SET "
    "upto_day = MIN(device_weeks.upto_day, excluded.upto_day), "
    "version = device_weeks.version + 1"
)
PG_INVALIDATE = (
    "INSERT INTO device_weeks (device_id, upto_day, version, body) "
    "SELECT v.id, v.upto, 1, ''::bytea FROM unnest(%b::int[], %b::int[]) AS v(id, upto) "
    "ON CONFLICT (device_id) DO UPDATE SET "
    "upto_day = LEAST(device_weeks.upto_day, excluded.upto_day), "
    "version = device_weeks.version + 1"
)


def week_start(day: int) -> int:
    return day - day % WEEK


def wall_day() -> int:
    return int(time.time()) // 86_400


def closed_before(today_day: int) -> int:
    """The first day of the oldest week that is not closed yet, for a rescore on ``today_day``."""
    return week_start(min(today_day, wall_day()) - MARGIN_DAYS)


def late_days(days_by_device: dict[int, int]) -> list[tuple[int, int]]:
    """(device id, week start) for the devices whose oldest day written is a late one.

    The ingest calls this with each device's oldest day in the group, and
    invalidates the rows of the devices it returns.
    """
    limit = wall_day() - LATE_DAYS
    return sorted((dev, week_start(day)) for dev, day in days_by_device.items() if day < limit)


@dataclass(slots=True)
class _Row:
    """A device's stored row, unpacked."""

    upto: int
    version: int
    from_day: int
    metric_ids: tuple[int, ...]
    series: Series


def _pack(from_day: int, metric_ids: Sequence[int], series: Series) -> bytes:
    entries = [
        [mid, comp, weeks.astype(_I32).tobytes(), values.astype(_F64).tobytes()]
        for (mid, comp), (weeks, values) in sorted(series.items())
    ]
    data: bytes = msgpack.packb([FORMAT, from_day, list(metric_ids), entries], use_bin_type=True)
    return data


def _unpack(upto: int, version: int, body: bytes) -> _Row | None:
    """The stored row, or None when it is empty or in a format this code does not read."""
    if not body:
        return None
    try:
        fmt, from_day, ids, entries = msgpack.unpackb(body, use_list=True)
    except (ValueError, TypeError, msgpack.UnpackException):
        return None
    if fmt != FORMAT:
        return None
    series: Series = {
        (mid, comp): (np.frombuffer(w, dtype=_I32), np.frombuffer(v, dtype=_F64))
        for mid, comp, w, v in entries
    }
    return _Row(upto, version, int(from_day), tuple(ids), series)


def fold(
    rows: Iterable[tuple[int, int, Iterable[Sequence[Any]]]], counters: Collection[int]
) -> dict[int, Series]:
    """(device, day, day entries) in day order per device, to weekly points per device.

    A counter's week is where it ended (its largest daily last value); a
    gauge's week is the mean of its daily means. A day without readings has
    no mean (the ingest never stores one). Entries are ``packed`` day
    entries: [metric, component, n, sum, min, max, last, last_s].
    """
    weeks: dict[tuple[int, int, str, int], list[float]] = {}
    for device_id, day, entries in rows:
        week = day // WEEK
        for e in entries:
            key = (device_id, e[0], e[1], week)
            if e[0] in counters:
                acc = weeks.get(key)
                if acc is None:
                    weeks[key] = [e[6]]
                elif e[6] > acc[0]:
                    acc[0] = e[6]
            elif e[2]:
                weeks.setdefault(key, []).append(e[3] / e[2])
    points: dict[int, dict[Key, tuple[list[int], list[float]]]] = {}
    for (device_id, metric_id, component, week), acc in sorted(weeks.items()):
        value = acc[0] if metric_id in counters else sum(acc) / len(acc)
        ws, vs = points.setdefault(device_id, {}).setdefault((metric_id, component), ([], []))
        ws.append(week)
        vs.append(value)
    return {
        dev: {k: (np.array(w, dtype=_I32), np.array(v, dtype=_F64)) for k, (w, v) in s.items()}
        for dev, s in points.items()
    }


def _day_rows(
    conn: Connection, ids: list[int], from_day: int, metric_ids: frozenset[int]
) -> Iterator[tuple[int, int, list[list[Any]]]]:
    c = device_days.c
    query = (
        select(c.device_id, c.day, c.body)
        .where(c.device_id.in_(ids), c.day >= from_day)
        .order_by(c.device_id, c.day)
    )
    for device_id, day, body in conn.execute(query.execution_options(yield_per=2_000)):
        yield device_id, day, [e for e in packed.day_rows(body) if e[0] in metric_ids]


def _cut(series: Series, lo_week: int, hi_week: int | None) -> Series:
    """The points with lo_week <= week < hi_week (None: no upper bound)."""
    out: Series = {}
    for key, (w, v) in series.items():
        keep = w >= lo_week if hi_week is None else (w >= lo_week) & (w < hi_week)
        if keep.all():
            out[key] = (w, v)
        elif keep.any():
            out[key] = (w[keep], v[keep])
    return out


def _join(a: Series, b: Series) -> Series:
    """``a``'s points then ``b``'s (every week of ``b`` after every week of ``a``)."""
    out = dict(a)
    for key, (w, v) in b.items():
        if key in out:
            w0, v0 = out[key]
            out[key] = (np.concatenate((w0, w)), np.concatenate((v0, v)))
        else:
            out[key] = (w, v)
    return out


@dataclass(slots=True)
class Pending:
    """An extended row to write back: device, its new upto_day, the version read, the bytes."""

    device_id: int
    upto: int
    version: int
    body: bytes


def read(
    conn: Connection,
    device_ids: Sequence[int],
    since_day: int,
    today_day: int,
    metric_ids: Sequence[int],
    counters: Collection[int],
) -> tuple[dict[int, Series], list[Pending]]:
    """Weekly points of ``metric_ids`` from the week of ``since_day`` on, per device.

    Also the rows to write back (:func:`write`) for devices whose stored row
    could be extended by weeks that have closed. Each device's row is used
    when it covers ``since_day``'s week and was built for these metrics;
    otherwise its days are folded from ``since_day``.
    """
    since = week_start(since_day)
    ids_key = tuple(sorted(metric_ids))
    wanted = frozenset(metric_ids)
    close = closed_before(today_day)
    c = device_weeks.c
    rows: dict[int, _Row] = {}
    for dev, upto, version, body in conn.execute(
        select(c.device_id, c.upto_day, c.version, c.body).where(c.device_id.in_(device_ids))
    ):
        row = _unpack(upto, version, body)
        if row is None:
            row = _Row(0, version, 0, (), {})
        rows[dev] = row
    # Each device's days are read from where its stored weeks end.
    starts: dict[int, list[int]] = {}
    usable: dict[int, bool] = {}
    for dev in device_ids:
        row = rows.get(dev)
        ok = (
            row is not None
            and row.metric_ids == ids_key
            and row.from_day <= since
            and row.upto > since
        )
        usable[dev] = ok
        start = row.upto if ok and row is not None else since
        starts.setdefault(start, []).append(dev)
    folded: dict[int, Series] = {}
    for start, ids in starts.items():
        folded.update(fold(_day_rows(conn, ids, start, wanted), counters))
    out: dict[int, Series] = {}
    pending: list[Pending] = []
    for dev in device_ids:
        row = rows.get(dev)
        recent = folded.get(dev, {})
        if usable[dev] and row is not None:
            stored = _cut(row.series, row.from_day // WEEK, row.upto // WEEK)
            from_day, upto = row.from_day, row.upto
        else:
            stored, from_day, upto = {}, since, since
        out[dev] = _join(_cut(stored, since // WEEK, None), recent)
        if close > upto and close > from_day:
            kept = _join(stored, _cut(recent, upto // WEEK, close // WEEK))
            version = row.version if row is not None else 0
            pending.append(Pending(dev, close, version, _pack(from_day, ids_key, kept)))
    return out, pending


def write(conn: Connection, pending: Sequence[Pending]) -> None:
    """Store extended rows, each unless an ingest invalidated it since it was read."""
    if pending:
        conn.execute(
            text(_UPSERT),
            [
                {"dev": p.device_id, "upto": p.upto, "version": p.version, "body": p.body}
                for p in sorted(pending, key=lambda p: p.device_id)
            ],
        )
