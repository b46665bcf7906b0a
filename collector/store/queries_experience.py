"""Read-only queries behind the experience report (kept apart from store.py on purpose).

Everything here reads what the ingest already fills (the packed day
aggregates through :mod:`~kitlife.collector.store.derived`, and ``devices``);
nothing writes. The site of a device comes
from the asset register when one exists: see :func:`site_by_device`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from kitlife.collector.store import derived
from kitlife.collector.store.schema import devices
from kitlife.collector.store.store import Store


def experience_rollups(
    store: Store, metric_ids: Iterable[int], since_day: int
) -> list[dict[str, Any]]:
    """Daily rollups of the given metrics for every device, from ``since_day`` on."""
    with store.engine.connect() as conn:
        return [
            derived.day_dict(device_id, day, e)
            for device_id, day, e in derived.days(conn, None, since_day, set(metric_ids))
        ]


def device_facts(store: Store) -> dict[int, dict[str, Any]]:
    """id -> uid, hostname, serial and model of every device not revoked."""
    query = select(
        devices.c.id, devices.c.device_uid, devices.c.hostname, devices.c.serial, devices.c.model
    ).where(devices.c.revoked_s.is_(None))
    with store.engine.connect() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(query)}


# Where a site can come from, first match wins: a ``site`` column on devices, or
# an asset-register table keyed by serial number. Another engineer owns the
# asset register; add its table here when its name is settled.
def site_by_device(store: Store) -> dict[int, str] | None:
    """device id -> site from the asset register, or None while the register is empty."""
    from kitlife.collector.policy.register import serial_key
    from kitlife.collector.store.schema import assets

    with store.engine.connect() as conn:
        sites = {
            r.serial_key: r.site
            for r in conn.execute(
                select(assets.c.serial_key, assets.c.site).where(assets.c.status != "retired")
            )
        }
        if not sites:
            return None
        rows = conn.execute(select(devices.c.id, devices.c.serial).where(devices.c.serial != ""))
        return {r.id: sites[k] for r in rows if (k := serial_key(r.serial)) in sites}
