"""Reading a device's derived readings back out of their packed rows.

Every reader of day aggregates, latest readings and unavailable sources
goes through here, so that the packing (:mod:`kitlife.collector.store.packed`)
is known in two places only: where the ingest writes it, and here.
Filters on device and day run in the database (both are keys); filters on
metric run here, on unpacked entries.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlalchemy import Connection, select

from kitlife.collector.store import packed
from kitlife.collector.store.schema import device_days, device_state

_CHUNK = 1_000  # ids per IN (...) list
# Rows fetched at a time (a server-side cursor on PostgreSQL): a fleet-wide read
# of 30 days is two million rows of about a kilobyte; only this many are held.
_FETCH = 2_000


def _id_chunks(device_ids: Collection[int] | None) -> Iterator[list[int] | None]:
    if device_ids is None:
        yield None
        return
    ids = sorted(device_ids)
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def days(
    conn: Connection,
    device_ids: Collection[int] | None = None,
    since_day: int | None = None,
    metric_ids: Collection[int] | None = None,
) -> Iterator[tuple[int, int, packed.DayEntry]]:
    """(device id, day, aggregate) for every stored series-day, by device and day.

    ``None`` for a filter means all. Entries come in (metric, component)
    order within a day.
    """
    wanted = None if metric_ids is None else frozenset(metric_ids)
    c = device_days.c
    for chunk in _id_chunks(device_ids):
        query = select(c.device_id, c.day, c.body).order_by(c.device_id, c.day)
        if chunk is not None:
            query = query.where(c.device_id.in_(chunk))
        if since_day is not None:
            query = query.where(c.day >= since_day)
        for device_id, day, body in conn.execute(query.execution_options(yield_per=_FETCH)):
            for entry in packed.day_entries(body, wanted):
                yield device_id, day, entry


def latest(conn: Connection, device_ids: Collection[int] | None = None) -> dict[int, packed.Latest]:
    """device id -> its newest reading of every series and text."""
    c = device_state.c
    out: dict[int, packed.Latest] = {}
    for chunk in _id_chunks(device_ids):
        query = select(c.device_id, c.latest)
        if chunk is not None:
            query = query.where(c.device_id.in_(chunk))
        for device_id, body in conn.execute(query.execution_options(yield_per=_FETCH)):
            out[device_id] = packed.unpack_latest(body)
    return out


def unavailable(conn: Connection, device_id: int) -> list[packed.UnavailableEntry]:
    """The sources the device's newest batch could not read, by source and component."""
    body = conn.execute(
        select(device_state.c.unavailable).where(device_state.c.device_id == device_id)
    ).scalar()
    return sorted(packed.unpack_unavailable(body))


def day_dict(device_id: int, day: int, e: packed.DayEntry) -> dict[str, Any]:
    """One series-day as a dict with the names the old per-row table had."""
    return {"device_id": device_id, "day": day, **e._asdict()}
