"""Read-only queries behind the experience report (kept apart from store.py on purpose).

Everything here reads the derived tables the existing ingest already fills
(``rollups_daily``, ``devices``); nothing writes. The site of a device comes
from the asset register when one exists: see :func:`site_by_device`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, MetaData, Table, inspect, select

from kitlife.collector.store.schema import devices, rollups_daily


def experience_rollups(
    engine: Engine, metric_ids: Iterable[int], since_day: int
) -> list[dict[str, Any]]:
    """Daily rollups of the given metrics for every device, from ``since_day`` on."""
    query = (
        select(
            rollups_daily.c.device_id,
            rollups_daily.c.metric_id,
            rollups_daily.c.component,
            rollups_daily.c.day,
            rollups_daily.c.n,
            rollups_daily.c.sum,
            rollups_daily.c.max,
            rollups_daily.c.last,
        )
        .where(rollups_daily.c.metric_id.in_(list(metric_ids)))
        .where(rollups_daily.c.day >= since_day)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def device_facts(engine: Engine) -> dict[int, dict[str, Any]]:
    """id -> uid, hostname, serial and model of every device not revoked."""
    query = select(
        devices.c.id, devices.c.device_uid, devices.c.hostname, devices.c.serial, devices.c.model
    ).where(devices.c.revoked_s.is_(None))
    with engine.connect() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(query)}


# Where a site can come from, first match wins: a ``site`` column on devices, or
# an asset-register table keyed by serial number. Another engineer owns the
# asset register; add its table here when its name is settled.
ASSET_TABLES: tuple[tuple[str, str, str], ...] = (
    ("assets", "serial", "site"),
    ("asset_register", "serial", "site"),
)


def site_by_device(engine: Engine) -> dict[int, str] | None:
    """device id -> site, or None when no site information exists in this database."""
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    columns = {c["name"] for c in inspector.get_columns("devices")}
    with engine.connect() as conn:
        if "site" in columns:
            table = Table("devices", MetaData(), autoload_with=conn)
            rows = conn.execute(select(table.c.id, table.c.site))
            return {r[0]: str(r[1] or "") for r in rows}
        for name, key, site in ASSET_TABLES:
            if name not in tables:
                continue
            cols = {c["name"] for c in inspector.get_columns(name)}
            if not {key, site} <= cols:
                continue
            assets = Table(name, MetaData(), autoload_with=conn)
            rows = conn.execute(
                select(devices.c.id, assets.c[site]).join(assets, assets.c[key] == devices.c.serial)
            )
            return {r[0]: str(r[1] or "") for r in rows}
    return None
