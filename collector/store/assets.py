"""Store access for the fleet tables: the asset register and fleet decisions.

Functions over a :class:`~kitlife.collector.store.Store` rather than more
methods on it, so that store.py stays the ingest path's small interface.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, update

from kitlife.collector.policy.register import REGISTER_COLUMNS, AssetRow, iso_day, serial_key
from kitlife.collector.store import derived
from kitlife.collector.store.schema import assets, audit_log, devices
from kitlife.collector.store.store import Store
from kitlife.protocol import metric_by_name


def replace_register(store: Store, rows: Sequence[AssetRow], actor: str = "cli") -> int:
    """Make the register exactly ``rows``, in one transaction (all or nothing).

    A register export is a full snapshot of what the organisation owns, so
    import replaces rather than merges: a device dropped from the CMDB drops
    from kitlife too. Any database error rolls the whole import back.
    """
    now = int(time.time())
    with store.engine.begin() as conn:
        conn.execute(delete(assets))
        if rows:
            conn.execute(
                assets.insert(),
                [
                    {
                        "serial": r.serial[:255],
                        "serial_key": r.serial_key[:255],
                        "asset_tag": r.asset_tag[:64],
                        "holder_id": r.holder_id[:64],
                        "role": r.role[:32],
                        "site": r.site[:128],
                        "purchase_day": r.purchase_day,
                        "purchase_route": r.purchase_route,
                        "warranty_end_day": r.warranty_end_day,
                        "vendor": r.vendor[:255],
                        "model": r.model[:255],
                        "status": r.status,
                        "retired_day": r.retired_day,
                        "eol_route": r.eol_route,
                        "retired_reason": r.retired_reason[:32],
                        "previous_holders": r.previous_holders,
                        "imported_s": now,
                    }
                    for r in rows
                ],
            )
        Store._audit(conn, actor, "assets.import", f"{len(rows)} register rows")
    return len(rows)


EXPORT_COLUMNS = REGISTER_COLUMNS  # export writes what import reads


def register_rows(store: Store) -> list[dict[str, Any]]:
    """The register, in the same columns import reads (export -> import round-trips)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(assets).order_by(assets.c.id))
        out = []
        for r in rows:
            d = dict(r._mapping)
            d["purchase_date"] = iso_day(d.pop("purchase_day"))
            d["warranty_end"] = iso_day(d.pop("warranty_end_day"))
            d["retired_date"] = iso_day(d.pop("retired_day"))
            out.append(d)
        return out


def retired_rows(store: Store) -> list[dict[str, Any]]:
    """Retired register rows as stored (epoch days), for the which-models-last view."""
    with store.engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(select(assets).where(assets.c.status == "retired"))
        ]


def register_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(assets)).scalar_one())


def unmatched(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Enrolled devices with no register row, and live register rows with no device."""
    with store.engine.connect() as conn:
        devs = list(
            conn.execute(
                select(
                    devices.c.device_uid,
                    devices.c.hostname,
                    devices.c.serial,
                    devices.c.model,
                    devices.c.last_seen_s,
                ).where(devices.c.revoked_s.is_(None))
            )
        )
        regs = list(
            conn.execute(
                select(
                    assets.c.serial,
                    assets.c.serial_key,
                    assets.c.asset_tag,
                    assets.c.holder_id,
                    assets.c.site,
                    assets.c.status,
                ).where(assets.c.status != "retired")
            )
        )
    reg_keys = {r.serial_key for r in regs}
    dev_keys = {serial_key(d.serial) for d in devs if d.serial}
    return {
        "devices_without_register_row": [
            {
                "device_uid": d.device_uid,
                "hostname": d.hostname,
                "serial": d.serial,
                "model": d.model,
            }
            for d in devs
            if not d.serial or serial_key(d.serial) not in reg_keys
        ],
        "register_rows_without_device": [
            {
                "serial": r.serial,
                "asset_tag": r.asset_tag,
                "holder_id": r.holder_id,
                "site": r.site,
                "status": r.status,
            }
            for r in regs
            if r.serial_key not in dev_keys
        ],
    }


# -- decisions seam -----------------------------------------------------------------------
def record_decisions(
    store: Store, decisions: Mapping[int, tuple[str, str]], source: str, now_s: int | None = None
) -> int:
    """Set the newest decision of devices by hand: {device_id: (decision, reason)}.

    The scorer (``kitlife.collector.runtime.rescore``) writes the same columns on every
    rescore; this is for decisions made outside it (an admin's, a test's), and
    is audited like every admin change.
    """
    now = int(time.time()) if now_s is None else now_s
    with store.engine.begin() as conn:
        for device_id, (decision, reason) in decisions.items():
            conn.execute(
                update(devices)
                .where(devices.c.id == device_id)
                .values(decision=decision, scored_s=now)
            )
            conn.execute(
                audit_log.insert().values(
                    t_s=now,
                    actor=source,
                    action="device.decide",
                    detail=f"{device_id} {decision}: {reason}",
                )
            )
    return len(decisions)


def decisions(store: Store) -> dict[int, str]:
    """The newest decision per device id, as the scorer (or an admin) left it."""
    with store.engine.connect() as conn:
        return {
            r.id: r.decision
            for r in conn.execute(
                select(devices.c.id, devices.c.decision).where(devices.c.decision != "")
            )
        }


# -- what the fleet views read ---------------------------------------------------------------
_LATEST_METRICS = (
    "mem.total_bytes",
    "disk.total_bytes",
    "inv.cpu_cores",
    "battery.design_capacity_mwh",
    "battery.full_charge_capacity_mwh",
    "battery.cycle_count",
    "nvme.percentage_used_pct",
    "nvme.media_errors",
    "ata.reallocated_sectors",
)
PRESSURE_METRICS = ("cpu.busy_pct", "mem.used_pct", "swap.used_pct")


def device_table(store: Store) -> list[dict[str, Any]]:
    """One dict per live device: identity, latest hardware readings, register row."""
    ids = {metric_by_name(n).id: n for n in _LATEST_METRICS}
    with store.engine.connect() as conn:
        devs = {
            r.id: dict(r._mapping)
            for r in conn.execute(
                select(
                    devices.c.id,
                    devices.c.device_uid,
                    devices.c.hostname,
                    devices.c.serial,
                    devices.c.vendor,
                    devices.c.model,
                    devices.c.os_name,
                    devices.c.os_version,
                    devices.c.enrolled_s,
                    devices.c.last_seen_s,
                ).where(devices.c.revoked_s.is_(None))
            )
        }
        readings = [
            (device_id, r)
            for device_id, by_key in derived.latest(conn).items()
            for r in by_key.values()
            if r.metric_id in ids
        ]
        for device_id, r in readings:
            d = devs.get(device_id)
            if d is not None and r.num is not None:
                name = ids[r.metric_id]
                # Several packs or disks: keep the worst (largest wear, smallest capacity
                # is not knowable here without pairing; keep the first seen for capacities).
                if name in (
                    "nvme.percentage_used_pct",
                    "nvme.media_errors",
                    "ata.reallocated_sectors",
                ):
                    d[name] = max(float(r.num), float(d.get(name, 0.0)))
                else:
                    d.setdefault(name, float(r.num))
        reg = {r.serial_key: dict(r._mapping) for r in conn.execute(select(assets))}
    for d in devs.values():
        d["asset"] = reg.get(serial_key(d["serial"])) if d["serial"] else None
    return list(devs.values())


def pressure_p95(
    store: Store, since_day: int, device_ids: Iterable[int] | None = None
) -> dict[int, dict[str, float]]:
    """95th percentile of daily means per device and pressure metric since ``since_day``."""
    mids = {metric_by_name(n).id: n for n in PRESSURE_METRICS}
    ids = None if device_ids is None else list(device_ids)
    with store.engine.connect() as conn:
        data = [
            (device_id, e.metric_id, e.sum, e.n)
            for device_id, _day, e in derived.days(conn, ids, since_day, mids)
        ]
    if not data:
        return {}
    arr = np.array([(r[0], r[1], r[2] / r[3] if r[3] else np.nan) for r in data], dtype=float)
    order = np.lexsort((arr[:, 2], arr[:, 1], arr[:, 0]))
    arr = arr[order]
    keys = arr[:, 0] * 10000 + arr[:, 1]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    out: dict[int, dict[str, float]] = {}
    for chunk in np.split(arr, bounds):
        dev, mid = int(chunk[0, 0]), int(chunk[0, 1])
        out.setdefault(dev, {})[mids[mid]] = float(np.percentile(chunk[:, 2], 95))
    return out


def device_ids_at_site(store: Store, site: str) -> list[int]:
    """Enrolled devices whose register row (matched by serial) places them at ``site``."""
    with store.engine.connect() as conn:
        keys = {
            r.serial_key
            for r in conn.execute(
                select(assets.c.serial_key).where(
                    assets.c.site == site, assets.c.status != "retired"
                )
            )
        }
        rows = conn.execute(select(devices.c.id, devices.c.serial).where(devices.c.serial != ""))
        return [r.id for r in rows if serial_key(r.serial) in keys]
