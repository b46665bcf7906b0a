"""a device's derived readings packed: one row per device-day, one per device

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 01:00:00

``rollups_daily`` (a row per device, metric, component and day), ``latest``
(a row per device, metric and component) and ``unavailable`` become
``device_days`` (a row per device and day, every series' aggregate packed in
msgpack) and ``device_state`` (a row per device: latest readings and
unavailable sources, packed). A typical batch upserted about 55 rows before
and now rewrites two; see kitlife.collector.store.packed for the format and
docs/architecture.md for the measured effect.

The rows are moved, not dropped, both ways. The packing is written out here
rather than imported, so that this migration keeps producing format 1
whatever the code does later.

On PostgreSQL both new tables leave half of each page free (fillfactor 50)
so that the rewrite of a device's row fits on its page (a HOT update, no
index touched), and keep rows of up to 8 kB inline (toast_tuple_target) so
that a device with many disks or packs is not moved to TOAST storage, which
would turn every rewrite into several.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any

import msgpack
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_FORMAT = 1
_CHUNK = 5_000
_PG_OPTIONS = "fillfactor = 50, toast_tuple_target = 8160"


def _pack(entries: list[Any]) -> bytes:
    return msgpack.packb([_FORMAT, entries], use_bin_type=True)


def _unpack(data: bytes | None) -> list[Any]:
    if not data:
        return []
    fmt, entries = msgpack.unpackb(data, use_list=True)
    if fmt != _FORMAT:
        raise RuntimeError(f"packed row format {fmt!r}; this migration knows {_FORMAT}")
    return list(entries)


def _chunks(rows: Iterable[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# The fields of each packed entry, in their order; also the old tables' columns.
_DAY = ("metric_id", "component", "n", "sum", "min", "max", "last", "last_s")
_LATEST = ("metric_id", "component", "t_s", "num", "txt")
_UNAVAILABLE = ("source", "component", "reason", "t_s")


def _device_id() -> sa.Column[int]:
    return sa.Column(
        "device_id", sa.Integer(), sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )


def _new_tables() -> None:
    op.create_table(
        "device_days",
        _device_id(),
        sa.Column("day", sa.Integer(), primary_key=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "device_state",
        _device_id(),
        sa.Column("latest", sa.LargeBinary(), nullable=False),
        sa.Column("unavailable", sa.LargeBinary(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in ("device_days", "device_state"):
            op.execute(f"ALTER TABLE {table} SET ({_PG_OPTIONS})")


def _old_tables() -> None:
    op.create_table(
        "latest",
        _device_id(),
        sa.Column("metric_id", sa.Integer(), primary_key=True),
        sa.Column("component", sa.String(255), primary_key=True),
        sa.Column("t_s", sa.BigInteger(), nullable=False),
        sa.Column("num", sa.Float()),
        sa.Column("txt", sa.Text()),
    )
    op.create_table(
        "rollups_daily",
        _device_id(),
        sa.Column("metric_id", sa.Integer(), primary_key=True),
        sa.Column("component", sa.String(255), primary_key=True),
        sa.Column("day", sa.Integer(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("last", sa.Float(), nullable=False),
        sa.Column("last_s", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "unavailable",
        _device_id(),
        sa.Column("source", sa.String(128), primary_key=True),
        sa.Column("component", sa.String(255), primary_key=True),
        sa.Column("reason", sa.String(1024), nullable=False),
        sa.Column("t_s", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE latest SET (fillfactor = 50)")


def _entries_by_device(
    conn: sa.Connection, table: str, fields: tuple[str, ...]
) -> dict[int, list[Any]]:
    """device id -> its rows of an old per-row table as entries, in key order."""
    t = sa.table(table, sa.column("device_id"), *(sa.column(f) for f in fields))
    key = [t.c.device_id, *(t.c[f] for f in fields[:2])]
    out: dict[int, list[Any]] = {}
    for row in conn.execute(sa.select(t.c.device_id, *(t.c[f] for f in fields)).order_by(*key)):
        out.setdefault(row[0], []).append(list(row[1:]))
    return out


def upgrade() -> None:
    _new_tables()
    conn = op.get_bind()
    days = sa.table("device_days", sa.column("device_id"), sa.column("day"), sa.column("body"))
    state = sa.table(
        "device_state", sa.column("device_id"), sa.column("latest"), sa.column("unavailable")
    )
    r = sa.table("rollups_daily", sa.column("device_id"), sa.column("day"), *map(sa.column, _DAY))
    rows = conn.execute(
        sa.select(r.c.device_id, r.c.day, *(r.c[f] for f in _DAY))
        .order_by(r.c.device_id, r.c.day, r.c.metric_id, r.c.component)
        .execution_options(stream_results=True, yield_per=_CHUNK)
    )
    packed = (
        {"device_id": dev, "day": day, "body": _pack([list(x[2:]) for x in group])}
        for (dev, day), group in groupby(rows, key=lambda x: (x[0], x[1]))
    )
    for chunk in _chunks(packed):
        conn.execute(days.insert(), chunk)

    latest = _entries_by_device(conn, "latest", _LATEST)
    unavailable = _entries_by_device(conn, "unavailable", _UNAVAILABLE)
    values = (
        {
            "device_id": dev,
            "latest": _pack(latest.get(dev, [])),
            "unavailable": _pack(unavailable.get(dev, [])),
        }
        for dev in sorted(latest.keys() | unavailable.keys())
    )
    for chunk in _chunks(values):
        conn.execute(state.insert(), chunk)
    op.drop_table("unavailable")
    op.drop_table("latest")
    op.drop_table("rollups_daily")


def downgrade() -> None:
    _old_tables()
    conn = op.get_bind()
    meta = sa.MetaData()
    days = sa.Table("device_days", meta, autoload_with=conn)
    state = sa.Table("device_state", meta, autoload_with=conn)

    def old(table: str, fields: tuple[str, ...]) -> sa.TableClause:
        return sa.table(table, *map(sa.column, ("device_id", *fields)))

    def rows(dev: int, fields: tuple[str, ...], body: bytes, **extra: int) -> list[dict[str, Any]]:
        return [
            {"device_id": dev, **extra, **dict(zip(fields, e, strict=True))} for e in _unpack(body)
        ]

    stored = conn.execute(
        sa.select(days.c.device_id, days.c.day, days.c.body).execution_options(
            stream_results=True, yield_per=_CHUNK
        )
    )
    unpacked = (row for dev, day, body in stored for row in rows(dev, _DAY, body, day=day))
    for chunk in _chunks(unpacked):
        conn.execute(old("rollups_daily", ("day", *_DAY)).insert(), chunk)
    for dev, lat, unav in conn.execute(
        sa.select(state.c.device_id, state.c.latest, state.c.unavailable)
    ):
        for table, fields, body in (("latest", _LATEST, lat), ("unavailable", _UNAVAILABLE, unav)):
            if entries := rows(dev, fields, body):
                conn.execute(old(table, fields).insert(), entries)
    op.drop_table("device_state")
    op.drop_table("device_days")
