"""Writing batches: many requests' batches in one transaction, each stored once.

Why a module of its own: the ingest path is the collector's hot loop (72,000
laptops, 80 batches/s in steady state, 1,200/s when they all boot at once), so
it is written for few round trips and few statements per batch, not for
elegance. :meth:`Store.ingest_many` calls :func:`write_group` inside one
transaction; the HTTP layer feeds it through the group-commit writer in
:mod:`kitlife.collector.runtime.writer`.

The raw chunk is written by ``INSERT .. SELECT .. WHERE the key is live ON
CONFLICT (batch_uid) DO NOTHING RETURNING``: the same statement stores the
batch once and checks the revocation, so a key revoked by another process
(the CLI, another worker) stops at the write whatever caches say.

The derived rows are packed (:mod:`kitlife.collector.store.packed`): a
batch rewrites its device-day's row and its device's state row, read,
merged in Python and written back. Read-merge-write needs one writer per
device at a time: on PostgreSQL the group first locks its devices' rows
(``FOR NO KEY UPDATE``, in id order, so two groups cannot deadlock), which
every writer of a device's derived rows does; SQLite has one writer anyway.
Each table is written with the database's bulk path:

- SQLite: ``executemany`` on the raw DBAPI cursor (no round trips; SQLite
  does the work in C), one statement per table;
- PostgreSQL: one statement per table for the whole group, the rows passed
  as arrays and expanded by ``unnest`` (one round trip each, whatever the
  group's size).

The SQL is written out here per dialect instead of built with SQLAlchemy
Core, because per-row parameter processing in SQLAlchemy cost more than the
database's work (profiled: ~40 % of the writer's time).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from kitlife.collector.store import packed, weekly
from kitlife.protocol import BatchSummary

INVENTORY_COLUMNS = {
    "inv.hostname": "hostname",
    "inv.serial": "serial",
    "inv.vendor": "vendor",
    "inv.model": "model",
    "inv.os_name": "os_name",
    "inv.os_version": "os_version",
}
# What the hardware is (serial and vendor) is taken from the enrolment only:
# any device key can put any serial in its inventory texts, and a claimed
# serial made `devices show SERIAL` ambiguous and could steer the real
# laptop's re-enrolment (which matches on serial and vendor). The texts stay
# in the readings; the device row keeps what enrolment said.
IDENTITY_COLUMNS = ("serial", "vendor")
_INV = tuple(c for c in INVENTORY_COLUMNS.values() if c not in IDENTITY_COLUMNS)
_INV_BY_METRIC: dict[int, str] = {}

_BATCH_COLS = "batch_uid, device_id, received_s, first_s, last_s, n_points, body"
# The key's liveness is checked by the statement that writes: no window between
# "key is fine" and "batch stored" in which a revocation could slip by.
_LIVE = (
    "EXISTS (SELECT 1 FROM devices d WHERE d.id = {dev} AND d.revoked_s IS NULL) "
    "AND ({kh} IS NULL OR EXISTS (SELECT 1 FROM device_keys k WHERE k.key_hash = {kh} "
    "AND k.device_id = {dev} AND k.revoked_s IS NULL))"
)
# SQLite: one statement per row or executemany; no round trips in-process.
_SQ_BATCH = (
    f"INSERT INTO batches ({_BATCH_COLS}) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE "
    + _LIVE.format(dev="?2", kh="?8")
    + " ON CONFLICT (batch_uid) DO NOTHING RETURNING id"
)
_SQ_DAYS_GET = "SELECT body FROM device_days WHERE device_id = ? AND day = ?"
_SQ_STATE_GET = "SELECT latest FROM device_state WHERE device_id = ?"
_SQ_DAYS_PUT = (
    "INSERT INTO device_days (device_id, day, body) VALUES (?, ?, ?) "
    "ON CONFLICT (device_id, day) DO UPDATE SET body = excluded.body"
)
_SQ_STATE_PUT = (
    "INSERT INTO device_state (device_id, latest, unavailable) VALUES (?, ?, ?) "
    "ON CONFLICT (device_id) DO UPDATE SET latest = excluded.latest, "
    "unavailable = excluded.unavailable"
)
_SQ_DEVICE = (
    "UPDATE devices SET last_seen_s = ?, batches = batches + ?, "
    "points = points + ?, agent_version = ?, "
    + ", ".join(f"{c} = COALESCE(?, {c})" for c in _INV)
    + " WHERE id = ?"
)

# PostgreSQL: the whole group in three statements (lock, store, write), rows as
# arrays sent in binary (%b): text arrays would be quoted element by element.
# The liveness checks are LATERAL subqueries that cannot be flattened (LIMIT 1),
# so each row probes the two indexes whatever the statistics say. As plain
# joins the planner scanned all of devices per group while the table was new
# (unanalysed, "1 row"); with EXISTS .. OR it hashed all of device_keys.
_PG_BATCH = (
    f"INSERT INTO batches ({_BATCH_COLS}) "
    "SELECT v.batch_uid, v.device_id, v.received_s, v.first_s, v.last_s, v.n_points, v.body "
    "FROM unnest(%b::text[], %b::int[], %b::bigint[], %b::bigint[], %b::bigint[], %b::int[], "
    "%b::bytea[], %b::text[]) "
    "AS v(batch_uid, device_id, received_s, first_s, last_s, n_points, body, key_hash) "
    "CROSS JOIN LATERAL (SELECT 1 FROM devices d WHERE d.id = v.device_id "
    "AND d.revoked_s IS NULL LIMIT 1) d "
    "LEFT JOIN LATERAL (SELECT 1 AS live FROM device_keys k WHERE k.key_hash = v.key_hash "
    "AND k.device_id = v.device_id AND k.revoked_s IS NULL LIMIT 1) k ON true "
    "WHERE v.key_hash IS NULL OR k.live IS NOT NULL "
    "ON CONFLICT (batch_uid) DO NOTHING RETURNING batch_uid"
)
# The per-device mutex of the derived rows, and the devices' state read in the same trip.
_PG_LOCK = (
    "SELECT d.id, s.latest FROM devices d LEFT JOIN device_state s ON s.device_id = d.id "
    "WHERE d.id = ANY(%b::int[]) ORDER BY d.id FOR NO KEY UPDATE OF d"
)
# The batches stored, and the stored days they fold into, in one trip: kind 0
# rows are batch uids inserted, kind 1 rows stored days. The days are read by
# this statement's snapshot, taken after the lock above was granted, so no
# other writer's fold of these devices can be missed.
_PG_STORE = (
    f"WITH ins AS ({_PG_BATCH}) "
    "SELECT 0, batch_uid, NULL::int, NULL::int, NULL::bytea FROM ins UNION ALL "
    "SELECT 1, NULL, k.device_id, k.day, t.body FROM unnest(%b::int[], %b::int[]) "
    "AS k(device_id, day) JOIN LATERAL (SELECT body FROM device_days t "
    "WHERE t.device_id = k.device_id AND t.day = k.day LIMIT 1) t ON true"
)
# Every derived row in one trip: days, state, then the devices' counters and
# inventory (found through = ANY, an index scan whatever the statistics say).
_PG_WRITE = (
    "WITH days AS (INSERT INTO device_days (device_id, day, body) "
    "SELECT * FROM unnest(%b::int[], %b::int[], %b::bytea[]) "
    "ON CONFLICT (device_id, day) DO UPDATE SET body = excluded.body), "
    "state AS (INSERT INTO device_state (device_id, latest, unavailable) "
    "SELECT * FROM unnest(%b::int[], %b::bytea[], %b::bytea[]) "
    "ON CONFLICT (device_id) DO UPDATE SET latest = excluded.latest, "
    "unavailable = excluded.unavailable) "
    "UPDATE devices SET last_seen_s = v.now, batches = devices.batches + v.n, "
    "points = devices.points + v.p, agent_version = v.av, "
    + ", ".join(f"{c} = COALESCE(v.{c}, devices.{c})" for c in _INV)
    + " FROM unnest(%b::bigint[], %b::int[], %b::bigint[], %b::text[], "
    + ", ".join("%b::text[]" for _ in _INV)
    + f", %b::int[]) AS v(now, n, p, av, {', '.join(_INV)}, id) "
    "WHERE devices.id = v.id AND devices.id = ANY(%b::int[])"
)
_KEY_LIVE_SQ = "SELECT 1 WHERE " + _LIVE.format(dev=":dev", kh=":kh")
_KEY_LIVE_PG = "SELECT 1 WHERE " + _LIVE.format(dev="%(dev)s::int", kh="%(kh)s::text")


class RevokedError(Exception):
    """The device or its key was revoked before the batch reached the database."""


@dataclass(frozen=True, slots=True)
class Item:
    """One batch to store: whose, its daily summary, and the exact bytes received.

    ``batch`` is the summary :func:`kitlife.protocol.decode_summary` made from
    ``body``: the derived rows come from the same bytes the raw chunk keeps.
    """

    device_id: int
    device_uid: str
    batch: BatchSummary
    body: bytes
    key_hash: str | None = None


@dataclass(slots=True)
class _Group:
    """A group's derived readings, in arrival order, before they meet the stored rows."""

    now: int
    # (device, day) -> that day's aggregates from this group's batches
    days: dict[tuple[int, int], list[packed.DayEntry]] = field(default_factory=dict)
    latest: dict[int, list[packed.LatestEntry]] = field(default_factory=dict)
    # The newest stored batch of a device in the group says what is unavailable now.
    unavailable: dict[int, list[packed.UnavailableEntry]] = field(default_factory=dict)
    # [batches, points, agent_version, *inventory]
    devices: dict[int, list[Any]] = field(default_factory=dict)


@functools.cache
def _known_ids() -> frozenset[int]:
    """Metric ids this collector knows; others stay in the raw chunk only."""
    from kitlife.protocol import REGISTRY

    return frozenset(m.id for m in REGISTRY)


def _inv_column(metric_id: int) -> str | None:
    if not _INV_BY_METRIC:
        from kitlife.protocol import REGISTRY

        for m in REGISTRY:
            if m.name in INVENTORY_COLUMNS and INVENTORY_COLUMNS[m.name] in _INV:
                _INV_BY_METRIC[m.id] = INVENTORY_COLUMNS[m.name]
    return _INV_BY_METRIC.get(metric_id)


def _derive(item: Item, g: _Group) -> None:
    """Fold one batch into the group's day aggregates, latest readings and device row."""
    batch, dev = item.batch, item.device_id
    known = _known_ids()
    latest = g.latest.setdefault(dev, [])
    for d in batch.days:
        if d.metric_id not in known:
            continue
        g.days.setdefault((dev, d.day), []).append(
            packed.DayEntry(d.metric_id, d.component, d.n, d.total, d.lo, d.hi, d.last, d.last_s)
        )
        latest.append(packed.LatestEntry(d.metric_id, d.component, d.last_s, d.last, None))
    inventory: dict[str, tuple[int, str]] = {}
    for txt in batch.texts:
        if txt.metric_id not in known:
            continue
        latest.append(packed.LatestEntry(txt.metric_id, txt.component, txt.t_s, None, txt.value))
        column = None if txt.component else _inv_column(txt.metric_id)
        if column and (column not in inventory or txt.t_s >= inventory[column][0]):
            inventory[column] = (txt.t_s, txt.value[:255])
    g.unavailable[dev] = [
        packed.UnavailableEntry(u.source[:128], u.component[:255], u.reason[:1024], batch.sent_at_s)
        for u in {(u.source, u.component): u for u in batch.unavailable}.values()
    ]
    row = g.devices.get(dev)
    if row is None:
        row = g.devices[dev] = [0, 0, "", *([None] * len(_INV))]
    row[0] += 1
    row[1] += batch.n_points
    row[2] = batch.agent_version[:64]
    for i, column in enumerate(_INV, start=3):
        if column in inventory:
            row[i] = inventory[column][1]


def _no_nul(batch: BatchSummary) -> BatchSummary:
    """The batch with NUL characters replaced (U+FFFD) in every string.

    PostgreSQL text cannot hold NUL; SQLite can. Replacing them on both keeps
    the derived rows the same on either database; the raw chunk keeps the
    original bytes. Checked once per batch (cheap), rebuilt only when needed.
    """
    strings = [batch.spool_id, batch.agent_version]
    strings += [d.component for d in batch.days]
    strings += [x for t in batch.texts for x in (t.component, t.value)]
    strings += [x for u in batch.unavailable for x in (u.source, u.component, u.reason)]
    if not any("\0" in x for x in strings):
        return batch

    def c(x: str) -> str:
        return x.replace("\0", "\ufffd")

    return dataclasses.replace(
        batch,
        spool_id=c(batch.spool_id),
        agent_version=c(batch.agent_version),
        days=tuple(d._replace(component=c(d.component)) for d in batch.days),
        texts=tuple(
            dataclasses.replace(t, component=c(t.component), value=c(t.value)) for t in batch.texts
        ),
        unavailable=tuple(
            dataclasses.replace(u, source=c(u.source), component=c(u.component), reason=c(u.reason))
            for u in batch.unavailable
        ),
    )


# batches.batch_uid holds 160 characters; the protocol allows batch ids of up to
# 128 + 1 + 19 (spool id, ':', seq), 181 with the device uid. Widening the column
# would rebuild the whole table on SQLite, so the rare longer id is stored as a
# digest instead: deterministic, so a retry is still recognised.
_UID_MAX = 160


def batch_uid(device_uid: str, batch_id: str) -> str:
    """The stored, unique id of a device's batch (a digest of the batch id when too long)."""
    uid = f"{device_uid}/{batch_id}"
    if len(uid) <= _UID_MAX:
        return uid
    return f"{device_uid}/sha256:{hashlib.sha256(batch_id.encode()).hexdigest()}"


def _batch_row(item: Item, now: int) -> tuple[Any, ...]:
    return (
        batch_uid(item.device_uid, item.batch.batch_id),
        item.device_id,
        now,
        item.batch.first_s,
        item.batch.last_s,
        item.batch.n_points,
        item.body,
        item.key_hash,
    )


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows to one list per column (for unnest)."""
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def write_group(conn: Connection, items: Sequence[Item], now: int) -> list[bool | Exception]:
    """Store ``items`` in the caller's transaction; per item True, False (a retry) or error."""
    items = [
        item if (b := _no_nul(item.batch)) is item.batch else dataclasses.replace(item, batch=b)
        for item in items
    ]
    cur: Any = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            return _write_pg(cur, items, now)
        return _write_sqlite(cur, items, now)
    finally:
        cur.close()


def _write_pg(cur: Any, items: Sequence[Item], now: int) -> list[bool | Exception]:
    """Lock, store, write: three statements whatever the group's size.

    Plus the driver's BEGIN and the commit, and one query per batch that was
    not stored (to tell a retry from a revoked key).
    """
    cur.execute(_PG_LOCK, (sorted({item.device_id for item in items}),))
    state: dict[int, bytes | None] = dict(cur.fetchall())
    rows = [_batch_row(item, now) for item in items]
    day_keys = sorted({(item.device_id, d.day) for item in items for d in item.batch.days})
    cur.execute(_PG_STORE, [*_columns(rows, 8), *_columns(day_keys, 2)])
    inserted: set[str] = set()
    stored_days: dict[tuple[int, int], bytes] = {}
    for kind, uid, dev, day, body in cur.fetchall():
        if kind == 0:
            inserted.add(uid)
        else:
            stored_days[dev, day] = body
    stored: list[bool] = []
    seen: set[str] = set()
    for r in rows:
        stored.append(r[0] in inserted and r[0] not in seen)
        seen.add(r[0])
    results, g = _judge(cur, items, stored, now, _KEY_LIVE_PG)
    if g.devices:
        day_rows, state_rows, device_rows = _merged(g, stored_days, state)
        cur.execute(
            _PG_WRITE,
            [
                *_columns(day_rows, 3),
                *_columns(state_rows, 3),
                *_columns(device_rows, 5 + len(_INV)),
                [r[-1] for r in device_rows],
            ],
        )
        if late := _late(g):
            cur.execute(weekly.PG_INVALIDATE, _columns(late, 2))
    return results


def _write_sqlite(cur: Any, items: Sequence[Item], now: int) -> list[bool | Exception]:
    """Statement by statement: SQLite works in this process, a statement costs no trip."""
    stored: list[bool] = []
    for item in items:  # the first write takes the database's write lock
        cur.execute(_SQ_BATCH, _batch_row(item, now))
        stored.append(cur.fetchone() is not None)
    results, g = _judge(cur, items, stored, now, _KEY_LIVE_SQ)
    if not g.devices:
        return results
    stored_days: dict[tuple[int, int], bytes] = {}
    for key in g.days:
        cur.execute(_SQ_DAYS_GET, key)
        if found := cur.fetchone():
            stored_days[key] = found[0]
    state: dict[int, bytes | None] = {}
    for dev in g.devices:
        cur.execute(_SQ_STATE_GET, (dev,))
        found = cur.fetchone()
        state[dev] = found[0] if found else None
    day_rows, state_rows, device_rows = _merged(g, stored_days, state)
    cur.executemany(_SQ_DAYS_PUT, day_rows)
    cur.executemany(_SQ_STATE_PUT, state_rows)
    cur.executemany(_SQ_DEVICE, device_rows)
    if late := _late(g):
        cur.executemany(weekly.SQ_INVALIDATE, late)
    return results


def _late(g: _Group) -> list[tuple[int, int]]:
    """Devices whose stored weeks (store/weekly.py) a late day in this group invalidates."""
    oldest: dict[int, int] = {}
    for dev, day in g.days:
        if day < oldest.get(dev, day + 1):
            oldest[dev] = day
    return weekly.late_days(oldest)


def _judge(
    cur: Any, items: Sequence[Item], stored: Sequence[bool], now: int, key_live: str
) -> tuple[list[bool | Exception], _Group]:
    """Per item its result, and the stored ones folded into a group."""
    results: list[bool | Exception] = []
    g = _Group(now)
    for item, ok in zip(items, stored, strict=True):
        if ok:
            results.append(True)
            _derive(item, g)
            continue
        # Not inserted: a retry of a stored batch, or the key/device was revoked.
        cur.execute(key_live, {"dev": item.device_id, "kh": item.key_hash})
        live = cur.fetchone() is not None
        results.append(False if live else RevokedError("device or key revoked"))
    return results, g


def _merged(
    g: _Group, stored_days: dict[tuple[int, int], bytes], state: dict[int, bytes | None]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The group folded into its devices' stored rows: day, state and device rows, by key."""
    day_rows = [
        (*key, packed.merged_day(stored_days.get(key), g.days[key])) for key in sorted(g.days)
    ]
    devs = sorted(g.devices)
    state_rows = [
        (
            dev,
            packed.merged_latest(state.get(dev), g.latest[dev], g.now),
            packed.pack_unavailable(g.unavailable[dev]),
        )
        for dev in devs
    ]
    device_rows = [(g.now, *g.devices[d], d) for d in devs]
    return day_rows, state_rows, device_rows
