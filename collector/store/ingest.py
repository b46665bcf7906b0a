"""Writing batches: many requests' batches in one transaction, each stored once.

Why a module of its own: the ingest path is the collector's hot loop (72,000
laptops, 80 batches/s in steady state, 1,200/s when they all boot at once), so
it is written for few round trips and few statements per batch, not for
elegance. :meth:`Store.ingest_many` calls :func:`write_group` inside one
transaction; the HTTP layer feeds it through the group-commit writer in
:mod:`kitlife.collector.writer`.

Per group the database sees: one ``INSERT .. SELECT .. WHERE key is live ON
CONFLICT DO NOTHING RETURNING`` per batch (the raw chunk, and at the same time
the revocation check, so a key revoked by another process stops at the
write), then one executemany each for latest readings, daily rollups, the
unavailable list and the devices' counters, whatever the group's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, delete, text

from kitlife.collector.store import _dialect
from kitlife.collector.store.schema import unavailable
from kitlife.protocol import Batch, metric_by_id

INVENTORY_COLUMNS = {
    "inv.hostname": "hostname",
    "inv.serial": "serial",
    "inv.vendor": "vendor",
    "inv.model": "model",
    "inv.os_name": "os_name",
    "inv.os_version": "os_version",
}

_BATCH_COLUMNS = "batch_uid, device_id, received_s, first_s, last_s, n_points, body"
_BATCH_VALUES = ":batch_uid, :device_id, :received_s, :first_s, :last_s, :n_points, :body"
# The key's liveness is checked in the same statement that writes: no window
# between "key is fine" and "batch stored" in which a revocation could slip by.
_INSERT_WITH_KEY = text(
    f"INSERT INTO batches ({_BATCH_COLUMNS}) SELECT {_BATCH_VALUES} "  # noqa: S608 - constants only
    "WHERE EXISTS (SELECT 1 FROM device_keys k JOIN devices d ON d.id = k.device_id "
    "WHERE k.key_hash = :key_hash AND k.device_id = :device_id "
    "AND k.revoked_s IS NULL AND d.revoked_s IS NULL) "
    "ON CONFLICT (batch_uid) DO NOTHING RETURNING id"
)
_INSERT_NO_KEY = text(
    f"INSERT INTO batches ({_BATCH_COLUMNS}) SELECT {_BATCH_VALUES} "  # noqa: S608 - constants only
    "WHERE EXISTS (SELECT 1 FROM devices d WHERE d.id = :device_id AND d.revoked_s IS NULL) "
    "ON CONFLICT (batch_uid) DO NOTHING RETURNING id"
)
_KEY_LIVE = text(
    "SELECT 1 FROM device_keys k JOIN devices d ON d.id = k.device_id "
    "WHERE k.key_hash = :key_hash AND k.device_id = :device_id "
    "AND k.revoked_s IS NULL AND d.revoked_s IS NULL"
)
_DEVICE_LIVE = text("SELECT 1 FROM devices WHERE id = :device_id AND revoked_s IS NULL")
_UPDATE_DEVICE = text(  # column names come from INVENTORY_COLUMNS, never from input
    "UPDATE devices SET last_seen_s = :now, batches = batches + 1, points = points + :n_points, "  # noqa: S608
    "agent_version = :agent_version, "
    + ", ".join(f"{c} = COALESCE(:{c}, {c})" for c in INVENTORY_COLUMNS.values())
    + " WHERE id = :device_id"
)
_DELETE_UNAVAILABLE = delete(unavailable).where(
    unavailable.c.device_id == bindparam("d_id", type_=unavailable.c.device_id.type)
)


class RevokedError(Exception):
    """The device or its key was revoked before the batch reached the database."""


@dataclass(frozen=True, slots=True)
class Item:
    """One batch to store: whose, what, and the exact bytes received."""

    device_id: int
    device_uid: str
    batch: Batch
    body: bytes
    key_hash: str | None = None


@dataclass(slots=True)
class _Derived:
    latest: list[dict[str, Any]] = field(default_factory=list)
    rollups: list[dict[str, Any]] = field(default_factory=list)
    unavailable: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    devices: list[dict[str, Any]] = field(default_factory=list)


def _inventory(batch: Batch) -> dict[str, str | None]:
    found: dict[str, tuple[int, str]] = {}
    for t in batch.texts:
        metric = metric_by_id(t.metric_id)
        if metric and metric.name in INVENTORY_COLUMNS and not t.component:
            column = INVENTORY_COLUMNS[metric.name]
            if column not in found or t.t_s >= found[column][0]:
                found[column] = (t.t_s, t.value[:255])
    return {c: (found[c][1] if c in found else None) for c in INVENTORY_COLUMNS.values()}


def _derive(item: Item, now: int, out: _Derived) -> None:
    """The batch's latest readings, per-day aggregates and device counters."""
    batch, dev = item.batch, item.device_id
    newest: dict[tuple[int, str], tuple[int, float | None, str | None]] = {}
    days: dict[tuple[int, str, int], list[float]] = {}
    for s in batch.series:
        if metric_by_id(s.metric_id) is None:
            continue
        key = (s.metric_id, s.component)
        for t, v in zip(s.timestamps_s, s.values, strict=True):
            if key not in newest or t >= newest[key][0]:
                newest[key] = (t, v, None)
            day_key = (s.metric_id, s.component, t // 86400)
            agg = days.get(day_key)
            if agg is None:  # [n, sum, min, max, last, last_s]
                days[day_key] = [1, v, v, v, v, t]
            else:
                agg[0] += 1
                agg[1] += v
                agg[2] = min(agg[2], v)
                agg[3] = max(agg[3], v)
                if t >= agg[5]:
                    agg[4], agg[5] = v, t
    for txt in batch.texts:
        if metric_by_id(txt.metric_id) is None:
            continue
        key = (txt.metric_id, txt.component)
        if key not in newest or txt.t_s >= newest[key][0]:
            newest[key] = (txt.t_s, None, txt.value)
    out.latest.extend(
        {"device_id": dev, "metric_id": m, "component": c, "t_s": t, "num": num, "txt": txt}
        for (m, c), (t, num, txt) in newest.items()
    )
    out.rollups.extend(
        {
            "device_id": dev,
            "metric_id": m,
            "component": c,
            "day": d,
            "n": int(a[0]),
            "sum": a[1],
            "min": a[2],
            "max": a[3],
            "last": a[4],
            "last_s": int(a[5]),
        }
        for (m, c, d), a in days.items()
    )
    # The newest batch of a device in the group says what is unavailable now.
    out.unavailable[dev] = [
        {
            "device_id": dev,
            "source": u.source[:128],
            "component": u.component[:255],
            "reason": u.reason[:1024],
            "t_s": batch.sent_at_s,
        }
        for u in {(u.source, u.component): u for u in batch.unavailable}.values()
    ]
    out.devices.append(
        {
            "device_id": dev,
            "now": now,
            "n_points": batch.n_points,
            "agent_version": batch.agent_version[:64],
            **_inventory(batch),
        }
    )


def _span(batch: Batch) -> tuple[int, int]:
    stamps = [t for s in batch.series for t in s.timestamps_s] + [t.t_s for t in batch.texts]
    return (min(stamps), max(stamps)) if stamps else (batch.sent_at_s, batch.sent_at_s)


def _merge_latest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key (the newest): a multi-row upsert may not touch a row twice."""
    best: dict[tuple[int, int, str], dict[str, Any]] = {}
    for r in rows:
        k = (r["device_id"], r["metric_id"], r["component"])
        if k not in best or r["t_s"] >= best[k]["t_s"]:
            best[k] = r
    return [best[k] for k in sorted(best)]


def _merge_rollups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[tuple[int, int, str, int], dict[str, Any]] = {}
    for r in rows:
        k = (r["device_id"], r["metric_id"], r["component"], r["day"])
        m = merged.get(k)
        if m is None:
            merged[k] = r
            continue
        m["n"] += r["n"]
        m["sum"] += r["sum"]
        m["min"] = min(m["min"], r["min"])
        m["max"] = max(m["max"], r["max"])
        if r["last_s"] >= m["last_s"]:
            m["last"], m["last_s"] = r["last"], r["last_s"]
    return [merged[k] for k in sorted(merged)]


def write_group(conn: Connection, items: Sequence[Item], now: int) -> list[bool | Exception]:
    """Store ``items`` in the caller's transaction; per item True, False (a retry) or error."""
    results: list[bool | Exception] = []
    fresh: list[Item] = []
    for item in items:
        first_s, last_s = _span(item.batch)
        params = {
            "batch_uid": f"{item.device_uid}/{item.batch.batch_id}",
            "device_id": item.device_id,
            "received_s": now,
            "first_s": first_s,
            "last_s": last_s,
            "n_points": item.batch.n_points,
            "body": item.body,
        }
        if item.key_hash is not None:
            params["key_hash"] = item.key_hash
            row = conn.execute(_INSERT_WITH_KEY, params).first()
        else:
            row = conn.execute(_INSERT_NO_KEY, params).first()
        if row is not None:
            results.append(True)
            fresh.append(item)
            continue
        # Not inserted: a retry of a stored batch, or the key/device was revoked.
        live = (
            conn.execute(_KEY_LIVE, {"key_hash": item.key_hash, "device_id": item.device_id})
            if item.key_hash is not None
            else conn.execute(_DEVICE_LIVE, {"device_id": item.device_id})
        ).first()
        results.append(False if live is not None else RevokedError("device or key revoked"))
    if not fresh:
        return results
    derived = _Derived()
    for item in fresh:
        _derive(item, now, derived)
    # Merged and sorted, so that concurrent writers (PostgreSQL) lock rows in
    # the same order and no statement touches a row twice.
    if derived.latest:
        conn.execute(_dialect.upsert_latest(conn), _merge_latest(derived.latest))
    if derived.rollups:
        conn.execute(_dialect.upsert_rollup(conn), _merge_rollups(derived.rollups))
    gone = sorted(derived.unavailable)
    conn.execute(_DELETE_UNAVAILABLE, [{"d_id": d} for d in gone])
    rows = [r for d in gone for r in derived.unavailable[d]]
    if rows:
        conn.execute(unavailable.insert(), rows)
    derived.devices.sort(key=lambda r: r["device_id"])
    conn.execute(_UPDATE_DEVICE, derived.devices)
    return results
