"""The on-disk spool: readings wait here until the collector acknowledges them.

SQLite in WAL mode, ``synchronous=FULL``. The agent commits about once a
minute, so an fsync per commit costs nothing a user can notice, and it buys the
property the exactly-once upload rests on: a committed reading or sealed batch
survives kill -9 *and* power loss, so a batch sequence number, once sealed and
possibly sent, can never be reissued with other contents. (With ``NORMAL`` a
power cut could roll back a seal after its batch reached the collector; the
resealed batch would reuse the id and the collector would drop it as a
duplicate.) NORMAL would not buy the footprint anything either: measured on
the loop's cycle, a commit costs the same CPU with either setting (~1 ms, the
fsync's own CPU is noise), and the fsync blocks inside a cycle the process is
awake for anyway, so it adds a context switch, not a wake-up.

Life of a reading: :meth:`Spool.add` stores it; :meth:`Spool.seal` moves up to
``max_points`` of the oldest readings into one encoded batch with the next
sequence number (one transaction); :meth:`Spool.ack` deletes a batch once the
collector's ack names it. The spool is bounded in bytes: when full, the oldest
sealed batches and then the oldest readings are dropped, and the count of
dropped readings is itself uploaded (``agent.spool_dropped_total``).

A file that is not a spool (corrupt, truncated, foreign) is set aside with a
timestamped name and a new spool is started, so a damaged file never becomes a
crash loop. A spool that is merely *busy* or unreachable (locked by the upload
child, disk full, permission denied: ``sqlite3.OperationalError``) is never set
aside: that would throw good data away for a transient condition.

Two counters make loss and duplication checkable end to end:
``added_points`` (every reading ever committed, in the same transaction as the
reading) and ``dropped_points`` (every reading evicted). What the collector
stores must equal ``added - dropped - still spooled``.

The WAL file is kept small (checkpoint every 256 pages, truncated to 1 MiB
afterwards) so the bound in bytes is about the whole spool on disk, not only
the main file.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kitlife.agent.paths import create_private_file, make_private_dir
from kitlife.agent.readings import SourceResult
from kitlife.protocol import (
    Batch,
    ProtocolError,
    Series,
    Text,
    Unavailable,
    decode_batch,
    decode_summary,
    encode_batch,
    metric_by_id,
    metric_by_name,
)
from kitlife.protocol.conform import conform

log = logging.getLogger(__name__)

SPOOL_FILE = "spool.db"
APPLICATION_ID = 0x4B4C5350  # "KLSP"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY, t INTEGER NOT NULL, metric_id INTEGER NOT NULL,
    component TEXT NOT NULL, num REAL, txt TEXT);
CREATE TABLE IF NOT EXISTS unavailable (
    source TEXT NOT NULL, component TEXT NOT NULL, reason TEXT NOT NULL, t INTEGER NOT NULL,
    PRIMARY KEY (source, component));
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY, created_s INTEGER NOT NULL, n_points INTEGER NOT NULL,
    body BLOB NOT NULL);
"""


class SpoolError(RuntimeError):
    """The spool could not be opened or written even after starting afresh."""


@dataclass(frozen=True, slots=True)
class SpoolStats:
    spool_id: str
    readings: int
    batches: int
    bytes: int
    max_bytes: int
    dropped_points: int
    next_seq: int
    set_aside: int
    added_points: int = 0


class Spool:
    """A bounded, durable queue of readings and sealed batches."""

    def __init__(
        self,
        path: Path,
        max_bytes: int = 20 * 1024 * 1024,
        *,
        readonly: bool = False,
        repair: bool = True,
        busy_timeout_s: float = 30.0,
    ) -> None:
        """Open (or create) the spool; ``readonly`` is for ``status`` and ``show``.

        A read-only open never creates, repairs or sets aside anything: a second
        process looking at the spool must not change it under the service. With
        ``repair=False`` (the upload child) a damaged file raises
        :class:`SpoolError` instead of being set aside, because only the process
        that owns the file may move it.
        """
        self.path = path
        self.max_bytes = max_bytes
        self.readonly = readonly
        self.repair = repair
        self.busy_timeout_s = busy_timeout_s
        self.set_aside_as: str | None = None
        if readonly:
            self._db = self._open_readonly()
            return
        make_private_dir(path.parent)
        self._db = self._open_or_replace()

    # -- opening -------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        # Owner-only before SQLite creates anything: readings describe how the laptop is used.
        try:
            create_private_file(self.path)
        except OSError as err:
            raise SpoolError(f"spool {self.path} not usable now: {err}") from err
        db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA wal_autocheckpoint=256")
        db.execute("PRAGMA journal_size_limit=1048576")
        # The default 2 MiB page cache is resident memory the loop does not need:
        # it writes a few rows a minute and reads the spool only to seal it.
        db.execute("PRAGMA cache_size=-512")
        return db

    def _open_readonly(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise SpoolError(f"no spool at {self.path} yet")
        try:
            db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=10,
                isolation_level=None,
            )
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise SpoolError(f"spool {self.path} unreadable: {err}") from err
        if app_id != APPLICATION_ID:
            db.close()
            raise SpoolError(f"{self.path} is not a kitlife spool")
        return db

    def _check(self, db: sqlite3.Connection) -> None:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        import uuid  # only to name a new spool

        if app_id == 0 and not tables:
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.executescript(_SCHEMA)
            db.execute("INSERT INTO meta VALUES ('spool_id', ?)", (uuid.uuid4().hex,))
            return
        if app_id != APPLICATION_ID:
            raise sqlite3.DatabaseError(f"foreign SQLite file (application_id {app_id:#x})")
        result = db.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {result}")
        db.executescript(_SCHEMA)
        # A kill during creation can leave the tables without an id; batch ids need one.
        db.execute("INSERT OR IGNORE INTO meta VALUES ('spool_id', ?)", (uuid.uuid4().hex,))

    def _open_or_replace(self) -> sqlite3.Connection:
        db = None
        try:
            db = self._connect()
            self._check(db)
            return db
        except sqlite3.OperationalError as err:
            # Locked, busy, read-only or out of space: the file may be fine.
            if db is not None:
                db.close()
            raise SpoolError(f"spool {self.path} not usable now: {err}") from err
        except sqlite3.DatabaseError as err:
            if db is not None:
                db.close()
            if not self.repair:
                raise SpoolError(f"spool {self.path} damaged: {err}") from err
            aside = self.path.with_name(f"{self.path.name}.bad-{int(time.time())}")
            n = 1
            while aside.exists():
                aside = self.path.with_name(f"{self.path.name}.bad-{int(time.time())}-{n}")
                n += 1
            # The WAL first: a stale WAL must never be left beside a new main file.
            for suffix in ("-wal", "-shm", ""):
                src = Path(str(self.path) + suffix)
                if src.exists():
                    src.replace(Path(str(aside) + suffix))
            self.set_aside_as = aside.name
            log.error(
                "spool %s unusable (%s); set aside as %s, starting a new one",
                self.path,
                err,
                aside.name,
            )
        try:
            db = self._connect()
            self._check(db)
        except sqlite3.DatabaseError as err:
            raise SpoolError(f"cannot create a spool at {self.path}: {err}") from err
        if self.set_aside_as:
            self._set_meta_int(db, "set_aside", 1)
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('set_aside_name', ?)", (self.set_aside_as,)
            )
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('set_aside_s', ?)", (str(int(time.time())),)
            )
        return db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta ----------------------------------------------------------------------
    @staticmethod
    def _set_meta_int(db: sqlite3.Connection, key: str, value: int) -> None:
        db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, str(value)),
        )

    def meta(self, key: str, default: str = "") -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def meta_int(self, key: str, default: int = 0) -> int:
        try:
            return int(self.meta(key, str(default)))
        except ValueError:
            return default

    def set_meta(self, key: str, value: str | int | float) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, str(value)),
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- writing -------------------------------------------------------------------
    def add(
        self,
        results: Iterable[SourceResult],
        t_s: int,
        meta: Mapping[str, str | int | float] | None = None,
    ) -> int:
        """Store one cycle's readings; returns how many were stored.

        ``meta`` entries (the loop's schedule, say) are written in the same
        transaction, so a cycle costs one fsync, not two.
        """
        rows: list[tuple[int, int, str, float | None, str | None]] = []
        unavailable: list[tuple[str, str, str, int]] = []
        sources: list[str] = []
        for result in results:
            sources.append(result.source)
            for reading in result.readings:
                try:
                    metric = metric_by_name(reading.metric)
                except KeyError:
                    log.warning(
                        "source %s emitted unregistered metric %r; not spooled",
                        result.source,
                        reading.metric,
                    )
                    continue
                if isinstance(reading.value, str):
                    rows.append((t_s, metric.id, reading.component, None, reading.value))
                else:
                    rows.append((t_s, metric.id, reading.component, float(reading.value), None))
            unavailable.extend((u.source, u.component, u.reason, t_s) for u in result.unavailable)
        with self._transaction() as db:
            db.executemany("DELETE FROM unavailable WHERE source=?", [(s,) for s in sources])
            db.executemany("INSERT OR REPLACE INTO unavailable VALUES (?, ?, ?, ?)", unavailable)
            db.executemany(
                "INSERT INTO readings (t, metric_id, component, num, txt) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            # One statement, not a read and a write: this runs every cycle.
            db.execute(
                "INSERT INTO meta VALUES ('added_points', ?) ON CONFLICT(key) DO UPDATE "
                "SET value = CAST(value AS INTEGER) + excluded.value",
                (str(len(rows)),),
            )
            for key, value in (meta or {}).items():
                self.set_meta(key, value)
        self.enforce_bound()
        return len(rows)

    def size_bytes(self) -> int:
        """Bytes in use (pages not on the free list); one query, as it runs every cycle."""
        row = self._db.execute(
            "SELECT (c.page_count - f.freelist_count) * s.page_size "
            "FROM pragma_page_count() c, pragma_freelist_count() f, pragma_page_size() s"
        ).fetchone()
        return int(row[0])

    def enforce_bound(self) -> int:
        """Drop the oldest data until the spool fits; returns readings dropped."""
        dropped = 0
        while self.size_bytes() > self.max_bytes:
            with self._transaction() as db:
                oldest = db.execute(
                    "SELECT seq, n_points FROM batches ORDER BY seq LIMIT 1"
                ).fetchone()
                if oldest:
                    db.execute("DELETE FROM batches WHERE seq=?", (oldest[0],))
                    n = int(oldest[1])
                else:
                    count = db.execute("SELECT count(*) FROM readings").fetchone()[0]
                    if not count:
                        break
                    n = max(1, count // 10)
                    db.execute(
                        "DELETE FROM readings WHERE id IN "
                        "(SELECT id FROM readings ORDER BY id LIMIT ?)",
                        (n,),
                    )
                total = int(self.meta("dropped_points", "0") or 0) + n
                self._set_meta_int(db, "dropped_points", total)
                dropped += n
        if dropped:
            log.warning(
                "spool over %d bytes: dropped the oldest %d readings", self.max_bytes, dropped
            )
        return dropped

    def _build_batch(
        self,
        db: sqlite3.Connection,
        device_id: str,
        agent_version: str,
        seq: int,
        max_points: int,
        now_s: int,
    ) -> tuple[Batch, int]:
        rows = db.execute(
            "SELECT id, t, metric_id, component, num, txt FROM readings ORDER BY id LIMIT ?",
            (max_points,),
        ).fetchall()
        series: dict[tuple[int, str], tuple[list[int], list[float]]] = {}
        texts: list[Text] = []
        for _id, t, metric_id, component, num, txt in rows:
            if txt is not None:
                texts.append(Text(metric_id, component, t, txt))
            else:
                ts, vs = series.setdefault((metric_id, component), ([], []))
                ts.append(t)
                vs.append(num)
        built = tuple(
            Series(mid, comp, tuple(ts), tuple(vs), (m.exponent if (m := metric_by_id(mid)) else 0))
            for (mid, comp), (ts, vs) in series.items()
        )
        unavailable = tuple(
            Unavailable(s, c, r)
            for s, c, r in db.execute(
                "SELECT source, component, reason FROM unavailable ORDER BY source, component"
            )
        )
        batch = Batch(
            device_id,
            self.meta("spool_id"),
            seq,
            now_s,
            agent_version,
            built,
            tuple(texts),
            unavailable,
        )
        last_id = rows[-1][0] if rows else 0
        return batch, last_id

    def seal(
        self, device_id: str, agent_version: str, max_points: int, now_s: int | None = None
    ) -> int | None:
        """Move the oldest readings into a new batch; returns its seq, or None if empty."""
        now_s = int(time.time()) if now_s is None else now_s
        with self._transaction() as db:
            seq = int(self.meta("next_seq", "1"))
            sealed = self._sealable(db, device_id, agent_version, seq, max_points, now_s)
            if sealed is None:
                return None
            batch, body, last_id, cuts = sealed
            for reason, n in cuts.items():
                key = f"trimmed_{reason}"
                self._set_meta_int(db, key, int(self.meta(key, "0") or 0) + n)
            if cuts:
                log.warning("batch %d: cut to the wire limits: %s", seq, cuts)
            if body is not None:
                db.execute(
                    "INSERT INTO batches VALUES (?, ?, ?, ?)", (seq, now_s, batch.n_points, body)
                )
                self._set_meta_int(db, "next_seq", seq + 1)
            db.execute("DELETE FROM readings WHERE id <= ?", (last_id,))
        return seq if body is not None else self.seal(device_id, agent_version, max_points, now_s)

    def _sealable(
        self,
        db: sqlite3.Connection,
        device_id: str,
        agent_version: str,
        seq: int,
        max_points: int,
        now_s: int,
    ) -> tuple[Batch, bytes | None, int, dict[str, int]] | None:
        """The next batch cut to the wire limits and encoded, checked as the collector checks
        it: (batch, body or None if it cannot be sent at all, last reading id, cuts by reason).

        Why the check: a batch the collector refuses is answered 400 and deleted by the
        uploader, every reading in it lost. Too large (compressed or unpacked) seals half
        the readings, until it fits; anything else cannot happen after conform (the
        agent/collector contract test holds it) and is dropped, counted, rather than
        blocking the spool for ever.
        """
        points = max_points
        while True:
            raw, last_id = self._build_batch(db, device_id, agent_version, seq, points, now_s)
            if not last_id:
                return None
            batch, cuts = conform(raw)
            body = encode_batch(batch)
            try:
                decode_summary(body)
            except ProtocolError as err:
                if err.status == 413 and points > 1:
                    points //= 2
                    continue
                log.error("batch %d cannot be sent (%s); its readings are dropped", seq, err)
                return batch, None, last_id, {**cuts, "unsealable": raw.n_points}
            return batch, body, last_id, cuts

    def seal_all(self, device_id: str, agent_version: str, max_points: int) -> list[int]:
        sealed = []
        while (seq := self.seal(device_id, agent_version, max_points)) is not None:
            sealed.append(seq)
        return sealed

    def pending(self) -> list[tuple[int, bytes]]:
        """Sealed batches, oldest first: what the uploader sends."""
        return [
            (int(s), bytes(b))
            for s, b in self._db.execute("SELECT seq, body FROM batches ORDER BY seq")
        ]

    def preview(self, device_id: str, agent_version: str, max_points: int) -> Batch | None:
        """The batch the unsealed readings would become, without sealing it."""
        self._db.execute("BEGIN")
        try:
            batch, last_id = self._build_batch(
                self._db,
                device_id,
                agent_version,
                int(self.meta("next_seq", "1")),
                max_points,
                int(time.time()),
            )
        finally:
            self._db.execute("ROLLBACK")
        # Cut as sealing cuts it, then through the wire format and back, so the
        # preview carries the quantised values the collector will receive.
        return decode_batch(encode_batch(conform(batch)[0])) if last_id else None

    def ack(self, seqs: Iterable[int]) -> int:
        with self._transaction() as db:
            cur = db.executemany("DELETE FROM batches WHERE seq=?", [(s,) for s in seqs])
            return cur.rowcount

    def stats(self) -> SpoolStats:
        db = self._db
        return SpoolStats(
            spool_id=self.meta("spool_id"),
            readings=db.execute("SELECT count(*) FROM readings").fetchone()[0],
            batches=db.execute("SELECT count(*) FROM batches").fetchone()[0],
            bytes=self.size_bytes(),
            max_bytes=self.max_bytes,
            dropped_points=self.meta_int("dropped_points"),
            next_seq=self.meta_int("next_seq", 1),
            set_aside=self.meta_int("set_aside"),
            added_points=self.meta_int("added_points"),
        )
