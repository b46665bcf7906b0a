"""Writing a whole device's history at once: what ingest would have written, without the trips.

Why: ``kitlife simulate`` builds estates of tens of thousands of devices x 18
months. Through :meth:`Store.ingest` every batch is a transaction that reads,
merges and rewrites its device-day and device rows (510 batches/s into
SQLite, 125/s into PostgreSQL, hours for 72,000 devices). A simulated device's
batches are all known up front, so this module folds them in memory, in the
order ingest would have received them, with the ingest's own code
(:func:`kitlife.collector.store.ingest._derive` and ``_merged``: the same
packed rows, sums added in the same order) and writes each row once.

Two steps, so that the folding (pure CPU) can run in worker processes and
the writing in one:

- :func:`fold_device`: a device's decoded batches (``decode_summary`` of the
  very bytes) to its rows; no database;
- :func:`write_devices`: the rows of many devices in one transaction, each
  table with one ``executemany``.

What differs from ingest, on purpose: raw chunks received before
``keep_raw_from_s`` are not written (the collector's retention job would
delete them at its first round anyway; pass 0 to keep every one), and the
rescorer's stored weeks (``device_weeks``) are not written: the first rescore
builds them from the days. A test checks the rest equal to the HTTP path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from kitlife.collector.store.ingest import (
    _SQ_DEVICE,
    Item,
    _batch_row,
    _derive,
    _Group,
    _merged,
    _no_nul,
)
from kitlife.protocol import BatchSummary


@dataclass(frozen=True, slots=True)
class DeviceRows:
    """One device's rows as ingest would have left them after all its batches."""

    batches: list[tuple[Any, ...]]  # batch_uid, device_id, received_s, first_s, last_s, n, body
    days: list[tuple[Any, ...]]  # device_id, day, body
    state: tuple[Any, ...]  # device_id, latest, unavailable
    device: tuple[Any, ...]  # last_seen_s, batches, points, agent_version, *inventory, id
    n_batches: int
    n_points: int
    wire_bytes: int


def fold_device(
    device_id: int,
    device_uid: str,
    received: Sequence[tuple[BatchSummary, bytes, int]],
    keep_raw_from_s: int = 0,
) -> DeviceRows:
    """A device's rows from its batches: (summary, body, received_s), in the order received.

    Batch ids must be distinct (a simulated agent's are): a retry, which
    ingest would acknowledge without writing, is not looked for here.
    """
    if not received:
        raise ValueError("a device needs at least one batch")
    g = _Group(received[-1][2])
    rows = []
    points = wire = 0
    for summary, body, received_s in received:
        item = Item(device_id, device_uid, _no_nul(summary), body)
        _derive(item, g)
        points += summary.n_points
        wire += len(body)
        if received_s >= keep_raw_from_s:
            rows.append(_batch_row(item, received_s)[:7])
    days, states, devices = _merged(g, {}, {})
    return DeviceRows(rows, days, states[0], devices[0], len(received), points, wire)


_SQLITE = (
    "INSERT INTO batches (batch_uid, device_id, received_s, first_s, last_s, n_points, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO device_days (device_id, day, body) VALUES (?, ?, ?)",
    "INSERT INTO device_state (device_id, latest, unavailable) VALUES (?, ?, ?)",
    _SQ_DEVICE,  # the ingest's own statement
)
# psycopg's placeholders; the statements are constants, only values are bound.
_PG = tuple(sql.replace("?", "%s") for sql in _SQLITE)


def write_devices(conn: Connection, devices: Sequence[DeviceRows]) -> None:
    """Insert the devices' rows in the caller's transaction (devices enrolled, no rows yet)."""
    cur: Any = conn.connection.cursor()
    try:
        batch_sql, days_sql, state_sql, device_sql = (
            _SQLITE if conn.dialect.name == "sqlite" else _PG
        )
        cur.executemany(batch_sql, [r for d in devices for r in d.batches])
        cur.executemany(days_sql, [r for d in devices for r in d.days])
        cur.executemany(state_sql, [d.state for d in sorted(devices, key=lambda d: d.state[0])])
        cur.executemany(device_sql, sorted((d.device for d in devices), key=lambda r: r[-1]))
    finally:
        cur.close()
