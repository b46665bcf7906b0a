"""A device's derived readings packed into a few rows: one per device-day, one per device.

Why packed: a typical 15-minute batch carries 25 series and 5 texts. Kept as
one database row per (device, metric, component, day) and one per (device,
metric, component), every batch upserted about 55 rows, and on PostgreSQL
those upserts were most of the database's CPU and most of the writer's
(each row's values passed through the driver one by one). Packed, a batch
rewrites two small rows (its device-day's aggregates and its device's latest
readings), as the raw chunk already keeps a batch in one row. Readers unpack
in Python, which they did row by row before anyway.

The bytes are msgpack, ``[FORMAT, entries]`` with the entries sorted by key,
so that a later format can be told apart. Entries:

- a day (:func:`merged_day`): ``[metric_id, component, n, sum, min, max, last, last_s]``;
- latest readings (:func:`merged_latest`): ``[metric_id, component, t_s, num, txt]``,
  exactly one of num and txt set;
- unavailable sources (:func:`pack_unavailable`): ``[source, component, reason, t_s]``.

The merge rules (:func:`merged_day`, :func:`merged_latest`) are the ones the
per-row upserts had: sums and counts add, min and max combine, and the later
reading wins (the one merged later among equal times), so that a late batch
never hides a newer value.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from typing import Any, NamedTuple

import msgpack

FORMAT = 1


class DayEntry(NamedTuple):
    """One series' aggregate on one day: what a ``rollups_daily`` row held."""

    metric_id: int
    component: str
    n: int
    sum: float
    min: float
    max: float
    last: float
    last_s: int


class LatestEntry(NamedTuple):
    """The newest reading of one series or text."""

    metric_id: int
    component: str
    t_s: int
    num: float | None
    txt: str | None


class UnavailableEntry(NamedTuple):
    """A source the agent could not read, and why (as the newest batch said)."""

    source: str
    component: str
    reason: str
    t_s: int


Key = tuple[int, str]
Days = dict[Key, DayEntry]
Latest = dict[Key, LatestEntry]


class PackedError(ValueError):
    """Stored bytes that are not a packed row this code knows."""


def _entries(data: bytes | None, width: int) -> list[Any]:
    if not data:
        return []
    try:
        fmt, entries = msgpack.unpackb(data, use_list=True)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise PackedError(f"not a packed row: {exc}") from exc
    if fmt != FORMAT or not isinstance(entries, list):
        raise PackedError(f"packed row format {fmt!r}, this code reads {FORMAT}")
    if not all(isinstance(e, list) and len(e) == width for e in entries):
        raise PackedError(f"packed row entries must be lists of {width} fields")
    return entries


def _pack(entries: list[Any]) -> bytes:
    data: bytes = msgpack.packb([FORMAT, entries], use_bin_type=True)
    return data


def _key(entry: list[Any]) -> tuple[Any, Any]:
    return entry[0], entry[1]


# -- days -----------------------------------------------------------------------------
def unpack_day(data: bytes | None) -> Days:
    return {(e[0], e[1]): DayEntry(*e) for e in _entries(data, 8)}


def day_entries(data: bytes | None, metric_ids: Container[int] | None = None) -> list[DayEntry]:
    """A packed day's aggregates in key order, only of ``metric_ids`` when given.

    Filters before building tuples: a rescore reads two years of days per
    device for a dozen of their 25-odd series.
    """
    entries = _entries(data, 8)
    if metric_ids is None:
        return [DayEntry(*e) for e in entries]
    return [DayEntry(*e) for e in entries if e[0] in metric_ids]


def day_rows(data: bytes | None) -> list[list[Any]]:
    """A packed day's entries as plain lists, for readers that fold many days.

    Each is ``[metric_id, component, n, sum, min, max, last, last_s]``; no
    tuple is built per entry (a fleet rescore folds days by the million).
    """
    return _entries(data, 8)


def _fold(
    stored: bytes | None,
    width: int,
    new: Iterable[tuple[Any, ...]],
    combine: Callable[[list[Any], tuple[Any, ...]], None],
) -> bytes:
    """``stored`` with ``new`` entries folded in, in order, and packed again.

    A new key is appended; a known one is passed to ``combine`` with the
    stored entry (a list, changed in place). Works on the unpacked lists:
    this runs for every stored batch.
    """
    entries = _entries(stored, width)
    index = {(e[0], e[1]): e for e in entries}
    added = False
    for x in new:
        cur = index.get((x[0], x[1]))
        if cur is None:
            index[x[0], x[1]] = cur = list(x)
            entries.append(cur)
            added = True
        else:
            combine(cur, x)
    if added:
        entries.sort(key=_key)
    return _pack(entries)


def _combine_day(cur: list[Any], d: tuple[Any, ...]) -> None:
    cur[2] += d[2]
    cur[3] += d[3]
    cur[4] = min(cur[4], d[4])
    cur[5] = max(cur[5], d[5])
    if d[7] >= cur[7]:
        cur[6] = d[6]
        cur[7] = d[7]


def merged_day(stored: bytes | None, new: Iterable[DayEntry]) -> bytes:
    """``stored`` (a packed day, or None) with ``new`` aggregates folded in, in order.

    The per-row upsert's rule: counts and sums add, min and max combine, the
    later reading is the last one (the one folded later among equal times).
    """
    return _fold(stored, 8, new, _combine_day)


# -- latest readings ----------------------------------------------------------------------
def unpack_latest(data: bytes | None) -> Latest:
    return {(e[0], e[1]): LatestEntry(*e) for e in _entries(data, 5)}


def _combine_latest(cur: list[Any], r: tuple[Any, ...]) -> None:
    if r[2] >= cur[2]:
        cur[2:] = r[2:]


def merged_latest(
    stored: bytes | None, new: Iterable[LatestEntry], not_after_s: int | None = None
) -> bytes:
    """``stored`` latest readings with ``new`` ones applied in order.

    A reading replaces the stored one unless that is newer (equal times:
    the one applied later wins), so a late batch never hides a newer value.
    A stored reading dated after ``not_after_s`` (the writer passes its
    clock) is no reading to keep: it is replaced whatever the new one's time,
    so a reading from the future cannot pin a series for good.
    """
    if not_after_s is None:
        return _fold(stored, 5, new, _combine_latest)

    def combine(cur: list[Any], r: tuple[Any, ...]) -> None:
        if r[2] >= cur[2] or cur[2] > not_after_s:
            cur[2:] = r[2:]

    return _fold(stored, 5, new, combine)


# -- unavailable sources ---------------------------------------------------------------------
def unpack_unavailable(data: bytes | None) -> list[UnavailableEntry]:
    return [UnavailableEntry(*e) for e in _entries(data, 4)]


def pack_unavailable(entries: Iterable[UnavailableEntry]) -> bytes:
    return _pack(sorted(entries))
