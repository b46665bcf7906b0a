"""The few statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, case, func
from sqlalchemy.dialects import postgresql, sqlite

from kitlife.collector.store.schema import latest, rollups_daily


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore(conn: Connection, table: Table, keys: list[str]) -> Any:
    """INSERT ... ON CONFLICT (keys) DO NOTHING: rowcount 0 means it was there."""
    return _insert(conn, table).on_conflict_do_nothing(index_elements=keys)


def _least(conn: Connection, a: Any, b: Any) -> Any:
    return func.least(a, b) if conn.dialect.name == "postgresql" else func.min(a, b)


def _greatest(conn: Connection, a: Any, b: Any) -> Any:
    return func.greatest(a, b) if conn.dialect.name == "postgresql" else func.max(a, b)


def upsert_latest(conn: Connection) -> Any:
    """Keep the newest reading per device, metric and component (late batches lose)."""
    stmt = _insert(conn, latest)
    return stmt.on_conflict_do_update(
        index_elements=["device_id", "metric_id", "component"],
        set_={"t_s": stmt.excluded.t_s, "num": stmt.excluded.num, "txt": stmt.excluded.txt},
        where=stmt.excluded.t_s >= latest.c.t_s,
    )


def upsert_rollup(conn: Connection) -> Any:
    """Merge a batch's per-day aggregate into the stored one."""
    stmt = _insert(conn, rollups_daily)
    ex, cur = stmt.excluded, rollups_daily.c
    newer = ex.last_s >= cur.last_s
    return stmt.on_conflict_do_update(
        index_elements=["device_id", "metric_id", "component", "day"],
        set_={
            "n": cur.n + ex.n,
            "sum": cur.sum + ex.sum,
            "min": _least(conn, cur.min, ex.min),
            "max": _greatest(conn, cur.max, ex.max),
            "last": case((newer, ex.last), else_=cur.last),
            "last_s": _greatest(conn, cur.last_s, ex.last_s),
        },
    )
