"""Finding devices the way the service desk names them, and a device's register row.

The service desk knows a laptop by its hostname, its serial, the asset tag on
its sticker or the person who holds it; only the first two live on the device
row. Register rows are matched to devices by serial, compared as
``policy.register.serial_key`` compares them (case and surrounding blanks do
not matter).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from kitlife.collector.policy.register import iso_day, serial_key
from kitlife.collector.store.schema import assets, devices
from kitlife.collector.store.store import Store

SEARCH_LIMIT = 50
_HIT_COLUMNS = (
    devices.c.id,
    devices.c.device_uid,
    devices.c.hostname,
    devices.c.serial,
    devices.c.vendor,
    devices.c.model,
    devices.c.last_seen_s,
    devices.c.decision,
    devices.c.score,
    devices.c.revoked_s,
)


def search_devices(store: Store, text: str, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Devices whose hostname, serial, id, asset tag or holder id starts with ``text``.

    Case does not matter; exact matches come first, then by hostname. Each hit
    carries its register row's asset tag, holder, site and status (empty when
    the register has none). At most ``limit`` hits.
    """
    text = text.strip()
    if not text or "\0" in text:
        return []
    with store.engine.connect() as conn:
        reg = [
            dict(r._mapping)
            for r in conn.execute(
                select(
                    assets.c.serial_key,
                    assets.c.asset_tag,
                    assets.c.holder_id,
                    assets.c.site,
                    assets.c.status,
                )
                .where(
                    or_(
                        assets.c.asset_tag.istartswith(text, autoescape=True),
                        assets.c.holder_id.istartswith(text, autoescape=True),
                    )
                )
                .limit(limit)
            )
        ]
        conditions = [
            devices.c.hostname.istartswith(text, autoescape=True),
            devices.c.serial.istartswith(text, autoescape=True),
            devices.c.device_uid.istartswith(text, autoescape=True),
        ]
        if reg:
            conditions.append(
                func.upper(func.trim(devices.c.serial)).in_([r["serial_key"] for r in reg])
            )
        hits = [
            dict(r._mapping)
            for r in conn.execute(
                select(*_HIT_COLUMNS)
                .where(or_(*conditions))
                .order_by(devices.c.hostname, devices.c.id)
                .limit(limit)
            )
        ]
        keys = {serial_key(h["serial"]) for h in hits if h["serial"]}
        by_key = {
            r.serial_key: dict(r._mapping)
            for r in conn.execute(
                select(
                    assets.c.serial_key,
                    assets.c.asset_tag,
                    assets.c.holder_id,
                    assets.c.site,
                    assets.c.status,
                ).where(assets.c.serial_key.in_(keys))
            )
        }
    folded = text.casefold()
    for h in hits:
        row = by_key.get(serial_key(h["serial"])) if h["serial"] else None
        for k in ("asset_tag", "holder_id", "site", "status"):
            h[k] = row[k] if row else ""
        h["exact"] = folded in {
            str(h[k]).casefold() for k in ("hostname", "serial", "device_uid", "asset_tag")
        } | {str(h["holder_id"]).casefold()}
    hits.sort(key=lambda h: (not h["exact"], h["hostname"].casefold(), h["id"]))
    return hits


def register_row_for(store: Store, serial: str) -> dict[str, Any] | None:
    """The device's register row (dates as ISO text), or None when the register has none."""
    if not serial.strip():
        return None
    with store.engine.connect() as conn:
        row = conn.execute(select(assets).where(assets.c.serial_key == serial_key(serial))).first()
    if row is None:
        return None
    out = dict(row._mapping)
    for day_col, name in (
        ("purchase_day", "purchase_date"),
        ("warranty_end_day", "warranty_end"),
        ("retired_day", "retired_date"),
    ):
        out[name] = iso_day(out.pop(day_col))
    return out


def site_names(store: Store) -> list[str]:
    """Every site the register names (for messages that list the choices)."""
    with store.engine.connect() as conn:
        return [
            str(r.site)
            for r in conn.execute(
                select(assets.c.site).where(assets.c.site != "").distinct().order_by(assets.c.site)
            )
        ]
